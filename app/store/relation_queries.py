"""Reads of relations from the store (issue 18): versions, rows at a version, planning states."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.relations import RelationInfo, RelationState, Row
from app.store.tables import (
    changeset,
    codelist,
    list_version,
    relation,
    relation_row,
    relation_version,
)


class RelationVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One published version of a relation: its metadata and what the publish did."""

    relation_id: int
    key: str
    version: int
    name: str
    description: str | None
    source: str | None
    source_list: str
    target_list: str
    qualifier_list: str | None
    published_at: datetime
    changeset: str
    release: str | None
    row_count: int
    added: int
    changed: int

    def info(self) -> RelationInfo:
        return RelationInfo(
            key=self.key,
            name=self.name,
            description=self.description,
            source=self.source,
            source_list=self.source_list,
            target_list=self.target_list,
            qualifier_list=self.qualifier_list,
        )

    def metadata(self) -> dict[str, Any]:
        """The fields every answer describing a relation starts with."""
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "source_list": self.source_list,
            "target_list": self.target_list,
            "qualifier_list": self.qualifier_list,
            "version": self.version,
            "published_at": self.published_at,
        }


_VERSIONS = (
    sa.select(
        relation.c.id.label("relation_id"),
        relation.c.key,
        relation_version.c.version,
        relation_version.c.name,
        relation_version.c.description,
        relation_version.c.source,
        relation_version.c.source_list,
        relation_version.c.target_list,
        relation_version.c.qualifier_list,
        relation_version.c.published_at,
        relation_version.c.changeset_id.label("changeset"),
        changeset.c.release,
        relation_version.c.row_count,
        relation_version.c.added,
        relation_version.c.changed,
    )
    .join_from(relation, relation_version, relation_version.c.relation_id == relation.c.id)
    .join(changeset, changeset.c.id == relation_version.c.changeset_id)
)

ROW_COLUMNS = (
    relation_row.c.source,
    relation_row.c.target,
    relation_row.c.valid_from,
    relation_row.c.valid_to,
    relation_row.c.active,
    relation_row.c.qualifiers,
)


def row_from(row: Any) -> Row:
    source, target, valid_from, valid_to, active, qualifiers = row[:6]
    return Row(
        source=source,
        target=target,
        valid_from=valid_from,
        valid_to=valid_to,
        active=active,
        qualifiers=tuple(qualifiers),
    )


async def latest_relation_versions(
    connection: AsyncConnection, keys: Collection[str] | None = None
) -> dict[str, RelationVersion]:
    """The latest version of every relation (or of the relations named in ``keys``)."""
    later = relation_version.alias("later")
    latest = (
        sa.select(sa.func.max(later.c.version))
        .where(later.c.relation_id == relation_version.c.relation_id)
        .scalar_subquery()
    )
    query = _VERSIONS.where(relation_version.c.version == latest).order_by(relation.c.key)
    if keys is not None:
        query = query.where(relation.c.key.in_(list(keys)))
    return {row.key: RelationVersion(**row._mapping) for row in await connection.execute(query)}


async def relation_version_at(
    connection: AsyncConnection, key: str, version: int
) -> RelationVersion | None:
    query = _VERSIONS.where(relation.c.key == key, relation_version.c.version == version)
    row = (await connection.execute(query)).first()
    return RelationVersion(**row._mapping) if row else None


async def rows_at(connection: AsyncConnection, relation_id: int, version: int) -> list[Row]:
    """Every row of a relation as it was at ``version``, in no particular order."""
    query = sa.select(*ROW_COLUMNS).where(
        relation_row.c.relation_id == relation_id,
        relation_row.c.version_from <= version,
        sa.or_(relation_row.c.version_to.is_(None), relation_row.c.version_to > version),
    )
    return [row_from(row) for row in (await connection.execute(query)).all()]


async def current_relations(
    connection: AsyncConnection, keys: Iterable[str]
) -> dict[str, RelationState]:
    """The latest state of the named relations that exist, for planning a change set."""
    heads = await latest_relation_versions(connection, set(keys))
    states: dict[str, RelationState] = {}
    for key, head in heads.items():
        query = sa.select(*ROW_COLUMNS).where(
            relation_row.c.relation_id == head.relation_id, relation_row.c.version_to.is_(None)
        )
        rows = (row_from(row) for row in (await connection.execute(query)).all())
        states[key] = RelationState(
            info=head.info(), version=head.version, rows={row.pair: row for row in rows}
        )
    return states


async def list_version_as_of(
    connection: AsyncConnection, key: str, relation: RelationVersion
) -> int | None:
    """The latest version of list ``key`` published no later than ``relation`` (None: none).

    "No later" is by the feed position of the publish (``changeset.seq``) as well as its time:
    change sets published within one clock tick (a seed) still have an order.
    """
    published_with = sa.select(changeset.c.seq).where(changeset.c.id == relation.changeset)
    found = await connection.scalar(
        sa.select(sa.func.max(list_version.c.version))
        .join(codelist, codelist.c.id == list_version.c.list_id)
        .join(changeset, changeset.c.id == list_version.c.changeset_id)
        .where(
            codelist.c.key == key,
            list_version.c.published_at <= relation.published_at,
            changeset.c.seq <= published_with.scalar_subquery(),
        )
    )
    return None if found is None else int(found)
