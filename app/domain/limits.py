"""Length limits of a change-set document, checked as rule errors (changesets.md, "Validation").

A limit is not structural: a name or code that is too long must hide no other error, so the
limits are checked on the decoded document next to the other rules, all reported together.
A field's limit is declared on its type, ``Annotated[str, Meta(...), Limit(500)]``, and found
here by walking the document's structs.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import msgspec

from app.domain.errors import FieldError

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Limit:
    """At most ``chars`` characters (Unicode code points) in a string field."""

    chars: int


def document_size_error(size: int) -> FieldError | None:
    """The error for a document of ``size`` bytes over the 5 MiB limit, if it is."""
    if size <= MAX_DOCUMENT_BYTES:
        return None
    return FieldError(
        "", f"document is {size} bytes; the limit is 5 MiB ({MAX_DOCUMENT_BYTES} bytes)"
    )


def limit_errors(struct: msgspec.Struct, path: str = "") -> list[FieldError]:
    """Every string in ``struct`` (recursively) longer than its field's ``Limit``."""
    return list(_in_struct(struct, path))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls, include_extras=True)


def _in_struct(struct: msgspec.Struct, path: str) -> Iterator[FieldError]:
    for name, hint in _hints(type(struct)).items():
        if name in struct.__struct_fields__:
            yield from _in_value(getattr(struct, name), hint, f"{path}.{name}".lstrip("."))


def _in_value(value: Any, hint: Any, path: str) -> Iterator[FieldError]:
    origin = get_origin(hint)
    if origin is Annotated:
        base, *extras = get_args(hint)
        for extra in extras:
            if isinstance(extra, Limit) and isinstance(value, str) and len(value) > extra.chars:
                yield FieldError(
                    path, f"is {len(value)} characters long; the limit is {extra.chars}"
                )
        yield from _in_value(value, base, path)
    elif origin is Union or origin is types.UnionType:
        for option in get_args(hint):  # the options are disjoint types; each checks its own
            yield from _in_value(value, option, path)
    elif origin is list and isinstance(value, list):
        (item_hint,) = get_args(hint)
        for index, item in enumerate(value):
            yield from _in_value(item, item_hint, f"{path}[{index}]")
    elif isinstance(hint, type) and issubclass(hint, msgspec.Struct) and isinstance(value, hint):
        yield from _in_struct(value, path)
