"""A change-set plan as text for a terminal: per list, per value, each field from -> to."""

from __future__ import annotations

from typing import Any

import click

from app.domain.planning import ListPlan, Plan, ValueChange
from app.domain.values import Value


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


def _added(value: Value) -> str:
    until = f" until {value.valid_to}" if value.valid_to else ""
    inactive = ", inactive" if not value.active else ""
    return f"  + {value.code}  {value.name}  (valid from {value.valid_from}{until}{inactive})"


def _changed(marker: str, change: ValueChange, label: str, color: str) -> list[str]:
    lines = [click.style(f"  {marker} {change.code}  {change.name}{label}", fg=color)]
    for field, diff in change.fields.items():
        lines.append(f"      {field}: {_show(diff.from_)} -> {_show(diff.to)}")
    return lines


def _list(key: str, plan: ListPlan) -> list[str]:
    heading = (
        f"{key}: new list, version 1"
        if plan.created
        else f"{key}: version {plan.base_version} -> {plan.new_version}"
    )
    lines = [click.style(heading, bold=True)]
    for field, diff in plan.list_fields.items():
        lines.append(f"    list {field}: {_show(diff.from_)} -> {_show(diff.to)}")
    lines += [click.style(_added(value), fg="green") for value in plan.added]
    for change in plan.changed:
        lines += _changed("~", change, "", "yellow")
    for change in plan.deactivated:
        lines += _changed("-", change, "  (deactivated)", "red")
    for change in plan.reactivated:
        lines += _changed("+", change, "  (reactivated)", "green")
    counts = (
        f"    {len(plan.added)} added, {len(plan.changed)} changed, "
        f"{len(plan.deactivated)} deactivated, {len(plan.reactivated)} reactivated"
    )
    return [*lines, counts]


def render_plan(plan: Plan) -> str:
    """The plan as lines of text; ``click.echo`` drops the colours when not on a terminal."""
    if not plan.lists:
        return "No changes: publishing this change set would create no new version."
    lines: list[str] = []
    for key, list_plan in plan.lists.items():
        lines += [*_list(key, list_plan), ""]
    return "\n".join(lines).rstrip() + "\n"
