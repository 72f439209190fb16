"""Engines for both databases, and migrations run through alembic on a given connection."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def bundled_folder(packaged: str, source: str) -> Path:
    """A folder the wheel carries as ``app/<packaged>`` and a checkout has at ``<source>``.

    The project's top level (``alembic/``, ``seed/``) is fixed; the wheel copies those folders
    into the package (pyproject.toml, force-include) so an installed service needs no checkout.
    """
    inside = files("app") / packaged
    if inside.is_dir():
        return Path(str(inside))
    return Path(__file__).resolve().parents[2] / source


ALEMBIC_DIR = bundled_folder("migrations", "alembic")
# alembic's default version table, which alembic/env.py keeps.
_VERSION_TABLE = sa.table("alembic_version", sa.column("version_num"))


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# JSON columns (values in the change feed, plans, attributes) through msgspec: several times
# faster than the json module when a publish writes thousands of rows.
_JSON = {"json_serializer": _json_text, "json_deserializer": msgspec.json.decode}


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **_JSON)
        sa.event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **_JSON)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer publishes; foreign keys are off by default there.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """``alembic upgrade head`` on ``engine``'s database."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


@cache
def head_revision() -> str | None:
    """The newest migration's revision (read once: the migrations never change at run time)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision the database is migrated to, or None before the first migration.

    Read from alembic's version table by a plain query rather than through alembic's
    ``MigrationContext``, which logs two INFO lines ("Context impl ...", "Will assume ...")
    each time it is made: a readiness probe every few seconds would flood the log.
    """

    def read(sync_connection: Connection) -> str | None:
        if not sa.inspect(sync_connection).has_table(_VERSION_TABLE.name):
            return None
        rows = sync_connection.execute(sa.select(_VERSION_TABLE.c.version_num))
        revisions = sorted(str(revision) for revision in rows.scalars())
        # Several rows would mean several branch heads: not "at head" for a linear history.
        return ",".join(revisions) or None

    return await connection.run_sync(read)
