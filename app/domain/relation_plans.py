"""What a change set does to relations, as its plan shows it (changesets.md, "Relations").

Kept apart from planning.py, which includes these in ``Plan``, so the relation planner
(relation_planning.py) can use ``Plan`` without an import cycle.
"""

from __future__ import annotations

from typing import Any

import msgspec

from app.domain.relations import Row


class FromTo(msgspec.Struct, frozen=True):
    """One field's change: ``{"from": ..., "to": ...}`` (the shape of a value's changes)."""

    from_: Any = msgspec.field(name="from")
    to: Any = None


class RowChange(msgspec.Struct, frozen=True):
    source: str
    target: str
    fields: dict[str, FromTo]


class RelationPlan(msgspec.Struct, kw_only=True):
    """A relation's new version: its metadata changes, rows added and rows changed."""

    base_version: int
    new_version: int
    source_list: str
    target_list: str
    qualifier_list: str | None = None
    created: bool = False
    relation_fields: dict[str, FromTo] = msgspec.field(default_factory=dict)
    added: list[Row] = msgspec.field(default_factory=list)
    changed: list[RowChange] = msgspec.field(default_factory=list)


class PlanWarning(msgspec.Struct, frozen=True):
    """Something a reviewer should see that does not stop the publish, with its path."""

    path: str
    message: str
