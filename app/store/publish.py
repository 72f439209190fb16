"""Submitting and publishing change sets: one transaction each, serialised by the publish lock.

Every write takes the lock row first, so two administrators publishing at the same moment run
one after the other: the second sees the first's versions and, if its plan was made on the
same base, gets a conflict instead of overwriting. Change-feed numbers are assigned under the
same lock, so they become visible in commit order with no gaps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain.documents import ChangeSetDocument
from app.domain.errors import Conflict, NotFound
from app.domain.planning import (
    ListState,
    Plan,
    PlannedList,
    effective_date,
    plan_changeset,
    plan_document,
    referenced_lists,
)
from app.domain.review import plan_effects, settled_status
from app.domain.surrogate_keys import list_tag
from app.domain.values import Value
from app.store import audit, changesets, purges, subscriptions
from app.store.bulk import insert_many
from app.store.changesets import ChangeSetRecord
from app.store.queries import current_states, last_published_at, last_seq
from app.store.tables import change, codelist, list_version, publish_lock, value_revision

NOTIFY_CHANNEL = "codelists_published"
# A revision row is a Value's fields in their order, then the list and the version.
REVISION_COLUMNS = (*Value.__struct_fields__, "list_id", "version_from")
FEED_COLUMNS = (
    "seq",
    "list_key",
    "code",
    "kind",
    "version",
    "changeset_id",
    "published_at",
    "effective_date",
    "value",
    "previous",
)
_CHUNK = 500


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
    digest = content_hash(document)
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
        planned = plan_changeset(document, states, document_bytes=document_bytes)
        plan = plan_document(planned)
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
            await _write(connection, record, planned, now, plan_stored=existing is None)
            await audit.published(connection, record, author, now)
        return Outcome(record, created=existing is None)


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
    planned = plan_changeset(document, states)
    record.plan = plan_document(planned)
    await _write(connection, record, planned, now)
    return record


async def _list_ids(connection: AsyncConnection, keys: Sequence[str]) -> dict[str, int]:
    rows = await connection.execute(
        sa.select(codelist.c.key, codelist.c.id).where(codelist.c.key.in_(list(keys)))
    )
    return {row.key: row.id for row in rows}


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@dataclass
class _Publication:
    """What one publish has written so far: its time, feed entries and new versions."""

    record: ChangeSetRecord
    now: datetime
    seq: int
    versions: dict[str, int] = field(default_factory=dict)
    feed: list[tuple[Any, ...]] = field(default_factory=list)
    # (seq, list key) for every feed entry: who a webhook subscription to a list must be sent.
    interested: list[tuple[int, str]] = field(default_factory=list)
    purge_keys: list[str] = field(default_factory=list)

    def entry(self, list_key: str, *fields: Any) -> int:
        """Number the next feed entry (of list ``list_key``) and keep it; returns its seq."""
        self.seq += 1
        self.feed.append((self.seq, list_key, *fields))
        self.interested.append((self.seq, list_key))
        return self.seq


async def _write(
    connection: AsyncConnection,
    record: ChangeSetRecord,
    planned: Mapping[str, PlannedList],
    now: datetime,
    *,
    plan_stored: bool = False,
) -> None:
    """Publish in named steps, under the publish lock: the publish time, the new list
    versions with their value revisions and feed entries, the feed and its webhook batches,
    the change set marked published, and the announcement (generation, purges, NOTIFY)."""
    publication = _Publication(record, await _publish_time(connection, now), 0)
    publication.seq = await last_seq(connection)
    await _write_lists(connection, publication, planned)
    await _append_feed(connection, publication)
    await _mark_published(connection, publication, plan_stored=plan_stored)
    await _announce(connection, publication)


async def _publish_time(connection: AsyncConnection, now: datetime) -> datetime:
    """``now``, or the last publish time if that is later.

    ``now`` was read before the lock was granted (and perhaps on another machine's clock), so
    the publish time is never earlier than the last one: publish times never decrease along a
    list's versions or the feed's ``seq`` (api.md "Time and validity").
    """
    previous = await last_published_at(connection)
    if previous is not None and previous > now:
        return previous.astimezone(now.tzinfo)
    return now


async def _write_lists(
    connection: AsyncConnection, publication: _Publication, planned: Mapping[str, PlannedList]
) -> None:
    """A new version of every planned list, its value revisions, and its feed entries."""
    now = publication.now
    list_ids = await _list_ids(connection, sorted(planned))
    published_on = now.date()
    for key, item in sorted(planned.items()):
        plan, after = item.plan, item.after
        if key not in list_ids:
            list_ids[key] = await connection.scalar(
                sa.insert(codelist).values(key=key, created_at=now).returning(codelist.c.id)
            )
        list_id = list_ids[key]
        publication.versions[key] = plan.new_version
        publication.purge_keys.append(list_tag(key))
        await connection.execute(
            sa.insert(list_version).values(
                list_id=list_id,
                version=plan.new_version,
                name=after.name,
                description=after.description,
                source=after.source,
                attribute_schema=after.attribute_schema,
                changeset_id=publication.record.id,
                published_at=now,
                value_count=len(after.values),
                added=len(plan.added),
                changed=len(plan.changed),
                deactivated=len(plan.deactivated),
                reactivated=len(plan.reactivated),
            )
        )
        replaced = [t.after.code for t in item.transitions if t.before is not None]
        for codes in _chunks(replaced):
            await connection.execute(
                sa.update(value_revision)
                .where(
                    value_revision.c.list_id == list_id,
                    value_revision.c.version_to.is_(None),
                    value_revision.c.code.in_(codes),
                )
                .values(version_to=plan.new_version)
            )
        stamp = (list_id, plan.new_version)
        await insert_many(
            connection,
            value_revision,
            REVISION_COLUMNS,
            [msgspec.structs.astuple(t.after) + stamp for t in item.transitions],
        )
        for transition in item.transitions:
            publication.entry(
                key,
                transition.after.code,
                transition.kind,
                plan.new_version,
                publication.record.id,
                now,
                effective_date(transition.before, transition.after, published_on),
                transition.after,  # structs: encoded straight to JSON by insert_many
                transition.before,
            )


async def _append_feed(connection: AsyncConnection, publication: _Publication) -> None:
    """The publish's change-feed entries, and a webhook batch for every interested
    subscription."""
    await insert_many(connection, change, FEED_COLUMNS, publication.feed)
    await subscriptions.enqueue(connection, publication.interested, publication.now)


async def _mark_published(
    connection: AsyncConnection, publication: _Publication, *, plan_stored: bool
) -> None:
    record = publication.record
    record.status = "published"
    record.published_at = publication.now.astimezone(UTC)
    record.versions = publication.versions
    record.seq = publication.seq
    await changesets.mark_published(connection, record, plan_stored=plan_stored)


async def _announce(connection: AsyncConnection, publication: _Publication) -> None:
    """Tell readers: the next publish generation, the purges of shared caches, and (on
    PostgreSQL) a NOTIFY delivered on commit to every replica LISTENing."""
    if not publication.purge_keys:
        return
    await connection.execute(
        sa.update(publish_lock)
        .where(publish_lock.c.id == 1)
        .values(generation=publish_lock.c.generation + 1)
    )
    # In this transaction, so a crash between commit and purge loses no purge.
    await purges.enqueue(connection, publication.purge_keys, publication.now)
    if connection.dialect.name == "postgresql":
        await connection.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, str(publication.seq))))


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
    plan = plan_document(plan_changeset(document, states, document_bytes=document_bytes))
    same = stored is not None and stored.content_hash == content_hash(document)
    return Preview(plan, stored, same)
