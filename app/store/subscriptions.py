"""Webhook subscriptions and their delivery outbox.

Deliveries are written in the publishing transaction (``enqueue``), so a publish and its
notifications commit together or not at all. A worker ``claim``s the oldest pending batch of
one subscription at a time (row lock with SKIP LOCKED on PostgreSQL, plus a lease that also
covers SQLite), sends it outside any transaction, and records the outcome (``finish``): at
least once, in ``seq`` order per subscription.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.store.tables import delivery, subscription

BATCH = 500  # changes per delivery
DeliveryStatus = Literal["pending", "delivered"]


class Subscription(msgspec.Struct, kw_only=True):
    id: str
    url: str
    lists: list[str] | None
    secret_encrypted: str
    created_at: datetime
    active: bool


class Delivery(msgspec.Struct, kw_only=True):
    id: str
    subscription_id: str
    first_seq: int
    last_seq: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class Claimed(msgspec.Struct, kw_only=True):
    delivery: Delivery
    subscription: Subscription


_SUBSCRIPTION = [c for c in subscription.c if c.name != "lease_until"]


async def create(
    connection: AsyncConnection, *, url: str, lists: list[str] | None, sealed: str, now: datetime
) -> Subscription:
    record = Subscription(
        id=str(uuid.uuid4()),
        url=url,
        lists=lists,
        secret_encrypted=sealed,
        created_at=now,
        active=True,
    )
    await connection.execute(sa.insert(subscription).values(**msgspec.structs.asdict(record)))
    return record


async def all_active(connection: AsyncConnection) -> list[Subscription]:
    rows = await connection.execute(
        sa.select(*_SUBSCRIPTION).where(subscription.c.active).order_by(subscription.c.created_at)
    )
    return [Subscription(**row._mapping) for row in rows]


async def get(connection: AsyncConnection, subscription_id: str) -> Subscription | None:
    row = (
        await connection.execute(
            sa.select(*_SUBSCRIPTION).where(subscription.c.id == subscription_id)
        )
    ).first()
    return Subscription(**row._mapping) if row else None


async def deactivate(connection: AsyncConnection, subscription_id: str) -> bool:
    result = await connection.execute(
        sa.update(subscription).where(subscription.c.id == subscription_id).values(active=False)
    )
    return bool(result.rowcount)


async def deliveries_of(connection: AsyncConnection, subscription_id: str) -> list[Delivery]:
    rows = await connection.execute(
        sa.select(delivery)
        .where(delivery.c.subscription_id == subscription_id)
        .order_by(delivery.c.first_seq)
    )
    return [Delivery(**row._mapping) for row in rows]


async def enqueue(
    connection: AsyncConnection, changes: Sequence[tuple[int, str]], now: datetime
) -> None:
    """Add batches of a publish's changes, given as (seq, list), to every interested
    subscription."""
    if not changes:
        return
    rows = []
    for target in await all_active(connection):
        wanted = None if target.lists is None else set(target.lists)
        seqs = [seq for seq, key in changes if wanted is None or key in wanted]
        for start in range(0, len(seqs), BATCH):
            batch = seqs[start : start + BATCH]
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "subscription_id": target.id,
                    "first_seq": batch[0],
                    "last_seq": batch[-1],
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "last_error": None,
                    "created_at": now,
                    "delivered_at": None,
                }
            )
    if rows:
        await connection.execute(sa.insert(delivery), rows)


def _oldest_pending() -> sa.ScalarSelect[Any]:
    older = delivery.alias("older")
    return (
        sa.select(sa.func.min(older.c.first_seq))
        .where(older.c.subscription_id == delivery.c.subscription_id, older.c.status == "pending")
        .scalar_subquery()
    )


def _lease_free(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(subscription.c.lease_until.is_(None), subscription.c.lease_until < now)


async def claim(connection: AsyncConnection, now: datetime, lease: timedelta) -> Claimed | None:
    """Take the oldest due batch of a subscription no one else is sending, or None."""
    query = (
        sa.select(delivery, *[c.label(f"s_{c.name}") for c in _SUBSCRIPTION])
        .join(subscription, subscription.c.id == delivery.c.subscription_id)
        .where(
            delivery.c.status == "pending",
            delivery.c.next_attempt_at <= now,
            delivery.c.first_seq == _oldest_pending(),
            subscription.c.active,
            _lease_free(now),
        )
        .order_by(delivery.c.next_attempt_at)
        .limit(1)
        .with_for_update(of=subscription, skip_locked=True)
    )
    row = (await connection.execute(query)).first()
    if row is None:
        return None
    values = row._mapping
    # Compare and set on the delivery itself: another process may have attempted this batch
    # and moved its next attempt into the future after our read (then we must not send, or
    # the back-off is ignored). The write waits for that process's row lock (PostgreSQL) or
    # the write lock (SQLite) and then sees its result.
    still_due = await connection.execute(
        sa.update(delivery)
        .where(
            delivery.c.id == values["id"],
            delivery.c.status == "pending",
            delivery.c.attempts == values["attempts"],
            delivery.c.next_attempt_at <= now,
        )
        .values(attempts=delivery.c.attempts)
    )
    if not still_due.rowcount:
        return None
    taken = await connection.execute(
        sa.update(subscription)
        .where(subscription.c.id == values["subscription_id"], _lease_free(now))
        .values(lease_until=now + lease)
    )
    if not taken.rowcount:
        return None  # another process took it between our read and write (SQLite)
    return Claimed(
        delivery=Delivery(**{c.name: values[c.name] for c in delivery.c}),
        subscription=Subscription(**{c.name: values[f"s_{c.name}"] for c in _SUBSCRIPTION}),
    )


async def finish(
    connection: AsyncConnection,
    claimed: Claimed,
    *,
    now: datetime,
    error: str | None,
    retry_at: datetime,
) -> None:
    """Record an attempt: delivered, or failed with the time of the next try; free the lease."""
    values: dict[str, Any] = {"attempts": delivery.c.attempts + 1}
    if error is None:
        values |= {"status": "delivered", "delivered_at": now}
    else:
        values |= {"last_error": error, "next_attempt_at": retry_at}
    await connection.execute(
        sa.update(delivery).where(delivery.c.id == claimed.delivery.id).values(**values)
    )
    await connection.execute(
        sa.update(subscription)
        .where(subscription.c.id == claimed.subscription.id)
        .values(lease_until=None)
    )


async def any_active(connection: AsyncConnection) -> bool:
    """Whether any subscription is active (one indexed row, not the outbox)."""
    found = await connection.scalar(
        sa.select(subscription.c.id).where(subscription.c.active).limit(1)
    )
    return found is not None


async def next_due(connection: AsyncConnection) -> datetime | None:
    due: datetime | None = await connection.scalar(
        sa.select(sa.func.min(delivery.c.next_attempt_at)).where(delivery.c.status == "pending")
    )
    return due
