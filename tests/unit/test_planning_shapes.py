"""Planning's verdicts on the hardest documents to plan, near 5 MiB (bench/shapes.py; issue 21
item 2): every rule that looks at more than one value is linear in the document, so these
are judged in seconds (``python -m bench.planning`` times them); a quadratic rule would run
for hours and stop at the suite's timeout."""

from __future__ import annotations

import pytest

from app.domain.documents import convert_document
from app.domain.errors import InvalidDocument
from app.domain.planning import PlannedList, plan_changeset
from bench.shapes import LIST, MAX_BYTES, PER_UPSERT, SHAPES, Shape

# Seconds each on an idle machine; minutes when it is shared and loaded. A quadratic rule on
# the stored chain or the set's successors would take hours.
pytestmark = pytest.mark.timeout(600)


def planned(shape: Shape) -> dict[str, PlannedList]:
    return plan_changeset(convert_document(shape.document), shape.current)


def refused(shape: Shape) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocument) as caught:
        planned(shape)
    return [(error.path, error.message) for error in caught.value.errors]


def values_of(shape: Shape) -> list[dict[str, object]]:
    return [value for change in shape.document["changes"] for value in change["values"]]


def test_a_chain_of_fifty_thousand_parents_plans() -> None:
    shape = SHAPES["parent_chain"](MAX_BYTES)
    count = len(values_of(shape))
    assert count > 50_000
    plan = planned(shape)[LIST].plan
    assert len(plan.added) == count


@pytest.mark.parametrize("name", ["parent_cycle", "cycle_tail"])
def test_every_value_whose_parents_run_into_a_cycle_is_named(name: str) -> None:
    shape = SHAPES[name](MAX_BYTES)
    errors = refused(shape)
    assert len(errors) == len(values_of(shape))
    assert errors[0] == ("changes[0].values[0].parent", "the parents of code 'v0' form a cycle")
    assert all(message.endswith("form a cycle") for _, message in errors)


def test_the_deepest_values_of_a_long_stored_chain_are_set() -> None:
    shape = SHAPES["deep_existing_chain"](MAX_BYTES)
    plan = planned(shape)[LIST].plan
    assert len(plan.changed) == PER_UPSERT
    assert {change.fields["sort_order"].to for change in plan.changed} == {1}


def test_fifty_thousand_values_under_one_parent_plan() -> None:
    shape = SHAPES["wide_level"](MAX_BYTES)
    plan = planned(shape)[LIST].plan
    assert len(plan.added) == len(values_of(shape)) > 50_000
    assert {value.parent for value in plan.added} == {None, "v0"}


def test_a_chain_of_successors_plans() -> None:
    shape = SHAPES["successor_chain"](MAX_BYTES)
    plan = planned(shape)[LIST].plan
    assert len(plan.added) == len(values_of(shape)) > 50_000
    assert plan.added[0].replaced_by == ("v1",)


def test_a_code_given_eighty_thousand_times_is_an_error_each_time_but_once_an_upsert() -> None:
    shape = SHAPES["duplicates"](MAX_BYTES)
    errors = refused(shape)
    assert len(errors) == len(values_of(shape)) - len(shape.document["changes"])
    assert errors[0] == ("changes[0].values[1].code", "code 'v0' appears twice in this upsert")


def test_a_set_giving_many_values_many_successors_is_over_the_limit() -> None:
    shape = SHAPES["set_successors"](MAX_BYTES)
    [(path, message)] = refused(shape)
    assert path == "changes[0].codes"
    assert message.endswith("the limit is 20 MiB (20971520 bytes)")


def test_ten_thousand_sets_on_one_list_plan() -> None:
    shape = SHAPES["many_sets"](MAX_BYTES)
    plan = planned(shape)[LIST].plan
    assert len(plan.changed) == 10_000  # every code of the list, by the last set naming it


def test_thousands_of_new_lists_plan() -> None:
    shape = SHAPES["many_lists"](MAX_BYTES)
    result = planned(shape)
    assert len(result) == len(shape.document["changes"]) // 2 > 2_000
    assert all(len(item.plan.added) == 20 for item in result.values())
