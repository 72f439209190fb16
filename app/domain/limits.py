"""Length limits of a change-set document, checked as rule errors (changesets.md, "Validation").

A limit is not structural: a name or code that is too long must hide no other error, so the
limits are checked on the decoded document next to the other rules, all reported together.
A field's limit is declared on its type, ``Annotated[str, Meta(...), Limit(500)]``, and found
here by walking the document's structs.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import msgspec

from app.domain.errors import FieldError

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# A `set` writes its fields into every value it names, and the plan, the stored values and the
# change feed hold them once per value: 10,000 codes times 5 MB of fields would be 50 GB from
# a 5 MiB document. So the sets of a document, each written out per code, are bounded too.
MAX_SET_BYTES = 4 * MAX_DOCUMENT_BYTES


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


def set_size_error(path: str, written_out: int) -> FieldError:
    """The error for the ``set`` at ``path`` that takes the document's sets, written out per
    code (codes times the size of the fields as JSON), to ``written_out`` bytes, over
    ``MAX_SET_BYTES``."""
    return FieldError(
        f"{path}.codes",
        f"the set operations, each field written out for each code, come to {written_out} "
        f"bytes here; the limit is 20 MiB ({MAX_SET_BYTES} bytes)",
    )


def limit_errors(struct: msgspec.Struct, path: str = "") -> list[FieldError]:
    """Every string in ``struct`` (recursively) longer than its field's ``Limit``."""
    check = _struct_check(type(struct))
    return [] if check is None else list(check(struct, path))


# A check yields the errors of one value at a path. Checks are made once per type from its
# hints, and fields whose type holds no Limit anywhere get none: a seed of a million values
# walks only the strings that have a limit (issue 12, seeding at national scale).
Check = Callable[[Any, str], Iterator[FieldError]]


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls, include_extras=True)


@cache
def _struct_check(cls: type) -> Check | None:
    fields = []
    for name, hint in _hints(cls).items():
        if name in cls.__struct_fields__:  # type: ignore[attr-defined]
            check = _check(hint)
            if check is not None:
                fields.append((name, check, _string_limit(hint)))
    if not fields:
        return None

    def in_struct(value: Any, path: str) -> Iterator[FieldError]:
        if isinstance(value, cls):
            for name, check, fits in fields:
                field = getattr(value, name)
                # The common case, a short string or none, without building its path.
                if fits is not None and (
                    field is None
                    or field is msgspec.UNSET
                    or (type(field) is str and len(field) <= fits)
                ):
                    continue
                yield from check(field, f"{path}.{name}".lstrip("."))

    return in_struct


_ABSENT_TYPES = (type(None), msgspec.UnsetType)


def _string_limit(hint: Any) -> int | None:
    """For a field that is a limited string (or none), its smallest limit; else None."""
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        options = [option for option in get_args(hint) if option not in _ABSENT_TYPES]
        return _string_limit(options[0]) if len(options) == 1 else None
    if origin is Annotated:
        base, *extras = get_args(hint)
        limits = [extra.chars for extra in extras if isinstance(extra, Limit)]
        if base is str and limits:
            return min(limits)
    return None


@cache
def _check(hint: Any) -> Check | None:
    """The check of a value of type ``hint``; None when nothing in it has a limit."""
    origin = get_origin(hint)
    if origin is Annotated:
        base, *extras = get_args(hint)
        limits = tuple(extra.chars for extra in extras if isinstance(extra, Limit))
        inner = _check(base)
        if not limits and inner is None:
            return None

        def annotated(value: Any, path: str) -> Iterator[FieldError]:
            if isinstance(value, str):
                for chars in limits:
                    if len(value) > chars:
                        yield FieldError(
                            path, f"is {len(value)} characters long; the limit is {chars}"
                        )
            if inner is not None:
                yield from inner(value, path)

        return annotated
    if origin is Union or origin is types.UnionType:
        # The options are disjoint types; each checks its own.
        options = tuple(c for c in map(_check, get_args(hint)) if c is not None)
        if not options:
            return None

        def union(value: Any, path: str) -> Iterator[FieldError]:
            for option in options:
                yield from option(value, path)

        return union
    if origin is list:
        (item_hint,) = get_args(hint)
        item = _check(item_hint)
        if item is None:
            return None

        def items(value: Any, path: str) -> Iterator[FieldError]:
            if isinstance(value, list):
                for index, entry in enumerate(value):
                    yield from item(entry, f"{path}[{index}]")

        return items
    if isinstance(hint, type) and issubclass(hint, msgspec.Struct):
        return _struct_check(hint)
    return None
