"""Stored change sets: the document as submitted, its plan, and what publishing it did."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

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
    plan: dict[str, Any]
    base_versions: dict[str, int]
    versions: dict[str, int] | None
    seq: int | None
    content_hash: str
    document: dict[str, Any]


def _record(row: sa.Row[Any]) -> ChangeSetRecord:
    return ChangeSetRecord(**row._mapping)


async def get(connection: AsyncConnection, changeset_id: str) -> ChangeSetRecord | None:
    row = (
        await connection.execute(sa.select(changeset).where(changeset.c.id == changeset_id))
    ).first()
    return _record(row) if row else None


async def newest_first(
    connection: AsyncConnection, *, limit: int, before: datetime | None = None
) -> list[ChangeSetRecord]:
    query = sa.select(changeset).order_by(changeset.c.created_at.desc(), changeset.c.id.desc())
    if before is not None:
        query = query.where(changeset.c.created_at < before)
    return [_record(row) for row in await connection.execute(query.limit(limit))]


async def insert(connection: AsyncConnection, record: ChangeSetRecord) -> None:
    await connection.execute(sa.insert(changeset).values(**msgspec.structs.asdict(record)))


async def replan(connection: AsyncConnection, record: ChangeSetRecord) -> None:
    """Store a new plan for a change set that is not published yet."""
    await connection.execute(
        sa.update(changeset)
        .where(changeset.c.id == record.id, changeset.c.status == "planned")
        .values(plan=record.plan, base_versions=record.base_versions)
    )


async def mark_published(connection: AsyncConnection, record: ChangeSetRecord) -> None:
    await connection.execute(
        sa.update(changeset)
        .where(changeset.c.id == record.id)
        .values(
            status=record.status,
            published_at=record.published_at,
            versions=record.versions,
            seq=record.seq,
            plan=record.plan,
        )
    )
