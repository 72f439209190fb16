"""Typed, list-specific attributes of values (e.g. a retention period as an ISO 8601 duration)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

ATTRIBUTE_TYPES = ("string", "integer", "boolean", "date", "duration")
_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# ISO 8601 durations as used for retention periods: P6Y, P6M, P1Y6M, P2W, PT12H, P1DT2H.
_DURATION = re.compile(
    r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(?:[.,]\d+)?S)?)?$"
)


def _normalise(kind: str, value: Any) -> tuple[Any, str | None]:
    """The stored form of ``value`` for an attribute of type ``kind``, or why it does not fit."""
    if kind == "string":
        if isinstance(value, str) and len(value) <= 5000 and "\x00" not in value:
            return value, None
        return None, "must be a string of at most 5000 characters"
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
            return value, None
        return None, "must be an integer"
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (None, "must be true or false")
    if kind == "date":
        if isinstance(value, date):
            return value.isoformat(), None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat(), None
            except ValueError:
                pass
        return None, "must be a date (YYYY-MM-DD)"
    if kind == "duration":
        if isinstance(value, str) and _DURATION.match(value):
            return value, None
        return None, "must be an ISO 8601 duration such as P6Y, P6M or P1Y6M"
    raise AssertionError(f"unknown attribute type {kind!r}")


def check_schema(schema: Mapping[str, str]) -> list[tuple[str, str]]:
    """(name, message) for every attribute of a list's schema that is not well formed."""
    errors = []
    for name, kind in schema.items():
        if not _ATTRIBUTE_NAME.match(name):
            errors.append((name, f"attribute name '{name}' must match [a-z][a-z0-9_]{{0,63}}"))
        if kind not in ATTRIBUTE_TYPES:
            errors.append(
                (name, f"unknown attribute type '{kind}' (use {', '.join(ATTRIBUTE_TYPES)})")
            )
    return errors


def check_attributes(
    schema: Mapping[str, str], attributes: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Check ``attributes`` against ``schema``: their stored form and (name, message) errors.

    Every attribute of the schema is optional on a value; an attribute not in the schema is an
    error, so a typo never silently becomes data.
    """
    stored: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for name, value in attributes.items():
        kind = schema.get(name)
        if kind is None:
            known = ", ".join(sorted(schema)) or "none"
            errors.append((name, f"unknown attribute '{name}' (this list has: {known})"))
            continue
        normalised, problem = _normalise(kind, value)
        if problem:
            errors.append((name, f"attribute '{name}' {problem}"))
        else:
            stored[name] = normalised
    return dict(sorted(stored.items())), errors
