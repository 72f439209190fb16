"""A relation between two lists, its rows, and the verdicts of ``check`` (issue 18).

A relation joins a *source* list to a *target* list, optionally with a *qualifier* list (STAR's
person category in the matrix "Fravær - Kontaktgruppe - Personkategori"). It has one row per
(source code, target code) pair: the allowed qualifiers, ``active`` and closed-open
``valid_from``/``valid_to``, exactly like a value (values.py). A pair not listed is not allowed
(STAR's blank cell); ``NO_QUALIFIER`` in a row's qualifiers allows the pair without a qualifier
(STAR's ``null``). Rows are never deleted, only closed or set inactive.

Pure rules, no I/O: a row's state on a date, the dates on which it changes, and the verdict of
"may source S go with target T (and qualifier Q) on date D?".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Literal

import msgspec

from app.domain.values import State as ValueState
from app.domain.values import code_order

NO_QUALIFIER = "none"  # STAR's null: allowed without a qualifier

RowState = Literal["inactive", "not_yet_valid", "ended", "in_effect"]
Reason = Literal[
    "not_listed",
    "row_inactive",
    "row_not_yet_valid",
    "row_ended",
    "qualifier_not_allowed",
    "source_not_selectable",
    "target_not_selectable",
]
# The fields of a row an administrator sets, in the order diffs and plans show them.
ROW_FIELDS = ("qualifiers", "valid_from", "valid_to", "active")
RELATION_FIELDS = ("name", "description", "source")

PairKey = tuple[str, str]  # (source code, target code)


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One (source, target) pair of a relation as published in one relation version.

    ``qualifiers`` are sorted qualifier codes (code order), ``NO_QUALIFIER`` among them when
    the pair is allowed without one; empty for a relation without a qualifier list.
    """

    source: str
    target: str
    valid_from: date
    valid_to: date | None = None
    active: bool = True
    qualifiers: tuple[str, ...] = ()

    @property
    def pair(self) -> PairKey:
        return (self.source, self.target)

    def state_on(self, day: date) -> RowState:
        """The state on ``day``; the first that applies, in the order of values.py."""
        if not self.active:
            return "inactive"
        if day < self.valid_from:
            return "not_yet_valid"
        if self.valid_to is not None and day >= self.valid_to:
            return "ended"
        return "in_effect"

    def in_effect_on(self, day: date) -> bool:
        return self.state_on(day) == "in_effect"

    def state_changes(self) -> tuple[date, ...]:
        """The dates on which this row's state changes; an inactive row never changes."""
        if not self.active:
            return ()
        if self.valid_to is None:
            return (self.valid_from,)
        return (self.valid_from, self.valid_to)


def qualifier_order(qualifiers: Iterable[str]) -> tuple[str, ...]:
    """``qualifiers`` once each, ``NO_QUALIFIER`` first, then in code order."""
    unique = set(qualifiers)
    rest = sorted(unique - {NO_QUALIFIER}, key=code_order)
    return (NO_QUALIFIER, *rest) if NO_QUALIFIER in unique else tuple(rest)


class RelationInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A relation's metadata as of one version."""

    key: str
    name: str
    description: str | None = None
    source: str | None = None  # the note saying where the rows come from
    source_list: str
    target_list: str
    qualifier_list: str | None = None

    def joins(self, one: str, other: str) -> bool:
        """True if this relation joins lists ``one`` and ``other``, in either direction."""
        return {self.source_list, self.target_list} == {one, other} or (
            self.source_list == self.target_list == one == other
        )


class RelationState(msgspec.Struct, kw_only=True):
    """A relation as of one version: what planning reads and what publishing writes."""

    info: RelationInfo
    version: int
    rows: dict[PairKey, Row] = msgspec.field(default_factory=dict)


def row_change_dates(rows: Iterable[Row]) -> set[date]:
    return {day for row in rows for day in row.state_changes()}


def row_reasons(row: Row | None, day: date) -> list[Reason]:
    """Why ``row`` does not allow its pair on ``day``: ``not_listed`` for no row, else every
    one of ``row_inactive``, ``row_not_yet_valid``, ``row_ended`` that applies."""
    if row is None:
        return ["not_listed"]
    reasons: list[Reason] = []
    if not row.active:
        reasons.append("row_inactive")
    if day < row.valid_from:
        reasons.append("row_not_yet_valid")
    if row.valid_to is not None and day >= row.valid_to:
        reasons.append("row_ended")
    return reasons


def qualifier_allowed(row: Row, qualifier: str | None, *, has_qualifiers: bool) -> bool:
    """May ``row`` be used with ``qualifier``?

    ``qualifier`` None asks "with some qualifier or none" (any allowed at all), ``NO_QUALIFIER``
    "without a qualifier", a code "with that code". A relation without a qualifier list allows
    a row with no qualifier asked only.
    """
    if not has_qualifiers:
        return qualifier is None
    if qualifier is None:
        return bool(row.qualifiers)
    return qualifier in row.qualifiers


class Verdict(msgspec.Struct, frozen=True):
    """The answer of ``check``: allowed, and every reason it is not (empty when allowed)."""

    allowed: bool
    reasons: list[Reason]


def verdict(
    row: Row | None,
    day: date,
    *,
    qualifier: str | None,
    has_qualifiers: bool,
    source_state: ValueState | Literal["unknown"],
    target_state: ValueState | Literal["unknown"],
) -> Verdict:
    """May the pair of ``row`` go together on ``day`` with ``qualifier``?

    Every reason that applies, in this order: the row's (``row_reasons``), then
    ``qualifier_not_allowed`` (a listed row whose qualifiers do not take ``qualifier``), then
    ``source_not_selectable`` and ``target_not_selectable`` for a value whose state on ``day``
    (values.py, as ``/options`` computes it) is not ``selectable`` or that does not exist.
    """
    reasons = row_reasons(row, day)
    if row is not None and not qualifier_allowed(row, qualifier, has_qualifiers=has_qualifiers):
        reasons.append("qualifier_not_allowed")
    if source_state != "selectable":
        reasons.append("source_not_selectable")
    if target_state != "selectable":
        reasons.append("target_not_selectable")
    return Verdict(allowed=not reasons, reasons=reasons)


def row_fields(row: Row) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ROW_FIELDS}


def changed_row_fields(before: Row, after: Row) -> dict[str, tuple[Any, Any]]:
    """Field name -> (from, to) for every row field that differs."""
    return {
        name: (getattr(before, name), getattr(after, name))
        for name in ROW_FIELDS
        if getattr(before, name) != getattr(after, name)
    }


def pair_order(pair: PairKey) -> tuple[Any, ...]:
    return (code_order(pair[0]), code_order(pair[1]))


def rows_by_source(rows: Mapping[PairKey, Row]) -> dict[str, dict[str, Row]]:
    """source code -> target code -> row."""
    found: dict[str, dict[str, Row]] = {}
    for (source, target), row in rows.items():
        found.setdefault(source, {})[target] = row
    return found
