"""A code-list value and its state on a date.

The validity interval is closed-open: a value is valid on ``valid_from`` and no longer valid on
``valid_to``. The active flag and the validity dates are combined here, once, so every consumer
gets the same answer to "may this value be chosen on date D?".
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Literal

import msgspec

from app.domain.collation import danish_sort_key

State = Literal["deactivated", "not_yet_valid", "expired", "selectable"]

# The fields an administrator can set on a value, in the order diffs and plans show them.
VALUE_FIELDS = (
    "name",
    "description",
    "valid_from",
    "valid_to",
    "active",
    "sort_order",
    "parent",
    "replaced_by",
    "attributes",
)


class Value(msgspec.Struct, frozen=True, kw_only=True):
    """One value of a list as published in one list version."""

    code: str
    name: str
    valid_from: date
    description: str | None = None
    valid_to: date | None = None
    active: bool = True
    sort_order: int | None = None
    parent: str | None = None
    replaced_by: tuple[str, ...] = ()
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)

    def state_on(self, day: date) -> State:
        """The state on ``day``: the first rule of api.md "Time and validity" that matches."""
        if not self.active:
            return "deactivated"
        if day < self.valid_from:
            return "not_yet_valid"
        if self.valid_to is not None and day >= self.valid_to:
            return "expired"
        return "selectable"

    def selectable_on(self, day: date) -> bool:
        return self.state_on(day) == "selectable"

    def state_changes(self) -> tuple[date, ...]:
        """The dates on which this value's state changes. A deactivated value never changes."""
        if not self.active:
            return ()
        if self.valid_to is None:
            return (self.valid_from,)
        return (self.valid_from, self.valid_to)


def state_change_dates(values: Iterable[Value]) -> tuple[date, ...]:
    """Every date on which the state of at least one of ``values`` changes, ascending."""
    return tuple(sorted({day for value in values for day in value.state_changes()}))


def next_state_change(change_dates: Sequence[date], after: date) -> date | None:
    """The first date strictly after ``after`` on which a state changes, if any."""
    index = bisect.bisect_right(change_dates, after)
    return change_dates[index] if index < len(change_dates) else None


def last_state_change(change_dates: Sequence[date], on_or_before: date) -> date | None:
    """The latest date on or before ``on_or_before`` on which a state changed, if any."""
    index = bisect.bisect_right(change_dates, on_or_before)
    return change_dates[index - 1] if index else None


def code_order(code: str) -> tuple[int, int, str]:
    """Numeric codes in numeric order ("9" before "10"), other codes after them as text."""
    return (0, int(code), code) if code.isdecimal() else (1, 0, code)


def option_order_key(value: Value) -> tuple[Any, ...]:
    """Order of options: ``sort_order`` (unset last), then Danish name order, then code."""
    unset = value.sort_order is None
    return (unset, value.sort_order or 0, danish_sort_key(value.name), code_order(value.code))


def in_option_order(values: Iterable[Value]) -> list[Value]:
    return sorted(values, key=option_order_key)


def changed_fields(before: Value, after: Value) -> dict[str, tuple[Any, Any]]:
    """Field name -> (from, to) for every field that differs."""
    return {
        field: (getattr(before, field), getattr(after, field))
        for field in VALUE_FIELDS
        if getattr(before, field) != getattr(after, field)
    }
