"""The shapes of the read answers (api.md) as msgspec structs, also documented in OpenAPI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

import msgspec

from app.domain.values import State, Value

ValidationState = State | Literal["unknown", "unknown_list"]


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


class HistoryOut(msgspec.Struct, kw_only=True):
    version: int
    changeset: str
    published_at: datetime
    name: str
    valid_from: date
    valid_to: date | None
    active: bool


class ValueDetailOut(ValueOut, kw_only=True):
    key: str
    version: int
    at: date
    history: list[HistoryOut]


class CodeListOut(msgspec.Struct, kw_only=True):
    key: str
    name: str
    description: str | None
    source: str | None
    attributes: dict[str, str]  # the list's attribute schema: name -> type
    version: int
    published_at: datetime
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


class CodeListSummary(msgspec.Struct, kw_only=True):
    key: str
    name: str
    description: str | None
    source: str | None
    attributes: dict[str, str]
    version: int
    published_at: datetime
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


class FieldChangeOut(msgspec.Struct):
    from_: Any = msgspec.field(name="from")
    to: Any = None


class ChangedValueOut(msgspec.Struct):
    code: str
    fields: dict[str, FieldChangeOut]


class DiffOut(msgspec.Struct, kw_only=True):
    key: str
    from_: int = msgspec.field(name="from")
    to: int
    at: date
    added: list[ValueOut]
    changed: list[ChangedValueOut]
