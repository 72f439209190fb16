"""Many-row inserts straight to the driver, for the publish transaction's hot path.

SQLAlchemy's executemany processes every parameter of every row in Python (about 10 µs a
row); a publish of a reform or a seed of a national store writes two rows per changed value,
so the rows are converted here once per column type and handed to the driver's executemany.
Only the types the publish writes are handled: text, integers, booleans, dates, UTC
timestamps and JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncConnection

from app.store.tables import UTCDateTime

Converter = Callable[[Any], Any]
_BATCH = 5000  # rows per statement


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
    connection: AsyncConnection,
    table: sa.Table,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """INSERT ``rows``: tuples with a value for each column in ``names``.

    On PostgreSQL the rows go in by ``COPY`` (binary), in the caller's transaction: the server
    parses and plans nothing per row, several times faster than a many-row INSERT. Many rows
    are converted on a worker thread and sent in batches of ``_BATCH``, so a publish of tens of
    thousands of values never holds the event loop for long (issue 21).
    """
    if not rows:
        return
    dialect = connection.dialect.name
    columns = [table.c[name] for name in names]

    def converted() -> list[tuple[Any, ...]]:
        # Column by column (zip transposes in C), converted where the driver needs it, and back.
        by_column = [
            _column(list(values), column, dialect)
            for values, column in zip(zip(*rows, strict=True), columns, strict=True)
        ]
        return list(zip(*by_column, strict=True))

    records = await to_thread.run_sync(converted) if len(rows) > _BATCH else converted()
    batches = [records[start : start + _BATCH] for start in range(0, len(records), _BATCH)]
    if dialect == "postgresql":
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection  # the asyncpg connection, in our transaction
        for batch in batches:
            await driver.copy_records_to_table(table.name, records=batch, columns=list(names))
        return
    if dialect == "sqlite":
        placeholders = ", ".join("?" for _ in columns)
    else:
        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    preparer = connection.dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(column.name) for column in columns)
    statement = f"INSERT INTO {preparer.format_table(table)} ({quoted}) VALUES ({placeholders})"  # noqa: S608
    for batch in batches:
        await connection.exec_driver_sql(statement, batch)


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
