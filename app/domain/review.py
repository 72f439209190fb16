"""The review rules of api.md "Review, approval and scheduling", without I/O.

A change set is ``planned`` until it may be published; it may be published once approved, or
at once when no approval is required. One that may be published and has a ``publish_at`` is
``scheduled``, whether that time is ahead or already past: a scheduler publishes it then, or at
once when its time has come already (a document submitted or approved late is not left waiting
for a publish by hand). An approval holds for what the plan does, not for the base
versions it was made on: re-planning that changes the values added, changed, deactivated or
reactivated (with their from/to) voids it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from app.domain.planning import Plan


class ReviewPolicy(msgspec.Struct, frozen=True):
    """How change sets submitted through the API are reviewed (CODELISTS_REQUIRE_APPROVAL)."""

    require_approval: bool = False


Status = Literal["planned", "approved", "scheduled", "published", "rejected", "failed"]
# Statuses in which a change set can still be planned again, approved or scheduled.
OPEN: frozenset[Status] = frozenset({"planned", "approved", "scheduled", "failed"})


def plan_effects(plan: Plan) -> bytes:
    """What a plan does, as comparable bytes: every list's value changes and metadata changes,
    without the version numbers it was made on."""
    effects = {
        key: msgspec.structs.replace(item, base_version=0, new_version=0)
        for key, item in plan.lists.items()
    }
    return msgspec.json.encode(effects, order="sorted")


def settled_status(
    *, approved_by: str | None, publish_at: datetime | None, require_approval: bool
) -> Status:
    """The status of an open change set given its approval (if any) and ``publish_at``.

    api.md "Review, approval and scheduling": "Once it may be published (approved, or submitted
    when no approval is required) it is ``scheduled``", past ``publish_at`` or not.
    """
    may_publish = approved_by is not None or not require_approval
    if may_publish and publish_at is not None:
        return "scheduled"
    return "approved" if approved_by is not None else "planned"
