"""The alembic migrations, on both databases: they build exactly the tables the code uses."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.database import alembic_config, current_revision, head_revision
from app.store.tables import metadata


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _downgrade_and_upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")
    command.upgrade(config, "head")


async def test_migrations_match_the_tables_in_code(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await current_revision(connection) == head_revision()
        assert await connection.run_sync(_differences) == []


async def test_migrations_downgrade_and_upgrade_again(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade_and_upgrade)
    async with engine.connect() as connection:
        assert await current_revision(connection) == head_revision()
        assert await connection.run_sync(_differences) == []
