"""Errors a document or request can have, each with the path of what is wrong."""

from __future__ import annotations

import re

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    path: str
    message: str


class InvalidInput(Exception):
    """Input that cannot be accepted; ``errors`` says every reason, each with its path."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path or '(document)'}: {e.message}" for e in errors))
        self.errors = errors


class InvalidDocument(InvalidInput):
    """A change-set document that breaks the format or a rule (422)."""


class InvalidRequest(InvalidInput):
    """A request body that is not what the endpoint takes (400)."""


_MSGSPEC_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(
    r"^Object (?P<what>contains unknown|missing required) field `(?P<field>[^`]*)`$"
)


def from_msgspec(error: msgspec.MsgspecError, prefix: str = "") -> FieldError:
    """Turn msgspec's ``message - at `$.a[1].b``` into a path relative to the document."""
    match = _MSGSPEC_PATH.match(str(error))
    assert match is not None  # the pattern matches any string
    return field_error(prefix + (match["path"] or ""), match["message"])


# msgspec's wording, where a reader of the answer would not know what it means.
_PLAINER = {
    "Invalid RFC3339 encoded date": "must be a real date written YYYY-MM-DD",
    "Invalid RFC3339 encoded datetime": "must be a date and time in RFC 3339 form",
}


def field_error(path: str, message: str) -> FieldError:
    """An error at ``path``; one about a named field is moved onto that field."""
    message = _PLAINER.get(message, message)
    named = _NAMED_FIELD.match(message)
    if named:
        path += "." + named["field"]
        message = (
            "unknown field" if named["what"] == "contains unknown" else "required field missing"
        )
    return FieldError(path=path.lstrip("."), message=message)


def _operation_index(error: FieldError) -> int:
    """The index of the operation an error is in; -1 for the document and its header."""
    if not error.path.startswith("changes["):
        return -1
    return int(error.path[len("changes[") : error.path.index("]")])


def in_document_order(errors: list[FieldError]) -> list[FieldError]:
    """``errors`` without repeats, the header's first, then each operation's, in order; the
    order among one operation's errors is kept."""
    return sorted(dict.fromkeys(errors), key=_operation_index)
