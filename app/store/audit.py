"""The audit log (api.md "Audit"): append-only entries, read in pages by ``seq``.

Entries are written in the transaction of the action they record, so an action and its entry
commit together or not at all. On PostgreSQL a sequence hands out ``seq`` at insert time, not
at commit, so two transactions could commit out of order and a reader paging by ``seq`` could
skip the later-committing smaller number; a transaction-scoped advisory lock taken just before
the insert makes audit writes commit in ``seq`` order (SQLite has one writer anyway).

``at`` never decreases along ``seq`` either ("oldest first"): an action's time is taken before
its transaction may wait for a lock, and processes' clocks differ, so an entry is dated no
earlier than the one before it. Every time in an entry, ``at`` and those in ``detail``, is
answered in one form, RFC 3339 in UTC (``timestamp``).

Every string of an entry (actor, target, and those in ``detail``) is written ``storable``
(``app/domain/storable.py``): a request path or header text holding U+0000 or a lone
surrogate, which PostgreSQL or any UTF-8 encoder refuses, is kept with those characters
escaped, visibly and reversibly, instead of failing the insert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.storable import storable, storable_json
from app.store.changesets import ChangeSetRecord
from app.store.tables import UTCDateTime, audit_log

Action = Literal[
    "changeset.submitted",
    "changeset.replanned",
    "changeset.approved",
    "changeset.rejected",
    "changeset.scheduled",
    "changeset.published",
    "changeset.failed",
    "token.created",
    "token.revoked",
    "subscription.created",
    "subscription.deleted",
    "access.denied",
]
# Any constant: the lock only orders audit inserts among themselves.
_ADVISORY_LOCK = 0x636F64656C697374  # "codelist"
_MAX_ACTOR = 200  # the column's length
_MAX_TARGET = 1000


class AuditEntry(msgspec.Struct, kw_only=True):
    """One entry as the API answers it: ``detail`` is a JSON object, never a token or secret."""

    seq: int
    at: datetime
    actor: str
    action: Action
    target: str
    detail: dict[str, Any]


def timestamp(moment: datetime) -> str:
    """``moment`` as a time in ``detail``, in the form the API answers ``at`` in: RFC 3339 in
    UTC, ending in ``Z`` (``2026-11-27T11:00:00Z``)."""
    return str(msgspec.to_builtins(moment.astimezone(UTC)))


async def append(
    connection: AsyncConnection,
    *,
    actor: str,
    action: Action,
    target: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry in ``connection``'s transaction (it commits with the action), dated
    ``now`` or, if the last entry is dated later, as that one; its strings made ``storable``
    (the actor cut to 200 characters, the target to 1,000)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK)))
    # The last entry is read inside the insert: SQLite then takes its write lock before reading,
    # so no other writer slips in between (PostgreSQL has the advisory lock above).
    latest = sa.select(audit_log.c.at).order_by(audit_log.c.seq.desc()).limit(1).scalar_subquery()
    moment = sa.literal(now, UTCDateTime())
    await connection.execute(
        sa.insert(audit_log).values(
            at=sa.case((latest > moment, latest), else_=moment),
            actor=storable(actor, _MAX_ACTOR),
            action=action,
            target=storable(target, _MAX_TARGET),
            detail=storable_json(detail or {}),
        )
    )


async def of_changeset(
    connection: AsyncConnection,
    changeset_id: str,
    actor: str,
    action: Action,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an entry about change set ``changeset_id`` (target ``changeset:<id>``)."""
    await append(
        connection,
        actor=actor,
        action=action,
        target=f"changeset:{changeset_id}",
        now=now,
        detail=detail,
    )


async def scheduled(
    connection: AsyncConnection, record: ChangeSetRecord, actor: str, now: datetime
) -> None:
    """``changeset.scheduled``, with the time it is scheduled for."""
    publish_at = timestamp(record.publish_at) if record.publish_at else None
    detail = {"publish_at": publish_at}
    await of_changeset(connection, record.id, actor, "changeset.scheduled", now, detail)


async def published(
    connection: AsyncConnection, record: ChangeSetRecord, actor: str, now: datetime
) -> None:
    """``changeset.published``, with the versions made and the last change-feed ``seq``."""
    detail = {"versions": record.versions or {}, "seq": record.seq}
    await of_changeset(connection, record.id, actor, "changeset.published", now, detail)


async def page(
    connection: AsyncConnection, *, after: int, limit: int
) -> tuple[list[AuditEntry], bool]:
    """Entries with ``seq > after``, oldest first, at most ``limit``; and whether more follow."""
    rows = await connection.execute(
        sa.select(audit_log)
        .where(audit_log.c.seq > after)
        .order_by(audit_log.c.seq)
        .limit(limit + 1)
    )
    entries = [AuditEntry(**row._mapping) for row in rows]
    return entries[:limit], len(entries) > limit


async def count(connection: AsyncConnection) -> int:
    return int(await connection.scalar(sa.select(sa.func.count()).select_from(audit_log)) or 0)
