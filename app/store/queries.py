"""Reads from the store: lists at a version, value history, versions, the publish generation."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.planning import ListState
from app.domain.values import VALUE_FIELDS, Value
from app.store.tables import change, changeset, codelist, list_version, publish_lock, value_revision


class ListVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One published version of a list: its metadata and what the publish did."""

    list_id: int
    key: str
    version: int
    name: str
    description: str | None
    source: str | None
    attribute_schema: dict[str, str]
    published_at: datetime
    changeset: str
    release: str | None
    reason: str
    value_count: int
    added: int
    changed: int
    deactivated: int
    reactivated: int

    def metadata(self) -> dict[str, Any]:
        """The fields every answer describing a list starts with."""
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "attributes": self.attribute_schema,
            "version": self.version,
            "published_at": self.published_at,
        }


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    changeset: str
    published_at: datetime
    value: Value


_VERSION_COLUMNS = (
    codelist.c.id.label("list_id"),
    codelist.c.key,
    list_version.c.version,
    list_version.c.name,
    list_version.c.description,
    list_version.c.source,
    list_version.c.attribute_schema,
    list_version.c.published_at,
    list_version.c.changeset_id.label("changeset"),
    changeset.c.release,
    changeset.c.reason,
    list_version.c.value_count,
    list_version.c.added,
    list_version.c.changed,
    list_version.c.deactivated,
    list_version.c.reactivated,
)

_VERSIONS = (
    sa.select(*_VERSION_COLUMNS)
    .join_from(codelist, list_version, list_version.c.list_id == codelist.c.id)
    .join(changeset, changeset.c.id == list_version.c.changeset_id)
)


def _list_version(row: Any) -> ListVersion:
    return ListVersion(**row._mapping)


# The columns of a value, in the order ``value_from_row`` reads them by position (decoding a
# 1,000-value list is on the path of the first read after a publish).
VALUE_COLUMNS = tuple(value_revision.c[name] for name in ("code", *VALUE_FIELDS))


def value_from_row(row: Any) -> Value:
    (code, name, description, valid_from, valid_to, active, sort_order, parent, successors,
     attributes) = row[:10]  # fmt: skip
    return Value(
        code=code,
        name=name,
        description=description,
        valid_from=valid_from,
        valid_to=valid_to,
        active=active,
        sort_order=sort_order,
        parent=parent,
        replaced_by=tuple(successors),
        attributes=attributes,
    )


async def generation(connection: AsyncConnection) -> int:
    """How many publishes have committed: cheap to poll, changes with every publish."""
    result = await connection.scalar(sa.select(publish_lock.c.generation))
    return int(result or 0)


async def last_seq(connection: AsyncConnection) -> int:
    """The newest change-feed number (0 before the first publish)."""
    return int(await connection.scalar(sa.select(sa.func.max(change.c.seq))) or 0)


async def last_published_at(connection: AsyncConnection) -> datetime | None:
    """The publish time of the newest list version (None before the first publish)."""
    found: datetime | None = await connection.scalar(
        sa.select(sa.func.max(list_version.c.published_at))
    )
    return found


async def latest_versions(
    connection: AsyncConnection, keys: Collection[str] | None = None
) -> dict[str, ListVersion]:
    """The latest version of every list (or of the lists named in ``keys``)."""
    later = list_version.alias("later")
    latest = (
        sa.select(sa.func.max(later.c.version))
        .where(later.c.list_id == list_version.c.list_id)
        .scalar_subquery()
    )
    query = _VERSIONS.where(list_version.c.version == latest).order_by(codelist.c.key)
    if keys is not None:
        query = query.where(codelist.c.key.in_(list(keys)))
    rows = await connection.execute(query)
    return {row.key: _list_version(row) for row in rows}


async def list_version_at(
    connection: AsyncConnection, key: str, version: int
) -> ListVersion | None:
    query = _VERSIONS.where(codelist.c.key == key, list_version.c.version == version)
    row = (await connection.execute(query)).first()
    return _list_version(row) if row else None


async def versions_of(connection: AsyncConnection, list_id: int, up_to: int) -> list[ListVersion]:
    query = _VERSIONS.where(
        list_version.c.list_id == list_id, list_version.c.version <= up_to
    ).order_by(list_version.c.version)
    return [_list_version(row) for row in await connection.execute(query)]


def _current_at(version: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        value_revision.c.version_from <= version,
        sa.or_(value_revision.c.version_to.is_(None), value_revision.c.version_to > version),
    )


async def values_at(connection: AsyncConnection, list_id: int, version: int) -> list[Value]:
    """Every value of a list as it was at ``version``, in no particular order."""
    query = sa.select(*VALUE_COLUMNS).where(
        value_revision.c.list_id == list_id, _current_at(version)
    )
    return [value_from_row(row) for row in (await connection.execute(query)).all()]


async def current_states(connection: AsyncConnection, keys: Iterable[str]) -> dict[str, ListState]:
    """The latest state of the named lists that exist, for planning a change set."""
    heads = await latest_versions(connection, set(keys))
    if not heads:
        return {}
    by_id = {head.list_id: head for head in heads.values()}
    states = {
        head.key: ListState(
            key=head.key,
            version=head.version,
            name=head.name,
            description=head.description,
            source=head.source,
            attribute_schema=dict(head.attribute_schema),
        )
        for head in heads.values()
    }
    query = (
        sa.select(*VALUE_COLUMNS, value_revision.c.list_id)
        .where(value_revision.c.list_id.in_(list(by_id)), value_revision.c.version_to.is_(None))
        .order_by(value_revision.c.list_id, value_revision.c.code)
    )
    rows = (await connection.execute(query)).all()

    def fill() -> None:
        for row in rows:
            states[by_id[row.list_id].key].values[row.code] = value_from_row(row)

    # A list of a million values takes seconds to decode: on a worker thread (issue 21).
    await to_thread.run_sync(fill)
    return states


# Every value revision with the change set and time of the publish that made it.
REVISIONS = sa.select(
    *VALUE_COLUMNS,
    value_revision.c.list_id,
    value_revision.c.version_from,
    list_version.c.changeset_id,
    list_version.c.published_at,
).join(
    list_version,
    sa.and_(
        list_version.c.list_id == value_revision.c.list_id,
        list_version.c.version == value_revision.c.version_from,
    ),
)


async def value_history(
    connection: AsyncConnection, list_id: int, code: str, up_to: int
) -> list[HistoryEntry]:
    """Every revision of one value published up to ``up_to``, oldest first."""
    query = REVISIONS.where(
        value_revision.c.list_id == list_id,
        value_revision.c.code == code,
        value_revision.c.version_from <= up_to,
    ).order_by(value_revision.c.version_from)
    return [
        HistoryEntry(
            version=row.version_from,
            changeset=row.changeset_id,
            published_at=row.published_at,
            value=value_from_row(row),
        )
        for row in await connection.execute(query)
    ]
