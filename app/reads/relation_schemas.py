"""The shapes of the relation read answers (issue 18), also documented in OpenAPI."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from app.domain.relations import Reason, Row, RowState


class RelationMetadata(msgspec.Struct, kw_only=True):
    """The fields every answer describing a relation starts with."""

    key: str
    name: str
    description: str | None
    source: str | None  # where the rows come from
    source_list: str
    target_list: str
    qualifier_list: str | None
    version: int
    published_at: datetime


class RelationSummary(RelationMetadata, kw_only=True):
    row_count: int


class RelationsOut(msgspec.Struct):
    relations: list[RelationSummary]


class RowOut(msgspec.Struct, kw_only=True):
    source: str
    target: str
    qualifiers: list[str]  # "none": allowed without a qualifier
    valid_from: date
    valid_to: date | None
    active: bool
    state: RowState

    @classmethod
    def of(cls, row: Row, day: date) -> RowOut:
        return cls(
            source=row.source,
            target=row.target,
            qualifiers=list(row.qualifiers),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            active=row.active,
            state=row.state_on(day),
        )


class RelationOut(RelationMetadata, kw_only=True):
    at: date
    rows: list[RowOut]


class CheckOut(msgspec.Struct, kw_only=True):
    """May ``source`` go with ``target`` (and ``qualifier``) on ``at``? Every reason it may
    not, empty when allowed; ``row`` is the pair's row, or null when not listed."""

    allowed: bool
    reasons: list[Reason]
    row: RowOut | None
    relation: str
    version: int
    at: date
    source: str
    target: str
    qualifier: str | None


class MatrixCode(msgspec.Struct):
    code: str
    name: str
    selectable: bool  # false: marked, not selectable on the date


class MatrixOut(msgspec.Struct, kw_only=True):
    """The whole table on a date: ``sources`` down, ``targets`` across; ``cells[i][j]`` holds
    the allowed qualifiers of the row of ``sources[i]`` and ``targets[j]`` in effect on the
    date (an empty list for a relation without a qualifier list), else null."""

    key: str
    version: int
    at: date
    source_list: str
    target_list: str
    qualifier_list: str | None
    sources: list[MatrixCode]
    targets: list[MatrixCode]
    cells: list[list[list[str] | None]]
