"""The shapes of the read answers (api.md) as msgspec structs, also documented in OpenAPI.

These are the wire schemas: the server encodes them and the mirror client (``app.mirror``)
decodes them, so both sides agree by construction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from app.domain.planning import FieldChange
from app.domain.values import State, Value
from app.wire import ListMetadata, Revision

if TYPE_CHECKING:
    from app.store.queries import HistoryEntry

ValidationState = State | Literal["unknown", "unknown_list", "unknown_version"]


class ValueOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    description: str | None
    valid_from: date
    valid_to: date | None
    active: bool
    state: State
    selectable: bool
    sort_order: int | None
    parent: str | None
    replaced_by: list[str]
    attributes: dict[str, Any]

    @classmethod
    def of(cls, value: Value, day: date) -> ValueOut:
        state = value.state_on(day)
        return cls(
            code=value.code,
            name=value.name,
            description=value.description,
            valid_from=value.valid_from,
            valid_to=value.valid_to,
            active=value.active,
            state=state,
            selectable=state == "selectable",
            sort_order=value.sort_order,
            parent=value.parent,
            replaced_by=list(value.replaced_by),
            attributes=value.attributes,
        )


class HistoryOut(Revision, kw_only=True):
    """One entry of a value's history (api.md: GET /v1/codelists/{key}/values/{code})."""

    @classmethod
    def of_entry(cls, entry: HistoryEntry) -> HistoryOut:
        """The value's fields as of ``entry``'s version, with that version's publish."""
        return cls.of(
            entry.value,
            version=entry.version,
            changeset=entry.changeset,
            published_at=entry.published_at,
        )


class ValueDetailOut(ValueOut, kw_only=True):
    key: str
    version: int
    at: date
    history: list[HistoryOut]


class CodeListOut(ListMetadata, kw_only=True):
    at: date
    values: list[ValueOut]


class OptionOut(msgspec.Struct):
    code: str
    name: str
    selectable: bool


class OptionsOut(msgspec.Struct, kw_only=True):
    key: str
    version: int
    at: date
    options: list[OptionOut]


class CodeListSummary(ListMetadata, kw_only=True):
    value_count: int


class CodeListsOut(msgspec.Struct):
    codelists: list[CodeListSummary]


class ValidationOut(msgspec.Struct, kw_only=True):
    key: str
    code: str
    at: date
    valid: bool
    state: ValidationState
    name: str | None
    replaced_by: list[str]
    message: str


class ValidationsOut(msgspec.Struct):
    results: list[ValidationOut]


class VersionOut(msgspec.Struct, kw_only=True):
    version: int
    published_at: datetime
    changeset: str
    release: str | None
    reason: str
    added: int
    changed: int
    deactivated: int
    reactivated: int


class VersionsOut(msgspec.Struct, kw_only=True):
    key: str
    versions: list[VersionOut]


class ChangedValueOut(msgspec.Struct):
    code: str
    fields: dict[str, FieldChange]  # the same from/to as a change set's plan


class DiffOut(msgspec.Struct, kw_only=True):
    key: str
    from_: int = msgspec.field(name="from")
    to: int
    at: date
    added: list[ValueOut]
    changed: list[ChangedValueOut]
