"""Alembic environment: async engines, batch mode on SQLite so ALTERs work there too.

Given a connection in ``config.attributes["connection"]`` (tests, and `codelists serve` which
migrates inside its own event loop) it migrates on that; otherwise it opens one to
``sqlalchemy.url`` or DATABASE_URL.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.server.settings import Settings
from app.store.tables import metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")

existing = config.attributes.get("connection")
if existing is not None:
    run_on(existing)
else:
    asyncio.run(run_online())
