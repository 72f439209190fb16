"""The full export: every list with every value and its history, and the feed position it matches.

Read in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite's WAL), so
the export plus the change feed after its ``seq`` is exactly the live state: a publish either
is in both the data and the ``seq``, or in neither.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain.values import VALUE_FIELDS
from app.store.queries import REVISIONS, last_seq, latest_versions, value_from_row
from app.store.tables import value_revision
from app.wire import Export, ExportedList, ExportedValue, Revision


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose reads all see one committed state."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                yield connection
        return
    async with engine.connect() as connection:
        # sqlite3 opens no transaction for SELECTs; an explicit one pins a WAL snapshot.
        await connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            await connection.rollback()


async def export(engine: AsyncEngine) -> Export:
    async with snapshot(engine) as connection:
        seq = await last_seq(connection)
        heads = await latest_versions(connection)
        rows = await connection.execute(
            REVISIONS.order_by(
                value_revision.c.list_id, value_revision.c.code, value_revision.c.version_from
            )
        )
        revisions: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            revisions[row.list_id][row.code].append(row)

    lists = []
    for _, head in sorted(heads.items()):
        values = [
            ExportedValue(
                **msgspec.structs.asdict(value_from_row(history[-1])),
                history=[
                    Revision.of(
                        value_from_row(row),
                        version=row.version_from,
                        changeset=row.changeset_id,
                        published_at=row.published_at,
                    )
                    for row in history
                ],
            )
            for history in revisions[head.list_id].values()
        ]
        lists.append(ExportedList(**head.metadata(), values=values))
    return Export(seq=seq, codelists=lists)


CSV_COLUMNS = ("list", "code", *VALUE_FIELDS)

CsvDialect = Literal["rfc4180", "excel"]
CSV_DIALECTS: tuple[CsvDialect, ...] = ("rfc4180", "excel")

# OWASP "CSV Injection": a spreadsheet reads a cell starting with one of these as a formula
# (or, for tab and carriage return, strips them and reads what follows as one).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: str) -> str:
    """``cell`` as a spreadsheet shows it but never evaluates: a leading ``'`` when it starts
    like a formula (OWASP CSV Injection guidance); any other cell unchanged."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _rows(data: Export) -> Iterator[list[str]]:
    yield list(CSV_COLUMNS)
    for codelist in data.codelists:
        for value in codelist.values:
            yield [
                codelist.key,
                value.code,
                value.name,
                value.description or "",
                value.valid_from.isoformat(),
                value.valid_to.isoformat() if value.valid_to else "",
                "true" if value.active else "false",
                "" if value.sort_order is None else str(value.sort_order),
                value.parent or "",
                " ".join(value.replaced_by),
                msgspec.json.encode(value.attributes).decode() if value.attributes else "",
            ]


def to_csv(data: Export, dialect: CsvDialect = "rfc4180") -> str:
    """One row per value with a ``list`` column; successors space-separated, attributes as JSON.

    ``rfc4180`` (api.md "Sync endpoints"): commas, CRLF, fields quoted only where RFC 4180 §2
    needs it, cells as stored. ``excel``: semicolons (the list separator of Danish Excel) and
    every cell made :func:`inert`; the byte-order mark is added by :func:`csv_bytes`.
    """
    out = io.StringIO()
    delimiter = ";" if dialect == "excel" else ","
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in _rows(data):
        writer.writerow([inert(cell) for cell in row] if dialect == "excel" else row)
    return out.getvalue()


def csv_bytes(data: Export, dialect: CsvDialect = "rfc4180") -> bytes:
    """:func:`to_csv` as UTF-8; with a byte-order mark for ``excel``, which otherwise reads
    the file in the machine's legacy code page (æ, ø, å garbled)."""
    return to_csv(data, dialect).encode("utf-8-sig" if dialect == "excel" else "utf-8")
