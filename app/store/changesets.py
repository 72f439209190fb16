"""Stored change sets: the document as submitted, its plan, and what publishing it did."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.documents import ChangeSetDocument, convert_document
from app.domain.planning import Plan
from app.store.tables import changeset

Status = Literal["planned", "published"]


class ChangeSetRecord(msgspec.Struct, kw_only=True):
    id: str
    status: Status
    release: str | None
    reason: str
    reference: str | None
    author: str
    created_at: datetime
    published_at: datetime | None
    plan: Plan
    base_versions: dict[str, int]
    versions: dict[str, int] | None
    seq: int | None
    content_hash: str


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
    return convert_document(stored)


async def newest_first(
    connection: AsyncConnection, *, limit: int, before: datetime | None = None
) -> list[ChangeSetRecord]:
    query = sa.select(*_RECORD).order_by(changeset.c.created_at.desc(), changeset.c.id.desc())
    if before is not None:
        query = query.where(changeset.c.created_at < before)
    return [_record(row) for row in await connection.execute(query.limit(limit))]


async def insert(
    connection: AsyncConnection, record: ChangeSetRecord, document: ChangeSetDocument
) -> None:
    # Structs go to the JSON columns as they are: the engine's serializer is msgspec's.
    await connection.execute(
        sa.insert(changeset).values(**msgspec.structs.asdict(record), document=document)
    )


async def replan(connection: AsyncConnection, record: ChangeSetRecord) -> None:
    """Store a new plan for a change set that is not published yet."""
    await connection.execute(
        sa.update(changeset)
        .where(changeset.c.id == record.id, changeset.c.status == "planned")
        .values(plan=record.plan, base_versions=record.base_versions)
    )


async def mark_published(
    connection: AsyncConnection, record: ChangeSetRecord, *, plan_stored: bool = False
) -> None:
    """Record the publish; ``plan_stored``: this transaction already wrote ``record.plan``
    (a plan of a big change set is megabytes of JSON, not worth sending twice)."""
    values: dict[str, Any] = {
        "status": record.status,
        "published_at": record.published_at,
        "versions": record.versions,
        "seq": record.seq,
    }
    if not plan_stored:
        values["plan"] = record.plan
    await connection.execute(sa.update(changeset).where(changeset.c.id == record.id).values(values))
