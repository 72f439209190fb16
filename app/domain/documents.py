"""The change-set document (changesets.md) as typed msgspec structs, and its decoding.

Decoding finds the structural errors (changesets.md, "Validation"): keys given twice (found by
parsing.py), unknown keys, wrong types, dates that are not dates. msgspec stops at the first
error, so a document is converted piece by piece: every header field on its own, then every
operation on its own, to report each header error and at least one error per operation, all
together, each with its path (``changes[1].codes[2]``). Length limits are rule
errors, checked while planning (limits.py).
"""

from __future__ import annotations

import builtins
import contextlib
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
import msgspec.json
from msgspec import UNSET, Meta, UnsetType

from app.domain.errors import FieldError, InvalidDocument, from_msgspec, in_document_order
from app.domain.limits import MAX_DOCUMENT_BYTES, Limit
from app.domain.parsing import load_json, load_yaml

__all__ = ["MAX_DOCUMENT_BYTES", "ChangeSetDocument", "convert_document", "parse_document"]

MAX_OPERATIONS = 10_000

# A code is served as a string and used in URLs and in comma-separated `include=` lists,
# hence no whitespace, commas or slashes. \s differs between regex engines (U+0085 is white
# space to Python's re only, U+FEFF to ECMAScript's only), so both are named: the pattern in
# the OpenAPI document then takes exactly the codes the server takes.
CODE_PATTERN = r"^[^\s,/\x00-\x1f\x7f\x85\ufeff]+$"
Code = Annotated[str, Meta(min_length=1, pattern=CODE_PATTERN), Limit(64)]
# Path and query parameters (and subscriptions) take a list key with its length in the pattern;
# in a document the length is a limit, a rule error (limits.py).
LIST_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ListKey = Annotated[str, Meta(min_length=1, max_length=64, pattern=LIST_KEY_PATTERN)]
_DocumentListKey = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]*$"), Limit(64)]
CHANGESET_ID_PATTERN = r"^[A-Za-z0-9._-]{1,100}$"
ChangeSetId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]+$"), Limit(100)]
# Names are one line; longer texts may have line breaks and tabs but no other control characters
# (PostgreSQL cannot store NUL, and nothing else has a use in a code list).
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
_MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Name = Annotated[str, Meta(min_length=1, pattern=_ONE_LINE), Limit(500)]
Text = Annotated[str, Meta(pattern=_MULTI_LINE), Limit(5000)]
Label = Annotated[str, Meta(min_length=1, pattern=_ONE_LINE), Limit(100)]
Reason = Annotated[str, Meta(min_length=1, pattern=_MULTI_LINE), Limit(2000)]
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
    list: _DocumentListKey
    name: Name
    description: Text | None = None
    # Where the values come from (a release note, a wiki page) or that they are illustrative.
    source: Text | None = None
    # name -> one of ATTRIBUTE_TYPES; checked while planning, so an error names the attribute.
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class UpdateList(_Input, frozen=True, tag="update_list", tag_field="op"):
    list: _DocumentListKey
    name: Name | UnsetType = UNSET
    description: Text | UnsetType | None = UNSET
    source: Text | UnsetType | None = UNSET


class Upsert(_Input, frozen=True, tag="upsert", tag_field="op"):
    list: _DocumentListKey
    values: Annotated[builtins.list[ValueSpec], Meta(min_length=1, max_length=MAX_OPERATIONS)]


class SetFields(_Input, frozen=True, tag="set", tag_field="op"):
    list: _DocumentListKey
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


_HEADER_FIELDS = {field.name: field for field in msgspec.structs.fields(_Header)}


def parse_document(raw: bytes, *, yaml: bool) -> ChangeSetDocument:
    """Decode and structurally validate a change-set document, or raise ``InvalidDocument``.

    The size limit is a rule, checked while planning (``plan_changeset(document_bytes=...)``).
    """
    tree, duplicates = load_yaml(raw) if yaml else load_json(raw)
    return convert_document(tree, duplicates)


def convert_document(tree: Any, found: list[FieldError] | None = None) -> ChangeSetDocument:
    """Validate a decoded document tree, or raise ``InvalidDocument`` with every header error
    and the first error of every operation, the header's first. Each header field and each
    operation is converted on its own.

    ``found`` are structural errors the parser found already (keys given twice); they are
    reported with the others, each operation's in document order.
    """
    errors = list(found or ())
    with contextlib.suppress(RecursionError):  # the conversion below says where it nests so
        tree = whole_numbers_as_integers(tree)
    # Field by field and operation by operation, valid or not: every error is found, and no
    # one call into msgspec holds the interpreter for long (a 5 MiB document is converted in
    # pieces of at most one operation, while the server's event loop keeps serving reads).
    if not isinstance(tree, dict):
        try:
            msgspec.convert(tree, _Header)
        except msgspec.ValidationError as exc:  # says what the document is instead of a mapping
            errors.append(from_msgspec(exc))
        raise InvalidDocument(in_document_order(errors))
    header = _convert_header(tree, errors)
    operations: list[Operation] = []
    for index, raw_operation in enumerate(header.get("changes", ())):
        try:
            operations.append(msgspec.convert(raw_operation, Operation))
        except msgspec.ValidationError as exc:
            errors.append(from_msgspec(exc, f"changes[{index}]"))
        except RecursionError:
            errors.append(FieldError(f"changes[{index}]", "nested too deeply"))
    if errors:
        raise InvalidDocument(in_document_order(errors))
    return ChangeSetDocument(**{**header, "changes": operations})


def whole_numbers_as_integers(tree: Any) -> Any:
    """``tree`` with every finite float that has no fraction (``59.0``) as an ``int``.

    JSON has one number type (RFC 8259 section 6), and JSON Schema counts ``1.0`` as an
    integer, so a document an OpenAPI client writes with ``"sort_order": 59.0`` means 59; the
    API's other bodies are read that way too. A string is never a number here. Raises
    RecursionError for a tree nested too deeply, like the conversion after it.
    """
    if isinstance(tree, float):
        return int(tree) if tree.is_integer() else tree
    if isinstance(tree, dict):
        return {key: whole_numbers_as_integers(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [whole_numbers_as_integers(item) for item in tree]
    return tree


def _convert_header(tree: dict[Any, Any], errors: list[FieldError]) -> dict[str, Any]:
    """The header fields of ``tree`` that are valid, converted; an error for every other key
    and every missing required field is appended to ``errors``, in the document's key order.

    Each field is converted on its own, as converting the header in one go would stop at its
    first error and hide the others (changesets.md, "Validation").
    """
    header: dict[str, Any] = {}
    for key, value in tree.items():
        field = _HEADER_FIELDS.get(key)
        if field is None:
            errors.append(FieldError(str(key), "unknown field"))
            continue
        try:
            header[key] = msgspec.convert(value, field.type)
        except msgspec.ValidationError as exc:
            errors.append(from_msgspec(exc, key))
    errors.extend(
        FieldError(name, "required field missing")
        for name, field in _HEADER_FIELDS.items()
        if field.required and name not in tree
    )
    return header
