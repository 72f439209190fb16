"""The change feed: one entry per changed value per publish, numbered in commit order.

``seq`` is assigned under the publish lock inside the publishing transaction, so a publish's
entries become visible together and after every earlier publish's: a reader paging with
``seq > after`` never skips an entry that commits late with a smaller number.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app import wire
from app.store.tables import change

# As stored: each value is passed on as the JSON text written at publish time, never decoded
# and encoded again.
Change = wire.Change[msgspec.Raw]


_COLUMNS = (
    change.c.seq,
    change.c.list_key.label("list"),
    change.c.code,
    change.c.kind,
    change.c.version,
    change.c.changeset_id.label("changeset"),
    change.c.published_at,
    change.c.effective_date,
    # As text in SQL: PostgreSQL's driver would otherwise decode the JSON.
    sa.cast(change.c.value, sa.Text).label("value"),
    sa.cast(change.c.previous, sa.Text).label("previous"),
)


def _changes(rows: Iterable[Any]) -> list[Change]:
    return [
        Change(
            seq=seq,
            list=key,
            code=code,
            kind=kind,
            version=version,
            changeset=changeset,
            published_at=published_at,
            effective_date=effective_date,
            value=msgspec.Raw(value),
            previous=None if previous is None else msgspec.Raw(previous),
        )
        for (
            seq,
            key,
            code,
            kind,
            version,
            changeset,
            published_at,
            effective_date,
            value,
            previous,
        ) in rows
    ]


async def page(
    connection: AsyncConnection, *, after: int, limit: int, list_key: str | None = None
) -> tuple[list[Change], bool]:
    """Up to ``limit`` entries with ``seq > after`` (of one list, if given), and whether more
    follow."""
    query = sa.select(*_COLUMNS).where(change.c.seq > after).order_by(change.c.seq)
    if list_key is not None:
        query = query.where(change.c.list_key == list_key)
    rows = (await connection.execute(query.limit(limit + 1))).all()
    return _changes(rows[:limit]), len(rows) > limit


async def between(
    connection: AsyncConnection, first: int, last: int, lists: Iterable[str] | None = None
) -> list[Change]:
    """The entries numbered ``first`` to ``last`` (of the given lists, if any)."""
    query = sa.select(*_COLUMNS).where(change.c.seq.between(first, last)).order_by(change.c.seq)
    if lists is not None:
        query = query.where(change.c.list_key.in_(list(lists)))
    return _changes((await connection.execute(query)).all())
