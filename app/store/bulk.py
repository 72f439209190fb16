"""Many-row inserts straight to the driver, for the publish transaction's hot path.

SQLAlchemy's executemany processes every parameter of every row in Python (about 10 µs a
row); a publish of a reform or a seed of a national store writes two rows per changed value,
so the rows are converted here once per column type and handed to the driver's executemany.
Only the types the publish writes are handled: text, integers, booleans, dates, UTC
timestamps and JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.store.tables import UTCDateTime

Converter = Callable[[Any], Any]


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's own format


def _postgres_timestamp(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def _converter(column: sa.Column[Any], dialect: str) -> Converter | None:
    if isinstance(column.type, sa.JSON):
        return _json
    if isinstance(column.type, UTCDateTime):
        return _sqlite_timestamp if dialect == "sqlite" else _postgres_timestamp
    if isinstance(column.type, sa.Date) and dialect == "sqlite":
        return _sqlite_date
    return None


async def insert_many(
    connection: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT ``rows`` (dicts with the same keys, all columns of ``table`` they name)."""
    if not rows:
        return
    dialect = connection.dialect.name
    columns = [table.c[name] for name in rows[0]]
    if dialect == "sqlite":
        placeholders = ", ".join("?" for _ in columns)
    else:
        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
    target = connection.dialect.identifier_preparer.format_table(table)
    statement = f"INSERT INTO {target} ({names}) VALUES ({placeholders})"  # noqa: S608
    # Column by column, then zipped into rows: a loop per column is much cheaper than a
    # generator per row.
    values = [_column([row[column.name] for row in rows], column, dialect) for column in columns]
    await connection.exec_driver_sql(statement, list(zip(*values, strict=True)))


def _column(values: list[Any], column: sa.Column[Any], dialect: str) -> list[Any]:
    convert = _converter(column, dialect)
    if convert is None:
        return values
    if isinstance(column.type, sa.JSON):
        encode = msgspec.json.encode  # inline: this runs for millions of values in a big seed
        return [None if value is None else encode(value).decode() for value in values]
    # Dates and timestamps repeat (one publish time, a few validity dates): convert each once.
    converted: dict[Any, Any] = {}
    return [
        converted[value] if value in converted else converted.setdefault(value, convert(value))
        for value in values
    ]
