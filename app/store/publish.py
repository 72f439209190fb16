"""Submitting and publishing change sets: one transaction each, serialised by the publish lock.

Every write takes the lock row first, so two administrators publishing at the same moment run
one after the other: the second sees the first's versions and, if its plan was made on the
same base, gets a conflict instead of overwriting. Change-feed numbers are assigned under the
same lock, so they become visible in commit order with no gaps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain.documents import ChangeSetDocument
from app.domain.errors import Conflict, NotFound
from app.domain.planning import (
    ListState,
    Plan,
    PlannedList,
    plan_changeset,
    plan_document,
    referenced_lists,
)
from app.domain.review import plan_effects, settled_status
from app.store import audit, changesets
from app.store.changesets import ChangeSetRecord
from app.store.queries import current_states
from app.store.tables import publish_lock
from app.store.versions import write_versions


class ChangeSetConflict(Conflict):
    """The same id with other content, or a plan whose lists moved on since it was made."""


class NeedsApproval(ChangeSetConflict):
    """Publishing a change set that approval is required for and that nobody approved."""

    def __init__(self, changeset_id: str) -> None:
        super().__init__(
            f"change set '{changeset_id}' needs approval: a token with scope 'approve' whose "
            "name differs from the author's must approve it first"
        )


class ChangeSetNotFound(NotFound):
    def __init__(self, changeset_id: str) -> None:
        super().__init__(f"there is no change set '{changeset_id}'")


@dataclass(frozen=True)
class Outcome:
    record: ChangeSetRecord
    created: bool  # stored by this call (201), rather than found already stored (200)


def content_hash(document: ChangeSetDocument) -> str:
    return hashlib.sha256(document.canonical_bytes()).hexdigest()


async def lock_publishes(connection: AsyncConnection) -> None:
    """Serialise with every other publish, submit and review until ``connection`` commits."""
    # A write that changes nothing still takes PostgreSQL's row lock and SQLite's write lock.
    await connection.execute(
        sa.update(publish_lock)
        .where(publish_lock.c.id == 1)
        .values(generation=publish_lock.c.generation)
    )


def _base_versions(document: ChangeSetDocument, states: Mapping[str, ListState]) -> dict[str, int]:
    return {key: states[key].version if key in states else 0 for key in referenced_lists(document)}


async def submit(
    engine: AsyncEngine,
    document: ChangeSetDocument,
    *,
    author: str,
    now: datetime,
    publish: bool,
    require_approval: bool = False,
    document_bytes: int | None = None,
) -> Outcome:
    """Plan and store a change set, and publish it too when ``publish`` is set.

    ``author`` is who submits (a token's name, or ``cli:<user>``); it is the author of a new
    change set and the actor of the audit entries. The same id with the same content answers
    the stored change set; while it is not published or rejected that also plans it again
    against the lists as they are now (how an administrator whose plan went stale plans
    again), which voids an approval when what the plan does changed. The same id with other
    content is a conflict. With ``require_approval`` (the API under CODELISTS_REQUIRE_APPROVAL;
    the command line never) ``publish`` of an unapproved change set raises ``NeedsApproval``
    and nothing is stored. Raises ``InvalidDocument`` with every rule error; nothing is stored.
    ``document_bytes`` is the size of the document as received, for its limit (None: not
    checked).
    """
    # Planning a document of megabytes takes seconds of pure Python: it runs on a worker
    # thread, so the event loop keeps serving reads meanwhile (issue 21).
    digest = await to_thread.run_sync(content_hash, document)
    async with engine.begin() as connection:
        await lock_publishes(connection)
        existing = await changesets.get(connection, document.id)
        if existing is not None and existing.content_hash != digest:
            raise ChangeSetConflict(
                f"change set '{document.id}' exists with other content; use a new id"
            )
        if existing is not None and existing.status in ("published", "rejected"):
            return Outcome(existing, created=False)

        states = await current_states(connection, referenced_lists(document))
        planned, plan = await to_thread.run_sync(
            partial(_planned, document, states, document_bytes=document_bytes)
        )
        base_versions = _base_versions(document, states)
        publish_at = document.publish_at if isinstance(document.publish_at, datetime) else None
        if existing is None:
            record = ChangeSetRecord(
                id=document.id,
                status="planned",
                release=document.release,
                reason=document.reason,
                reference=document.reference,
                author=author,
                created_at=now.astimezone(UTC),
                published_at=None,
                plan=plan,
                base_versions=base_versions,
                versions=None,
                seq=None,
                content_hash=digest,
                publish_at=publish_at.astimezone(UTC) if publish_at else None,
            )
            record.status = settled_status(
                approved_by=None,
                publish_at=record.publish_at,
                require_approval=require_approval,
            )
            await changesets.insert(connection, record, document)
            await audit.of_changeset(
                connection, record.id, author, "changeset.submitted", now, _summary(record)
            )
            if record.status == "scheduled" and not publish:  # else it is published at once
                await audit.scheduled(connection, record, author, now)
        else:
            record = await _replan(
                connection, existing, plan, base_versions, author, now, require_approval
            )
        if publish:
            if require_approval and record.approved_by is None:
                raise NeedsApproval(record.id)  # rolls back: nothing is stored
            await write_versions(connection, record, planned, now, plan_stored=existing is None)
            await audit.published(connection, record, author, now)
        return Outcome(record, created=existing is None)


def _planned(
    document: ChangeSetDocument,
    states: Mapping[str, ListState],
    *,
    document_bytes: int | None = None,
) -> tuple[dict[str, PlannedList], Plan]:
    planned = plan_changeset(document, states, document_bytes=document_bytes)
    return planned, plan_document(planned)


def _summary(record: ChangeSetRecord) -> dict[str, Any]:
    return {"base_versions": record.base_versions, "status": record.status}


async def _replan(
    connection: AsyncConnection,
    record: ChangeSetRecord,
    plan: Plan,
    base_versions: dict[str, int],
    actor: str,
    now: datetime,
    require_approval: bool,
) -> ChangeSetRecord:
    """Store a new plan for an open change set; void its approval if what it does changed."""
    before = (record.status, record.base_versions, record.approved_by)
    changed = plan_effects(plan) != plan_effects(record.plan)
    record.plan, record.base_versions = plan, base_versions
    if changed and record.approved_by is not None:
        record.approved_by = record.approved_at = None
    status = settled_status(
        approved_by=record.approved_by,
        publish_at=record.publish_at,
        require_approval=require_approval,
    )
    record.status, record.failure = status, None
    if (record.status, record.base_versions, record.approved_by) == before and not changed:
        return record  # the same plan on the same lists: nothing to store or record
    await changesets.replan(connection, record)
    detail = {
        **_summary(record),
        "plan_changed": changed,
        "approval_voided": before[2] is not None and record.approved_by is None,
        "status": record.status,
    }
    await audit.of_changeset(connection, record.id, actor, "changeset.replanned", now, detail)
    if record.status == "scheduled" and before[0] != "scheduled":
        await audit.scheduled(connection, record, actor, now)
    return record


async def publish(
    engine: AsyncEngine,
    changeset_id: str,
    *,
    now: datetime,
    actor: str = "unknown",
    require_approval: bool = False,
) -> ChangeSetRecord:
    """Publish a change set at once; a published one is answered as it is (a no-op).

    Raises ``ChangeSetConflict`` for a rejected or failed one, ``NeedsApproval`` for a planned
    one when approval is required, and when a list it touches moved on since planning.
    """
    async with engine.begin() as connection:
        await lock_publishes(connection)
        record = await changesets.get(connection, changeset_id)
        if record is None:
            raise ChangeSetNotFound(changeset_id)
        if record.status == "published":
            return record
        if record.status == "rejected":
            raise ChangeSetConflict(f"change set '{record.id}' was rejected; it is never published")
        if record.status == "failed":
            raise ChangeSetConflict(
                f"change set '{record.id}' failed ({record.failure}); submit it again to plan it "
                "again"
            )
        if require_approval and record.approved_by is None:
            raise NeedsApproval(record.id)
        await publish_planned(connection, record, now)
        await audit.published(connection, record, actor, now)
        return record


async def publish_planned(
    connection: AsyncConnection, record: ChangeSetRecord, now: datetime
) -> ChangeSetRecord:
    """Publish ``record`` in ``connection``'s transaction (the publish lock held).

    Raises ``ChangeSetConflict`` and writes nothing when a list it touches moved on since it
    was planned.
    """
    document = await changesets.document_of(connection, record.id)
    states = await current_states(connection, referenced_lists(document))
    moved = sorted(
        key
        for key, version in _base_versions(document, states).items()
        if record.base_versions.get(key) != version
    )
    if moved:
        raise ChangeSetConflict(
            f"published since this change set was planned: {', '.join(moved)}; plan it again"
        )
    planned, record.plan = await to_thread.run_sync(_planned, document, states)
    await write_versions(connection, record, planned, now)
    return record


@dataclass(frozen=True)
class Preview:
    plan: Plan
    stored: ChangeSetRecord | None  # a change set with the same id, if there is one
    same_content: bool


async def plan_only(
    engine: AsyncEngine, document: ChangeSetDocument, *, document_bytes: int | None = None
) -> Preview:
    """What publishing ``document`` now would change; stores nothing."""
    async with engine.connect() as connection:
        stored = await changesets.get(connection, document.id)
        states = await current_states(connection, referenced_lists(document))
    _, plan = await to_thread.run_sync(
        partial(_planned, document, states, document_bytes=document_bytes)
    )
    same = stored is not None and stored.content_hash == content_hash(document)
    return Preview(plan, stored, same)
