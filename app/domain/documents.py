"""The change-set document (changesets.md) as typed msgspec structs, and its decoding.

msgspec stops at the first structural error, so the document is decoded in two steps: the
header first, then every operation on its own, to report at least one error per operation,
each with its path (``changes[1].codes[2]``).
"""

from __future__ import annotations

import builtins
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
import msgspec.json
import msgspec.yaml
from msgspec import UNSET, Meta, UnsetType

from app.domain.errors import FieldError, InvalidDocument, from_msgspec

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_OPERATIONS = 10_000

# A code is served as a string and used in URLs and in comma-separated `include=` lists,
# hence no whitespace, commas or slashes.
Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^\s,/\x00-\x1f\x7f]+$")]
LIST_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ListKey = Annotated[str, Meta(min_length=1, max_length=64, pattern=LIST_KEY_PATTERN)]
CHANGESET_ID_PATTERN = r"^[A-Za-z0-9._-]{1,100}$"
ChangeSetId = Annotated[str, Meta(pattern=CHANGESET_ID_PATTERN)]
# Names are one line; longer texts may have line breaks and tabs but no other control characters
# (PostgreSQL cannot store NUL, and nothing else has a use in a code list).
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
_MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Name = Annotated[str, Meta(min_length=1, max_length=500, pattern=_ONE_LINE)]
Text = Annotated[str, Meta(max_length=5000, pattern=_MULTI_LINE)]
Label = Annotated[str, Meta(min_length=1, max_length=100, pattern=_ONE_LINE)]
Reason = Annotated[str, Meta(min_length=1, max_length=2000, pattern=_MULTI_LINE)]
SortOrder = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
# RFC 3339 with an offset: a moment, not a wall-clock time that depends on who reads it.
PublishAt = Annotated[
    datetime,
    Meta(tz=True, description="When to publish: an RFC 3339 timestamp with offset."),
]


class _Input(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class ValueSpec(_Input, frozen=True):
    """A value in an ``upsert``: creates it, or replaces the named fields of an existing one."""

    code: Code
    name: Name
    valid_from: date
    description: Text | UnsetType | None = UNSET
    valid_to: date | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    sort_order: SortOrder | UnsetType | None = UNSET
    parent: Code | UnsetType | None = UNSET
    replaced_by: list[Code] | UnsetType = UNSET
    attributes: dict[str, Any] | UnsetType = UNSET


class FieldPatch(_Input, frozen=True):
    """The fields a ``set`` patches on each listed value; absent fields are left alone."""

    name: Name | UnsetType = UNSET
    description: Text | UnsetType | None = UNSET
    valid_from: date | UnsetType = UNSET
    valid_to: date | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    sort_order: SortOrder | UnsetType | None = UNSET
    parent: Code | UnsetType | None = UNSET
    replaced_by: list[Code] | UnsetType = UNSET
    attributes: dict[str, Any] | UnsetType = UNSET


# The operations have a field called `list`, so inside them the type is `builtins.list`.
class CreateList(_Input, frozen=True, tag="create_list", tag_field="op"):
    list: ListKey
    name: Name
    description: Text | None = None
    # Where the values come from (a release note, a wiki page) or that they are illustrative.
    source: Text | None = None
    # name -> one of ATTRIBUTE_TYPES; checked while planning, so an error names the attribute.
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class UpdateList(_Input, frozen=True, tag="update_list", tag_field="op"):
    list: ListKey
    name: Name | UnsetType = UNSET
    description: Text | UnsetType | None = UNSET
    source: Text | UnsetType | None = UNSET


class Upsert(_Input, frozen=True, tag="upsert", tag_field="op"):
    list: ListKey
    values: Annotated[builtins.list[ValueSpec], Meta(min_length=1, max_length=MAX_OPERATIONS)]


class SetFields(_Input, frozen=True, tag="set", tag_field="op"):
    list: ListKey
    codes: Annotated[builtins.list[Code], Meta(min_length=1, max_length=MAX_OPERATIONS)]
    fields: FieldPatch


Operation = CreateList | UpdateList | Upsert | SetFields


class ChangeSetDocument(_Input, frozen=True):
    id: ChangeSetId
    reason: Reason
    changes: Annotated[list[Operation], Meta(min_length=1, max_length=MAX_OPERATIONS)]
    release: Label | None = None
    reference: Text | None = None
    # Unset when absent, so it is left out of the canonical bytes (and the content hash) of
    # every document that does not schedule itself.
    publish_at: PublishAt | UnsetType = UNSET

    def canonical_bytes(self) -> bytes:
        """The document as canonical JSON: equal content gives equal bytes, YAML or JSON."""
        return msgspec.json.encode(self, order="sorted")


class _Header(_Input, frozen=True):
    """The document without its operations, which are decoded one at a time."""

    id: ChangeSetId
    reason: Reason
    changes: Annotated[list[Any], Meta(min_length=1, max_length=MAX_OPERATIONS)]
    release: Label | None = None
    reference: Text | None = None
    publish_at: PublishAt | UnsetType = UNSET


def parse_document(raw: bytes, *, yaml: bool) -> ChangeSetDocument:
    """Decode and structurally validate a change-set document, or raise ``InvalidDocument``."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        size = len(raw) / (1024 * 1024)
        raise InvalidDocument([FieldError("", f"document is {size:.1f} MiB; the limit is 5 MiB")])
    try:  # a valid document in one go; an invalid one again, slowly, to find every error
        if yaml:
            return msgspec.yaml.decode(raw, type=ChangeSetDocument)
        return msgspec.json.decode(raw, type=ChangeSetDocument)
    except Exception:  # noqa: BLE001, S110 - reported below, with paths
        pass
    try:
        tree = msgspec.yaml.decode(raw) if yaml else msgspec.json.decode(raw)
    except Exception as exc:  # noqa: BLE001 - any parser failure is the document's fault
        kind = "YAML" if yaml else "JSON"
        raise InvalidDocument([FieldError("", f"malformed {kind}: {exc}")]) from None
    return convert_document(tree)


def convert_document(tree: Any) -> ChangeSetDocument:
    """Validate a decoded document tree, reporting one structural error per operation."""
    try:
        header = msgspec.convert(tree, _Header)
    except msgspec.ValidationError as exc:
        raise InvalidDocument([from_msgspec(exc, "")]) from None
    operations: list[Operation] = []
    errors: list[FieldError] = []
    for index, raw_operation in enumerate(header.changes):
        try:
            operations.append(msgspec.convert(raw_operation, Operation))
        except msgspec.ValidationError as exc:
            errors.append(from_msgspec(exc, f"changes[{index}]"))
    if errors:
        raise InvalidDocument(errors)
    return ChangeSetDocument(
        id=header.id,
        reason=header.reason,
        changes=operations,
        release=header.release,
        reference=header.reference,
        publish_at=header.publish_at,
    )
