"""The review rules without a database: which status an open change set settles in, and when
two plans do the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.planning import FieldChange, ListPlan, Plan, ValueChange
from app.domain.review import plan_effects, settled_status

NOW = datetime(2025, 12, 1, 12, tzinfo=UTC)


def test_settled_status() -> None:
    later, earlier = NOW + timedelta(days=7), NOW - timedelta(seconds=1)
    cases = [
        # approved_by, publish_at, require_approval -> status
        (None, None, True, "planned"),
        (None, later, True, "planned"),  # may not be published yet: not scheduled
        ("bo", None, True, "approved"),
        ("bo", later, True, "scheduled"),
        # A publish_at already past schedules too: the scheduler publishes it at once.
        ("bo", earlier, True, "scheduled"),
        (None, earlier, True, "planned"),
        (None, None, False, "planned"),
        (None, later, False, "scheduled"),  # submitted, and no approval needed
        (None, earlier, False, "scheduled"),
        ("bo", None, False, "approved"),
    ]
    for approved_by, publish_at, required, expected in cases:
        status = settled_status(
            approved_by=approved_by, publish_at=publish_at, require_approval=required
        )
        assert status == expected, (approved_by, publish_at, required)


def _plan(base: int, name_from: str) -> Plan:
    change = ValueChange(
        "10", "Ferie og fridage", {"name": FieldChange(name_from, "Ferie og fridage")}
    )
    return Plan({"fravaer": ListPlan(base_version=base, new_version=base + 1, changed=[change])})


def test_a_new_base_version_alone_does_not_change_what_a_plan_does() -> None:
    assert plan_effects(_plan(3, "Ferie")) == plan_effects(_plan(7, "Ferie"))
    assert plan_effects(_plan(3, "Ferie")) != plan_effects(_plan(3, "Fri"))
    assert plan_effects(_plan(3, "Ferie")) != plan_effects(Plan({}))
