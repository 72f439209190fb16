"""The service's error kinds, and errors a document or request can have, each with its path.

Every error the service raises on purpose is one of four kinds, mapped once to problem details
(RFC 9457) in ``app/api/errors.py``: ``NotFound`` (404), ``BadInput`` (400, or 422 for a
change-set document), ``Conflict`` (409) and ``Unavailable`` (503).
"""

from __future__ import annotations

import re

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    path: str
    message: str


class NotFound(LookupError):
    """What the request names does not exist (404)."""


class Conflict(Exception):
    """The request clashes with the current state, e.g. a list published since planning (409)."""


class Unavailable(Exception):
    """A part the answer needs cannot be reached now; the client may retry (503)."""


class BadInput(Exception):
    """Input that cannot be accepted; ``errors`` says every reason, each with its path.

    ``status`` is 400 for a request's parameters or body, 422 for a change-set document
    (api.md "Admin endpoints"); ``title`` heads the problem details.
    """

    status = 400
    title = "Invalid request"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path or '(document)'}: {e.message}" for e in errors))
        self.errors = errors


class InvalidDocument(BadInput):
    """A change-set document that breaks the format or a rule (422)."""

    status = 422
    title = "Invalid change set"


class InvalidSubscription(BadInput):
    """A webhook subscription whose URL may not be used (422, api.md "Sync endpoints")."""

    status = 422
    title = "Invalid subscription"


class InvalidRequest(BadInput):
    """A request body or parameter that is not what the endpoint takes (400)."""


class BadParameter(InvalidRequest):
    """One query parameter that is wrong, e.g. ``from`` after ``to`` (400)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__([FieldError(parameter, message)])
        self.parameter = parameter
        self.message = message


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
    "Expected `int | null`, got `str`": "must be a whole number",
    "Expected `int`, got `str`": "must be a whole number",
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
