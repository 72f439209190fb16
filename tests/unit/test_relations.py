"""Relations without I/O (issue 18): a row's state, check's verdicts, planning's errors and
warnings."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.domain.documents import convert_document
from app.domain.errors import InvalidDocument
from app.domain.planning import ListState
from app.domain.relation_planning import plan_all
from app.domain.relations import RelationInfo, RelationState, Row, verdict
from app.domain.values import Value

D = date


def row(**fields: Any) -> Row:
    return Row(**{"source": "10", "target": "13", "valid_from": D(2022, 1, 1), **fields})


def test_a_row_has_the_states_of_a_value_on_closed_open_dates() -> None:
    closed = row(valid_to=D(2025, 7, 1))
    assert closed.state_on(D(2021, 12, 31)) == "not_yet_valid"
    assert closed.state_on(D(2022, 1, 1)) == "in_effect"
    assert closed.state_on(D(2025, 6, 30)) == "in_effect"
    assert closed.state_on(D(2025, 7, 1)) == "ended"
    assert row(active=False).state_on(D(2023, 1, 1)) == "inactive"
    assert closed.state_changes() == (D(2022, 1, 1), D(2025, 7, 1))


def check(found: Row | None, day: date, qualifier: str | None = None, **states: Any) -> list[str]:
    return verdict(
        found,
        day,
        qualifier=qualifier,
        has_qualifiers=True,
        source_state=states.get("source", "selectable"),
        target_state=states.get("target", "selectable"),
    ).reasons


def test_check_gives_every_reason_that_applies() -> None:
    allowed = row(qualifiers=("none", "4", "5"))
    day = D(2023, 1, 1)
    assert check(allowed, day) == []
    assert check(allowed, day, "none") == []
    assert check(allowed, day, "5") == []
    assert check(allowed, day, "9") == ["qualifier_not_allowed"]
    assert check(None, day) == ["not_listed"]
    assert check(None, day, target="expired") == ["not_listed", "target_not_selectable"]
    late = row(active=False, valid_from=D(2024, 1, 1), qualifiers=("4",))
    assert check(late, day, "none", source="deactivated") == [
        "row_inactive",
        "row_not_yet_valid",
        "qualifier_not_allowed",
        "source_not_selectable",
    ]
    assert check(row(valid_to=D(2023, 1, 1), qualifiers=("4",)), day) == ["row_ended"]
    assert check(row(qualifiers=()), day) == ["qualifier_not_allowed"]  # no qualifier allowed


def test_a_relation_without_qualifiers_allows_only_the_question_without_one() -> None:
    found = row()
    plain = verdict(
        found, D(2023, 1, 1), qualifier=None, has_qualifiers=False,
        source_state="selectable", target_state="selectable",
    )  # fmt: skip
    assert plain.allowed


def lists() -> dict[str, ListState]:
    def of(key: str, *codes: str, **extra: Value) -> ListState:
        values = {code: Value(code=code, name=code, valid_from=D(2014, 1, 1)) for code in codes}
        return ListState(key=key, version=1, name=key, values={**values, **extra})

    late = Value(code="26", name="26", valid_from=D(2014, 1, 1), valid_to=D(2025, 7, 1))
    return {
        "fravaer": of("fravaer", "3", "10"),
        "kontaktgruppe": of("kontaktgruppe", "1", "13", **{"26": late}),
        "personkategori": of("personkategori", "4", "5"),
    }


def doc(*changes: dict[str, Any]) -> Any:
    return convert_document({"id": "t", "reason": "test", "changes": list(changes)})


CREATE = {
    "op": "create_relation",
    "relation": "r",
    "name": "R",
    "source_list": "fravaer",
    "target_list": "kontaktgruppe",
    "qualifier_list": "personkategori",
}


def test_planning_creates_a_relation_with_its_rows_and_warns_of_unselectable_values() -> None:
    planned = plan_all(
        doc(
            CREATE,
            {
                "op": "upsert_rows",
                "relation": "r",
                "rows": [
                    {
                        "source": "10",
                        "target": "13",
                        "qualifiers": ["5", "none", "4", "5"],
                        "valid_from": "2022-10-01",
                    },
                    {
                        "source": "10",
                        "target": "26",
                        "qualifiers": ["4"],
                        "valid_from": "2022-10-01",
                    },
                ],
            },
        ),
        lists(),
        {},
    )
    plan = planned.plan.relations["r"]
    assert (plan.created, plan.base_version, plan.new_version) == (True, 0, 1)
    assert [(r.source, r.target, r.qualifiers) for r in plan.added] == [
        ("10", "13", ("none", "4", "5")),
        ("10", "26", ("4",)),
    ]
    [warning] = planned.plan.warnings
    assert warning.path == "changes[1].rows[1]"
    assert "code '26' of list 'kontaktgruppe' is selectable only from 2014-01-01 to 2025-07-01" in (
        warning.message
    )


def errors_of(*changes: dict[str, Any], relations: Any = None) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocument) as raised:
        plan_all(doc(*changes), lists(), relations or {})
    return [(error.path, error.message) for error in raised.value.errors]


def test_planning_reports_every_error_with_its_path() -> None:
    found = errors_of(
        {**CREATE, "target_list": "nope"},
        {"op": "upsert_rows", "relation": "missing", "rows": [
            {"source": "1", "target": "1", "valid_from": "2022-01-01"}]},
    )  # fmt: skip
    assert found == [
        ("changes[0].target_list", "list 'nope' does not exist"),
        ("changes[1].relation", "relation 'missing' does not exist"),
    ]
    existing = {
        "r": RelationState(
            info=RelationInfo(
                key="r", name="R", source_list="fravaer", target_list="kontaktgruppe"
            ),
            version=1,
            rows={("10", "13"): row()},
        )
    }
    paths = [
        path
        for path, _ in errors_of(
            {
                "op": "upsert_rows",
                "relation": "r",
                "rows": [
                    {"source": "99", "target": "13", "valid_from": "2022-01-01"},
                    {
                        "source": "10",
                        "target": "13",
                        "qualifiers": ["4"],
                        "valid_from": "2022-01-01",
                    },
                    {
                        "source": "3",
                        "target": "1",
                        "valid_from": "2022-01-01",
                        "valid_to": "2022-01-01",
                    },
                    {"source": "3", "target": "1", "valid_from": "2022-01-01"},
                ],
            },
            {
                "op": "set_rows",
                "relation": "r",
                "pairs": [{"source": "3", "target": "13"}],
                "fields": {"active": False},
            },
            {"op": "update_relation", "relation": "r"},
            relations=existing,
        )
    ]
    assert paths == [
        "changes[0].rows[0].source",
        "changes[0].rows[1].qualifiers",
        "changes[0].rows[3]",
        "changes[0].rows[2].valid_to",
        "changes[1].pairs[0]",
        "changes[2]",
    ]
