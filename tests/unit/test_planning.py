"""Planning: every rule of changesets.md, all errors at once, and the diff a publish would make."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.domain.documents import convert_document
from app.domain.errors import InvalidDocument
from app.domain.planning import (
    ListState,
    PlannedList,
    effective_date,
    plan_changeset,
)
from app.domain.values import Value

D = date(2014, 1, 1)


def state(key: str = "fravaer", version: int = 3, **extra: Any) -> ListState:
    values = {
        code: Value(code=code, name=f"Værdi {code}", valid_from=D)
        for code in ("1", "59", "60", "62")
    }
    return ListState(key=key, version=version, name="Fravær", values=values, **extra)


def plan(
    *changes: dict[str, Any], current: dict[str, ListState] | None = None
) -> dict[str, PlannedList]:
    document = convert_document({"id": "cs", "reason": "test", "changes": list(changes)})
    return plan_changeset(document, {"fravaer": state()} if current is None else current)


def errors(
    *changes: dict[str, Any], current: dict[str, ListState] | None = None
) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocument) as caught:
        plan(*changes, current=current)
    return [(e.path, e.message) for e in caught.value.errors]


def test_deactivating_values_plans_one_new_version() -> None:
    planned = plan(
        {"op": "set", "list": "fravaer", "codes": ["59", "60"], "fields": {"active": False}}
    )
    result = planned["fravaer"].plan
    assert (result.base_version, result.new_version) == (3, 4)
    assert [c.code for c in result.deactivated] == ["59", "60"]
    assert result.deactivated[0].fields["active"].from_ is True
    assert result.deactivated[0].fields["active"].to is False
    assert result.changed == result.added == result.reactivated == []
    assert [t.kind for t in planned["fravaer"].transitions] == ["deactivated", "deactivated"]


def test_a_change_set_that_changes_nothing_plans_no_version() -> None:
    assert plan({"op": "set", "list": "fravaer", "codes": ["59"], "fields": {"active": True}}) == {}


def test_upsert_creates_and_replaces_only_named_fields() -> None:
    current = state()
    current.values["59"] = Value(
        code="59", name="Gammel", valid_from=D, sort_order=59, description="x"
    )
    planned = plan(
        {
            "op": "upsert",
            "list": "fravaer",
            "values": [
                {"code": "59", "name": "Ny", "valid_from": "2014-01-01"},
                {"code": "70", "name": "Helt ny", "valid_from": "2026-01-01", "active": False},
            ],
        },
        current={"fravaer": current},
    )
    after = planned["fravaer"].after.values
    assert after["59"] == Value(code="59", name="Ny", valid_from=D, sort_order=59, description="x")
    assert after["70"].active is False
    result = planned["fravaer"].plan
    assert [v.code for v in result.added] == ["70"]
    assert [(c.code, list(c.fields)) for c in result.changed] == [("59", ["name"])]


def test_reactivation_is_its_own_kind() -> None:
    current = state()
    current.values["59"] = Value(code="59", name="x", valid_from=D, active=False)
    planned = plan(
        {"op": "set", "list": "fravaer", "codes": ["59"], "fields": {"active": True}},
        current={"fravaer": current},
    )
    assert [c.code for c in planned["fravaer"].plan.reactivated] == ["59"]


def test_every_rule_error_is_reported_together_with_its_path() -> None:
    found = errors(
        {"op": "set", "list": "nope", "codes": ["1"], "fields": {"active": False}},
        {"op": "set", "list": "fravaer", "codes": ["59", "27"], "fields": {"active": False}},
        {
            "op": "upsert",
            "list": "fravaer",
            "values": [
                {"code": "80", "name": "a", "valid_from": "2025-01-01"},
                {"code": "80", "name": "b", "valid_from": "2025-01-01"},
            ],
        },
        {"op": "set", "list": "fravaer", "codes": ["60"], "fields": {"valid_to": "2014-01-01"}},
        {
            "op": "set",
            "list": "fravaer",
            "codes": ["62"],
            "fields": {"parent": "999", "replaced_by": ["998"]},
        },
        {
            "op": "set",
            "list": "fravaer",
            "codes": ["1"],
            "fields": {"attributes": {"period": "P6Y"}},
        },
        {"op": "create_list", "list": "fravaer", "name": "Igen"},
    )
    assert found == [
        ("changes[0].list", "list 'nope' does not exist"),
        ("changes[1].codes[1]", "code '27' does not exist in list 'fravaer'"),
        ("changes[2].values[1].code", "code '80' appears twice in this upsert"),
        ("changes[5].fields.attributes.period", "unknown attribute 'period' (this list has: none)"),
        ("changes[6].list", "list 'fravaer' already exists"),
        (
            "changes[3].fields.valid_to",
            "valid_to 2014-01-01 of code '60' must be after valid_from 2014-01-01",
        ),
        ("changes[4].fields.parent", "parent '999' of code '62' does not exist in list 'fravaer'"),
        (
            "changes[4].fields.replaced_by",
            "successor '998' of code '62' does not exist in list 'fravaer'",
        ),
    ]


def test_a_list_created_earlier_in_the_document_can_be_used() -> None:
    planned = plan(
        {
            "op": "create_list",
            "list": "slettepolitik",
            "name": "Slettepolitik",
            "attributes": {"retention_period": "duration", "counted_from": "string"},
        },
        {
            "op": "upsert",
            "list": "slettepolitik",
            "values": [
                {
                    "code": "1",
                    "name": "Joblog",
                    "valid_from": "2025-12-08",
                    "attributes": {"retention_period": "P4Y", "counted_from": "seneste opdatering"},
                }
            ],
        },
        current={},
    )
    result = planned["slettepolitik"]
    assert result.plan.created and result.plan.new_version == 1
    assert result.after.values["1"].attributes == {
        "counted_from": "seneste opdatering",
        "retention_period": "P4Y",
    }


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("duration", "P1Y6M", "6 years"),
        ("duration", "PT12H", "P"),
        ("integer", 6, True),
        ("boolean", False, "no"),
        ("date", "2025-07-01", "2025-02-30"),
        ("string", "x", 5),
    ],
)
def test_attribute_types_are_enforced(kind: str, good: object, bad: object) -> None:
    create = {"op": "create_list", "list": "ny", "name": "Ny", "attributes": {"a": kind}}

    def upsert(attribute: object) -> dict[str, Any]:
        value = {
            "code": "1",
            "name": "x",
            "valid_from": "2025-01-01",
            "attributes": {"a": attribute},
        }
        return {"op": "upsert", "list": "ny", "values": [value]}

    assert plan(create, upsert(good), current={})["ny"].after.values["1"].attributes["a"] == good
    assert errors(create, upsert(bad), current={})[0][0] == "changes[1].values[0].attributes.a"


def test_malformed_attribute_schema_names_the_attribute() -> None:
    create = {
        "op": "create_list",
        "list": "ny",
        "name": "Ny",
        "attributes": {"a": "money", "B": "string"},
    }
    assert [path for path, _ in errors(create, current={})] == [
        "changes[0].attributes.a",
        "changes[0].attributes.B",
    ]


def test_parent_cycles_are_refused() -> None:
    found = errors(
        {"op": "set", "list": "fravaer", "codes": ["59"], "fields": {"parent": "60"}},
        {"op": "set", "list": "fravaer", "codes": ["60"], "fields": {"parent": "59"}},
    )
    assert ("changes[1].fields.parent", "the parents of code '60' form a cycle") in found


def test_successor_may_be_created_in_the_same_change_set() -> None:
    planned = plan(
        {"op": "set", "list": "fravaer", "codes": ["59"], "fields": {"replaced_by": ["90"]}},
        {
            "op": "upsert",
            "list": "fravaer",
            "values": [{"code": "90", "name": "Ny", "valid_from": "2025-07-01"}],
        },
    )
    assert planned["fravaer"].after.values["59"].replaced_by == ("90",)


def test_metadata_change_alone_makes_a_version() -> None:
    planned = plan({"op": "update_list", "list": "fravaer", "name": "Fraværsårsager"})
    assert planned["fravaer"].plan.list_fields["name"].to == "Fraværsårsager"
    assert planned["fravaer"].transitions == []


def test_effective_date_is_when_the_change_bites() -> None:
    before = Value(code="59", name="x", valid_from=D)
    published = date(2025, 6, 15)
    retire = Value(code="59", name="x", valid_from=D, valid_to=date(2025, 7, 1))
    assert effective_date(before, retire, published) == date(2025, 7, 1)
    assert (
        effective_date(
            retire,
            Value(code="59", name="x", valid_from=D, valid_to=date(2025, 7, 1), active=False),
            published,
        )
        == published
    )
    assert effective_date(None, before, published) == D
    assert effective_date(before, Value(code="59", name="y", valid_from=D), published) == published
