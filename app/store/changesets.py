"""Stored change sets: the document as submitted, its plan, and what publishing it did."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.documents import ChangeSetDocument, convert_document
from app.domain.planning import Plan
from app.store.tables import changeset

# api.md "Review, approval and scheduling".
Status = Literal["planned", "approved", "scheduled", "published", "rejected", "failed"]
STATUSES: tuple[Status, ...] = (
    "planned",
    "approved",
    "scheduled",
    "published",
    "rejected",
    "failed",
)


class ChangeSetFacts(msgspec.Struct, kw_only=True):
    """What an administrator sees of a change set (api.md "Admin endpoints"); the fields
    that do not apply are null (api.md "Review, approval and scheduling")."""

    id: str
    status: Status
    release: str | None
    reason: str
    reference: str | None
    author: str
    created_at: datetime
    published_at: datetime | None
    plan: Plan
    versions: dict[str, int] | None
    seq: int | None
    approved_by: str | None = None
    publish_at: datetime | None = None
    failure: str | None = None


class ChangeSetRecord(ChangeSetFacts, kw_only=True):
    """A stored change set: its facts and what publishing and re-planning need."""

    base_versions: dict[str, int]
    content_hash: str
    approved_at: datetime | None = None


# The document is read only to publish; a record leaves it out.
_RECORD = [column for column in changeset.c if column.name != "document"]


def _record(row: sa.Row[Any]) -> ChangeSetRecord:
    fields = dict(row._mapping)
    fields["plan"] = msgspec.convert(fields["plan"], Plan)
    return ChangeSetRecord(**fields)


async def get(connection: AsyncConnection, changeset_id: str) -> ChangeSetRecord | None:
    row = (
        await connection.execute(sa.select(*_RECORD).where(changeset.c.id == changeset_id))
    ).first()
    return _record(row) if row else None


async def document_of(connection: AsyncConnection, changeset_id: str) -> ChangeSetDocument:
    stored = await connection.scalar(
        sa.select(changeset.c.document).where(changeset.c.id == changeset_id)
    )
    # Seconds for a document of megabytes: on a worker thread, so reads go on (issue 21).
    return await to_thread.run_sync(convert_document, stored)


async def newest_first(
    connection: AsyncConnection,
    *,
    limit: int,
    before: datetime | None = None,
    status: Status | None = None,
) -> list[ChangeSetRecord]:
    """Change sets by creation time, newest first; only those in ``status`` when given."""
    query = sa.select(*_RECORD).order_by(changeset.c.created_at.desc(), changeset.c.id.desc())
    if before is not None:
        query = query.where(changeset.c.created_at < before)
    if status is not None:
        query = query.where(changeset.c.status == status)
    return [_record(row) for row in await connection.execute(query.limit(limit))]


async def encoded(value: Any) -> msgspec.Raw:
    """``value`` as JSON, encoded on a worker thread: for a JSON column (issue 21)."""
    return msgspec.Raw(await to_thread.run_sync(msgspec.json.encode, value))


async def insert(
    connection: AsyncConnection, record: ChangeSetRecord, document: ChangeSetDocument
) -> None:
    # Structs go to the JSON columns encoded already (the engine's serializer, msgspec's, takes
    # a Raw as it is): megabytes of JSON are encoded on a worker thread, not the event loop.
    values = {**msgspec.structs.asdict(record), "plan": await encoded(record.plan)}
    await connection.execute(
        sa.insert(changeset).values(**values, document=await encoded(document))
    )


async def replan(connection: AsyncConnection, record: ChangeSetRecord) -> None:
    """Store a new plan, and the review state that goes with it, for an unpublished set."""
    await connection.execute(
        sa.update(changeset)
        .where(changeset.c.id == record.id, changeset.c.status != "published")
        .values(
            plan=await encoded(record.plan),
            base_versions=record.base_versions,
            status=record.status,
            approved_by=record.approved_by,
            approved_at=record.approved_at,
            failure=record.failure,
        )
    )


async def set_review(
    connection: AsyncConnection, record: ChangeSetRecord, *, expected: Status
) -> bool:
    """Store ``record``'s status, approval and failure if it is still ``expected``.

    The condition makes the change a claim: of several processes deciding about the same
    change set, exactly one sees True.
    """
    result = await connection.execute(
        sa.update(changeset)
        .where(changeset.c.id == record.id, changeset.c.status == expected)
        .values(
            status=record.status,
            approved_by=record.approved_by,
            approved_at=record.approved_at,
            failure=record.failure,
        )
    )
    return result.rowcount == 1


async def due(connection: AsyncConnection, now: datetime) -> list[str]:
    """The ids of scheduled change sets whose ``publish_at`` has come, earliest first."""
    rows = await connection.execute(
        sa.select(changeset.c.id)
        .where(changeset.c.status == "scheduled", changeset.c.publish_at <= now)
        .order_by(changeset.c.publish_at, changeset.c.id)
        .limit(100)
    )
    return [row.id for row in rows]


async def next_due(connection: AsyncConnection) -> datetime | None:
    """The earliest ``publish_at`` of a scheduled change set, if any."""
    moment: datetime | None = await connection.scalar(
        sa.select(sa.func.min(changeset.c.publish_at)).where(changeset.c.status == "scheduled")
    )
    return moment


async def mark_published(
    connection: AsyncConnection, record: ChangeSetRecord, *, plan_stored: bool = False
) -> None:
    """Record the publish; ``plan_stored``: this transaction already wrote ``record.plan``
    (a plan of a big change set is megabytes of JSON, not worth sending twice)."""
    values: dict[str, Any] = {
        "failure": None,
        "status": record.status,
        "published_at": record.published_at,
        "versions": record.versions,
        "seq": record.seq,
    }
    if not plan_stored:
        values["plan"] = await encoded(record.plan)
    await connection.execute(sa.update(changeset).where(changeset.c.id == record.id).values(values))
