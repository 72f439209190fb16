"""The local copy the mirror keeps: plain SQLite a supplier can use as it is.

Tables: ``codelist`` (metadata and version), ``code_value`` (one row per list and code, as it is
now), ``value_history`` (one row per published revision) and ``sync_state`` (source and
cursor). Every change goes in through a transaction together with the cursor, so the copy is
always at a page boundary of the feed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import msgspec

from app.domain.values import Value
from app.wire import Change, ChangesPage, Export, ListMetadata, Revision

FeedChange = Change[Value]  # the feed as the mirror reads it: values decoded
FeedPage = ChangesPage[Value]

_VALUE_FIELDS = ("name", "description", "valid_from", "valid_to", "active", "sort_order", "parent")
_HISTORY_FIELDS = ("version", "changeset", "published_at", "name", "valid_from", "valid_to")
LIST_FIELDS = ("name", "description", "source", "attributes", "version", "published_at")
_SELECT_LISTS = f"SELECT key, {', '.join(LIST_FIELDS)} FROM codelist ORDER BY key"  # noqa: S608


class CopyConflict(Exception):
    """Two mirrors started the same copy at the same time."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    source TEXT NOT NULL,      -- the service's base URL
    cursor INTEGER NOT NULL    -- the last feed seq applied: the next read is after=cursor
);
CREATE TABLE IF NOT EXISTS codelist (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    source TEXT,
    attributes TEXT NOT NULL,  -- JSON: attribute name -> type
    version INTEGER NOT NULL,
    published_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS code_value (
    list TEXT NOT NULL REFERENCES codelist (key),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    valid_from TEXT NOT NULL,  -- YYYY-MM-DD; valid on [valid_from, valid_to)
    valid_to TEXT,
    active INTEGER NOT NULL,
    sort_order INTEGER,
    parent TEXT,
    replaced_by TEXT NOT NULL, -- JSON array of codes
    attributes TEXT NOT NULL,  -- JSON object
    PRIMARY KEY (list, code)
);
CREATE TABLE IF NOT EXISTS value_history (
    list TEXT NOT NULL,
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    changeset TEXT NOT NULL,
    published_at TEXT NOT NULL,
    name TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    active INTEGER NOT NULL,
    PRIMARY KEY (list, code, version),
    FOREIGN KEY (list, code) REFERENCES code_value (list, code)
);
"""


def open_copy(path: Path) -> sqlite3.Connection:
    """The local copy, created if need be; transactions are explicit (``transaction``)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=30000")
    db.executescript(SCHEMA)
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")  # the write lock now: another mirror on the file waits
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def sync_state(db: sqlite3.Connection) -> tuple[str, int] | None:
    row = db.execute("SELECT source, cursor FROM sync_state").fetchone()
    return None if row is None else (row[0], row[1])


def list_versions(db: sqlite3.Connection) -> dict[str, int]:
    return dict(db.execute("SELECT key, version FROM codelist").fetchall())


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _text(value: Any) -> Any:
    """Dates and times as the JSON answers write them (RFC 3339), other values as they are."""
    return msgspec.to_builtins(value)


def put_list(db: sqlite3.Connection, item: ListMetadata) -> None:
    """Insert a list, or update it to ``item``'s version if that is newer."""
    db.execute(
        "INSERT INTO codelist (key, name, description, source, attributes, version, published_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET name = excluded.name,"
        " description = excluded.description, source = excluded.source,"
        " attributes = excluded.attributes, version = excluded.version,"
        " published_at = excluded.published_at WHERE excluded.version > codelist.version",
        [
            item.key,
            item.name,
            item.description,
            item.source,
            _json(item.attributes),
            item.version,
            _text(item.published_at),
        ],
    )


def _put_value(db: sqlite3.Connection, key: str, value: Value) -> None:
    fields = [_text(getattr(value, name)) for name in _VALUE_FIELDS]
    db.execute(
        "INSERT INTO code_value (list, code, name, description, valid_from, valid_to, active,"
        " sort_order, parent, replaced_by, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (list, code) DO UPDATE SET name = excluded.name,"
        " description = excluded.description, valid_from = excluded.valid_from,"
        " valid_to = excluded.valid_to, active = excluded.active,"
        " sort_order = excluded.sort_order, parent = excluded.parent,"
        " replaced_by = excluded.replaced_by, attributes = excluded.attributes",
        [key, value.code, *fields, _json(value.replaced_by), _json(value.attributes)],
    )


def _put_history(db: sqlite3.Connection, key: str, code: str, entry: Revision) -> None:
    db.execute(
        "INSERT INTO value_history (list, code, version, changeset, published_at, name,"
        " valid_from, valid_to, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [key, code, *(_text(getattr(entry, name)) for name in _HISTORY_FIELDS), entry.active],
    )


def store_export(db: sqlite3.Connection, source: str, data: Export) -> None:
    with transaction(db):
        if sync_state(db) is not None:
            raise CopyConflict("another mirror started this copy at the same time")
        for item in data.codelists:
            put_list(db, item)
            for value in item.values:
                _put_value(db, item.key, value)
                for entry in value.history:
                    _put_history(db, item.key, value.code, entry)
        db.execute(
            "INSERT INTO sync_state (id, source, cursor) VALUES (1, ?, ?)", [source, data.seq]
        )


def _apply_change(db: sqlite3.Connection, change: FeedChange) -> None:
    """One feed entry: the value as it is after the change, and its history row."""
    value = change.value
    _put_value(db, change.list, value)
    entry = Revision.of(
        value, version=change.version, changeset=change.changeset, published_at=change.published_at
    )
    _put_history(db, change.list, value.code, entry)


def apply_page(
    db: sqlite3.Connection,
    changes: list[FeedChange],
    lists: list[ListMetadata],
    next_after: int,
) -> int:
    """Apply one page and move the cursor, all or nothing; entries at or before the cursor are
    skipped (another mirror on the same file got there first). Returns the entries applied."""
    with transaction(db):
        state = sync_state(db)
        assert state is not None
        cursor = state[1]
        for item in lists:
            put_list(db, item)
        fresh = [change for change in changes if change.seq > cursor]
        for change in fresh:
            _apply_change(db, change)
        db.execute("UPDATE sync_state SET cursor = ? WHERE cursor < ?", [next_after, next_after])
    return len(fresh)


def read_copy(path: Path) -> dict[str, Any]:
    """The copy in the export's shape (``{"seq", "codelists"}``), lists by key, values by code."""
    with closing(sqlite3.connect(path)) as db:
        state = sync_state(db)
        history: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in db.execute("SELECT * FROM value_history ORDER BY list, code, version"):
            key, code, *fields, active = row
            entry = dict(zip(_HISTORY_FIELDS, fields, strict=True))
            history.setdefault((key, code), []).append({**entry, "active": bool(active)})
        values: dict[str, list[dict[str, Any]]] = {}
        for row in db.execute("SELECT * FROM code_value ORDER BY list, code"):
            key, code, *fields, replaced_by, attributes = row
            value = {"code": code, **dict(zip(_VALUE_FIELDS, fields, strict=True))}
            value["active"] = bool(value["active"])
            value["replaced_by"] = msgspec.json.decode(replaced_by)
            value["attributes"] = msgspec.json.decode(attributes)
            value["history"] = history.get((key, code), [])
            values.setdefault(key, []).append(value)
        lists = []
        for row in db.execute(_SELECT_LISTS):
            item = dict(zip(("key", *LIST_FIELDS), row, strict=True))
            item["attributes"] = msgspec.json.decode(item["attributes"])
            lists.append({**item, "values": values.get(item["key"], [])})
    return {"seq": state[1] if state else 0, "codelists": lists}


def current_cursor(db: sqlite3.Connection) -> int:
    state = sync_state(db)
    assert state is not None
    return state[1]
