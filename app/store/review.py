"""Approving, rejecting and publishing scheduled change sets (api.md "Review, approval and
scheduling"), each in one transaction under the publish lock, each with its audit entries."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.errors import InvalidDocument
from app.domain.principals import same_principal
from app.domain.review import settled_status
from app.store import audit, changesets
from app.store.changesets import ChangeSetRecord
from app.store.publish import (
    ChangeSetConflict,
    ChangeSetNotFound,
    lock_publishes,
    publish_planned,
)

log = logging.getLogger(__name__)
SCHEDULER = "scheduler"  # the audit actor of a scheduled publish


class FourEyes(PermissionError):
    """The approver is the author, their names compared in canonical form (so ``"A1 "`` is
    ``a1``, whichever kind of token each used): someone else must approve (403)."""

    def __init__(self, record: ChangeSetRecord) -> None:
        super().__init__(
            f"change set '{record.id}' was submitted by '{record.author}'; someone else must "
            "approve it (four eyes)"
        )


class NotPlanned(ChangeSetConflict):
    """Approving a change set that is not ``planned``, or rejecting a closed one (409)."""


async def approve(
    engine: AsyncEngine,
    changeset_id: str,
    *,
    approver: str,
    comment: str | None,
    now: datetime,
    require_approval: bool,
) -> ChangeSetRecord:
    """Approve a planned change set: ``approved``, or ``scheduled`` when it has a publish_at
    (published by the scheduler then, or at once when that time has passed).

    Raises ``ChangeSetNotFound``, ``FourEyes`` (approver is the author) or ``NotPlanned``.
    """
    async with engine.begin() as connection:
        await lock_publishes(connection)
        record = await changesets.get(connection, changeset_id)
        if record is None:
            raise ChangeSetNotFound(changeset_id)
        if same_principal(record.author, approver):
            raise FourEyes(record)
        if record.status != "planned":
            raise NotPlanned(
                f"change set '{record.id}' is {record.status}; only a planned one can be approved"
            )
        record.approved_by, record.approved_at = approver, now.astimezone(UTC)
        record.status = settled_status(
            approved_by=approver,
            publish_at=record.publish_at,
            require_approval=require_approval,
        )
        await changesets.set_review(connection, record, expected="planned")
        detail = {"comment": comment, "status": record.status}
        await audit.of_changeset(connection, record.id, approver, "changeset.approved", now, detail)
        if record.status == "scheduled":
            await audit.scheduled(connection, record, approver, now)
        return record


async def reject(
    engine: AsyncEngine, changeset_id: str, *, rejecter: str, comment: str, now: datetime
) -> ChangeSetRecord:
    """Reject a change set that is not published: it is never published, its id stays taken.

    Raises ``ChangeSetNotFound`` or ``NotPlanned`` (already published or rejected).
    """
    async with engine.begin() as connection:
        await lock_publishes(connection)
        record = await changesets.get(connection, changeset_id)
        if record is None:
            raise ChangeSetNotFound(changeset_id)
        if record.status in ("published", "rejected"):
            raise NotPlanned(f"change set '{record.id}' is {record.status} already")
        before = record.status
        record.status = "rejected"
        await changesets.set_review(connection, record, expected=before)
        detail = {"comment": comment, "previous_status": before}
        await audit.of_changeset(connection, record.id, rejecter, "changeset.rejected", now, detail)
        return record


async def publish_due(engine: AsyncEngine, now: datetime) -> list[ChangeSetRecord]:
    """Publish every scheduled change set whose time has come; mark failed the ones that can
    no longer be published as planned. Returns what this call published or failed.

    Safe with any number of processes: each change set is handled under the publish lock and
    only while still ``scheduled``, so exactly one process publishes (or fails) it.
    """
    async with engine.connect() as connection:
        candidates = await changesets.due(connection, now)
    handled = []
    for changeset_id in candidates:
        outcome = await _publish_one(engine, changeset_id, now)
        if outcome is not None:
            handled.append(outcome)
    return handled


async def _publish_one(
    engine: AsyncEngine, changeset_id: str, now: datetime
) -> ChangeSetRecord | None:
    try:
        async with engine.begin() as connection:
            await lock_publishes(connection)
            record = await changesets.get(connection, changeset_id)
            if record is None or record.status != "scheduled":
                return None  # another process got there first
            if record.publish_at is None or record.publish_at > now:
                return None  # re-planned or rescheduled meanwhile
            await publish_planned(connection, record, now)
            await audit.published(connection, record, SCHEDULER, now)
            return record
    except (ChangeSetConflict, InvalidDocument) as exc:
        reason = str(exc) if isinstance(exc, ChangeSetConflict) else _invalid(exc)
    # The failed attempt wrote nothing (its transaction rolled back); record why, once.
    async with engine.begin() as connection:
        await lock_publishes(connection)
        record = await changesets.get(connection, changeset_id)
        if record is None or record.status != "scheduled":
            return None
        record.status, record.failure = "failed", reason
        if not await changesets.set_review(connection, record, expected="scheduled"):
            return None
        detail = {"reason": reason}
        await audit.of_changeset(connection, record.id, SCHEDULER, "changeset.failed", now, detail)
    log.warning("scheduled change set %s failed: %s", changeset_id, reason)
    return record


def _invalid(exc: InvalidDocument) -> str:
    first = "; ".join(f"{e.path}: {e.message}" for e in exc.errors[:5])
    return f"the change set no longer applies to the lists as they are: {first}"
