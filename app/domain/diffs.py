"""The plan of a change set: per list, the diff between two states of its values.

Made by planning.py; stored with the change set, shown by the console and the command line, and
used by publishing for the change feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

import msgspec

from app.domain.values import Value, changed_fields, code_order

ChangeKind = Literal["created", "updated", "deactivated", "reactivated"]


class FieldChange(msgspec.Struct, frozen=True):
    from_: Any = msgspec.field(name="from")
    to: Any = None


class ValueChange(msgspec.Struct, frozen=True):
    code: str
    name: str
    fields: dict[str, FieldChange]


class ListPlan(msgspec.Struct, kw_only=True):
    base_version: int
    new_version: int
    created: bool = False
    list_fields: dict[str, FieldChange] = msgspec.field(default_factory=dict)
    added: list[Value] = msgspec.field(default_factory=list)
    changed: list[ValueChange] = msgspec.field(default_factory=list)
    deactivated: list[ValueChange] = msgspec.field(default_factory=list)
    reactivated: list[ValueChange] = msgspec.field(default_factory=list)


class Plan(msgspec.Struct):
    lists: dict[str, ListPlan]


class ValueTransition(msgspec.Struct, frozen=True):
    """One value's change in a publish: one change-feed entry."""

    kind: ChangeKind
    before: Value | None
    after: Value


def classify(before: Value | None, after: Value) -> ChangeKind:
    if before is None:
        return "created"
    if before.active and not after.active:
        return "deactivated"
    if not before.active and after.active:
        return "reactivated"
    return "updated"


def effective_date(before: Value | None, after: Value, published_on: date) -> date:
    """The date a change bites: a new ``valid_from``/``valid_to`` where that is what changed."""
    if before is None:
        return after.valid_from
    moved: list[date] = []
    if before.valid_from != after.valid_from:
        moved.append(after.valid_from)
    if before.valid_to != after.valid_to and after.valid_to is not None:
        moved.append(after.valid_to)
    return min(moved) if moved else published_on


def diff_lists(before: Mapping[str, Value], after: Mapping[str, Value]) -> ListPlan:
    """Added and changed values between two states of a list (values are never removed), in
    code order."""
    plan = ListPlan(base_version=0, new_version=0)
    different = [value for code, value in after.items() if before.get(code) != value]
    for value in sorted(different, key=lambda value: code_order(value.code)):
        previous = before.get(value.code)
        if previous is None:
            plan.added.append(value)
            continue
        fields = changed_fields(previous, value)
        if not fields:
            continue
        change = ValueChange(
            code=value.code,
            name=value.name,
            fields={name: FieldChange(old, new) for name, (old, new) in fields.items()},
        )
        {
            "updated": plan.changed,
            "deactivated": plan.deactivated,
            "reactivated": plan.reactivated,
        }[classify(previous, value)].append(change)
    return plan
