"""The shapes on the wire that the server writes and the mirror client reads.

One definition for both sides (api.md "Read endpoints" and "Sync endpoints"): the server
encodes these structs and ``app.mirror`` decodes its answers into the same ones, so a field
renamed or retyped here changes both at once. Plain msgspec structs, no I/O.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, Self, TypeVar

import msgspec

from app.domain.values import Value

ChangeKind = Literal["created", "updated", "deactivated", "reactivated"]
# A change's value: the stored JSON text on the server (``msgspec.Raw``, passed through
# without decoding), a decoded ``Value`` in the mirror.
V = TypeVar("V")


class ListMetadata(msgspec.Struct, kw_only=True):
    """The fields every answer describing a list starts with (index, list, export)."""

    key: str
    name: str
    description: str | None
    source: str | None
    attributes: dict[str, str]  # the list's attribute schema: name -> type
    version: int
    published_at: datetime


class Revision(msgspec.Struct, kw_only=True):
    """A value's fields as one list version published them (its history, oldest first)."""

    version: int
    changeset: str
    published_at: datetime
    name: str
    valid_from: date
    valid_to: date | None
    active: bool

    @classmethod
    def of(cls, value: Value, *, version: int, changeset: str, published_at: datetime) -> Self:
        """``value`` as list version ``version`` (made by ``changeset``) published it."""
        return cls(
            version=version,
            changeset=changeset,
            published_at=published_at,
            name=value.name,
            valid_from=value.valid_from,
            valid_to=value.valid_to,
            active=value.active,
        )


class ExportedValue(Value, frozen=True, kw_only=True):
    """A value as it is now, with every revision (``GET /v1/export``)."""

    history: list[Revision]


class ExportedList(ListMetadata, kw_only=True):
    values: list[ExportedValue]


class Export(msgspec.Struct):
    """Every list, value and history, and the feed ``seq`` they match (``GET /v1/export``)."""

    seq: int
    codelists: list[ExportedList]


class Change(msgspec.Struct, Generic[V], kw_only=True):
    """One change-feed entry (``GET /v1/changes``)."""

    seq: int
    list: str
    code: str
    kind: ChangeKind
    version: int
    changeset: str
    published_at: datetime
    effective_date: date
    value: V  # the value after the change
    previous: V | None  # before it; null when created


class ChangesPage(msgspec.Struct, Generic[V], kw_only=True):
    """A page of the change feed, and the cursor to go on from."""

    changes: list[Change[V]]
    next_after: int
    has_more: bool
