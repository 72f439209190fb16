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
from app.store.tables import change, relation, relation_version

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
    change.c.relation,
    change.c.target,
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
            relation=relation,
            target=target,
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
            relation,
            target,
        ) in rows
    ]


async def page(
    connection: AsyncConnection,
    *,
    after: int,
    limit: int,
    list_key: str | None = None,
    relation: str | None = None,
) -> tuple[list[Change], bool]:
    """Up to ``limit`` entries with ``seq > after`` (of one list's values, or of one
    relation's rows, if given), and whether more follow."""
    query = sa.select(*_COLUMNS).where(change.c.seq > after).order_by(change.c.seq)
    if list_key is not None:
        query = query.where(change.c.list_key == list_key, change.c.relation.is_(None))
    if relation is not None:
        query = query.where(change.c.relation == relation)
    rows = (await connection.execute(query.limit(limit + 1))).all()
    return _changes(rows[:limit]), len(rows) > limit


async def between(
    connection: AsyncConnection, first: int, last: int, lists: Iterable[str] | None = None
) -> list[Change]:
    """The entries numbered ``first`` to ``last`` (of the given lists, if any: a value's
    entries of those lists, and a relation row's entries whose source or target list is one)."""
    query = sa.select(*_COLUMNS).where(change.c.seq.between(first, last)).order_by(change.c.seq)
    if lists is not None:
        keys = list(lists)
        joined = (
            sa.select(relation.c.key)
            .join(relation_version, relation_version.c.relation_id == relation.c.id)
            .where(relation_version.c.target_list.in_(keys))
        )
        query = query.where(sa.or_(change.c.list_key.in_(keys), change.c.relation.in_(joined)))
    return _changes((await connection.execute(query)).all())
