"""The change feed: one entry per changed value per publish, numbered in commit order.

``seq`` is assigned under the publish lock inside the publishing transaction, so a publish's
entries become visible together and after every earlier publish's: a reader paging with
``seq > after`` never skips an entry that commits late with a smaller number.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.store.tables import change

ChangeKind = Literal["created", "updated", "deactivated", "reactivated"]


class Change(msgspec.Struct, kw_only=True):
    seq: int
    list: str
    code: str
    kind: ChangeKind
    version: int
    changeset: str
    published_at: datetime
    effective_date: date
    value: dict[str, Any]  # the value after the change: its stored fields
    previous: dict[str, Any] | None  # before (null when created)


_COLUMNS = (
    change.c.seq,
    change.c.list_key.label("list"),
    change.c.code,
    change.c.kind,
    change.c.version,
    change.c.changeset_id.label("changeset"),
    change.c.published_at,
    change.c.effective_date,
    change.c.value,
    change.c.previous,
)


def _changes(rows: Iterable[Any]) -> list[Change]:
    return [Change(**row._mapping) for row in rows]


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
