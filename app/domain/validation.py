"""What a registering system is told when it asks "is code X of list Y valid on date D?"."""

from __future__ import annotations

from datetime import date

from app.domain.values import Value


def _successors(value: Value) -> str:
    if not value.replaced_by:
        return ""
    codes = ", ".join(f"'{code}'" for code in value.replaced_by)
    return f"; use {codes} instead"


def explain(key: str, code: str, value: Value | None, day: date) -> str:
    """One sentence saying why ``code`` is or is not valid on ``day``."""
    if value is None:
        return f"Code '{code}' does not exist in list '{key}'."
    state = value.state_on(day)
    if state == "selectable":
        return f"Code '{code}' ({value.name}) is valid in list '{key}' on {day}."
    if state == "deactivated":
        return f"Code '{code}' ({value.name}) in list '{key}' is deactivated{_successors(value)}."
    if state == "not_yet_valid":
        return (
            f"Code '{code}' ({value.name}) in list '{key}' is not valid until {value.valid_from}."
        )
    expired = f"expired on {value.valid_to}{_successors(value)}"
    return f"Code '{code}' ({value.name}) in list '{key}' {expired}."


def explain_unknown_list(key: str) -> str:
    return f"There is no code list '{key}'."


def explain_unknown_version(key: str, version: int) -> str:
    return f"Code list '{key}' has no version {version}."
