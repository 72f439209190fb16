"""The reference sync client: a local SQLite copy kept up to date from the public sync endpoints.

It is the proof that the feed is enough. The export is a consistent starting point with the
``seq`` it matches; the feed after that ``seq`` has every value change in commit order. Each
page of the feed is applied together with the new cursor in one local transaction, so an
interruption (a crash, Ctrl-C, a dropped connection) leaves the copy at a page boundary, and a
restart goes on from there. HTTP is only ever awaited outside a local transaction.

The feed carries values, not list metadata: when a page brings a new version of a list, its
metadata is read at exactly that version (``/v1/codelists/{key}?version=N``). A publish that
changes only metadata (``update_list``, or ``create_list`` with no values) has no feed entry; it
is adopted from the list index whenever the copy is caught up, once ``/versions`` shows that
every version in between changed no value (otherwise the feed has not brought them yet).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import sys
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from app.mirror.local_copy import (
    CopyConflict,
    FeedChange,
    FeedPage,
    apply_page,
    current_cursor,
    list_versions,
    open_copy,
    put_list,
    store_export,
    sync_state,
    transaction,
)
from app.reads.schemas import CodeListsOut, VersionsOut
from app.wire import Export, ListMetadata

T = TypeVar("T")
PAGE_LIMIT = 5000
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class MirrorError(Exception):
    """Something the mirror cannot go on from: a non-transient answer, retries exhausted."""


@dataclass(frozen=True)
class Retry:
    """Bounded exponential back-off for transient failures; ``attempts=None`` retries for ever
    (a follower should outlive a restart of the service), still with a bounded delay."""

    attempts: int | None = 6
    first_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay, self.first_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class MirrorResult:
    cursor: int  # the feed seq the copy now stands at
    exported: bool  # this run started the copy from the export
    pages: int  # feed pages read
    applied: int  # feed entries applied
    lists_refreshed: int  # list metadata read (a new list or version)


Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class _Source:
    """GETs JSON from the service, retrying transient failures."""

    def __init__(self, client: httpx.AsyncClient, retry: Retry, log: Log) -> None:
        self.client, self.retry, self.log = client, retry, log

    async def get(
        self,
        path: str,
        answer: type[T],
        params: Mapping[str, str | int | float] | None = None,
        *,
        read_timeout: float | None = None,
        retry_not_found: bool = False,
    ) -> T:
        """GET ``path`` decoded as ``answer`` (a wire schema shared with the server)."""
        timeout: Any = httpx.USE_CLIENT_DEFAULT
        if read_timeout is not None:
            timeout = httpx.Timeout(30.0, read=read_timeout)
        transient = TRANSIENT_STATUS | ({404} if retry_not_found else set())
        attempt = 0
        while True:
            attempt += 1
            retry_after = 0.0
            try:
                response = await self.client.get(path, params=params, timeout=timeout)
            except httpx.TransportError as exc:  # refused, reset, timed out: worth another try
                url = f"{str(self.client.base_url).rstrip('/')}{path}"
                problem = f"GET {url}: {type(exc).__name__} {exc}".rstrip()
            else:
                if response.is_success:
                    try:
                        return msgspec.json.decode(response.content, type=answer)
                    except msgspec.ValidationError as exc:
                        where = response.request.url
                        raise MirrorError(f"GET {where}: unexpected answer: {exc}") from None
                    except msgspec.DecodeError as exc:
                        raise MirrorError(f"GET {response.request.url}: not JSON: {exc}") from None
                problem = f"GET {response.request.url} answered {_describe(response)}"
                if response.status_code not in transient:
                    raise MirrorError(problem)
                retry_after = _retry_after(response)
            limit = self.retry.attempts
            if retry_not_found and limit is None:
                limit = 6  # the service may lag its own feed by a poll, not for ever
            if limit is not None and attempt >= limit:
                raise MirrorError(f"{problem} (gave up after {attempt} attempts)")
            delay = min(self.retry.max_delay, max(self.retry.delay(attempt), retry_after))
            self.log(f"{problem}; retrying in {delay:.1f} s")
            await asyncio.sleep(delay)


def _describe(response: httpx.Response) -> str:
    text = f"{response.status_code} {response.reason_phrase}".strip()
    try:
        body = response.json()
    except ValueError:
        return text
    detail = body.get("detail") or body.get("title") if isinstance(body, dict) else None
    return f"{text}: {detail}" if detail else text


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "0")))
    except ValueError:
        return 0.0  # an HTTP date: the back-off will do


# Following the service -----------------------------------------------------------------------


async def _list_at(source: _Source, key: str, version: int) -> ListMetadata:
    # This process's feed can be ahead of its own catalog by a poll (a publish by another
    # process): a 404 for a version the feed already showed is retried, boundedly.
    return await source.get(
        f"/v1/codelists/{quote(key, safe='')}",
        ListMetadata,
        {"version": version},
        retry_not_found=True,
    )


async def _lists_for(
    source: _Source, db: sqlite3.Connection, changes: list[FeedChange]
) -> list[ListMetadata]:
    """Metadata of every list the page brings to a newer version, at that version."""
    known = list_versions(db)
    newest: dict[str, int] = {}
    for change in changes:
        newest[change.list] = max(newest.get(change.list, 0), change.version)
    return [
        await _list_at(source, key, version)
        for key, version in sorted(newest.items())
        if version > known.get(key, 0)
    ]


async def _adopt_metadata_only_versions(source: _Source, db: sqlite3.Connection) -> int:
    """Bring in list versions the feed has no entries for (metadata-only publishes)."""
    known = list_versions(db)
    adopted = 0
    for item in (await source.get("/v1/codelists", CodeListsOut)).codelists:
        key, latest = item.key, item.version
        if latest <= known.get(key, 0):
            continue
        path = f"/v1/codelists/{quote(key, safe='')}/versions"
        versions = (await source.get(path, VersionsOut)).versions
        between = [v for v in versions if known.get(key, 0) < v.version <= latest]
        if any(v.added or v.changed or v.deactivated or v.reactivated for v in between):
            continue  # value changes the feed has yet to bring: they come with their metadata
        metadata = await _list_at(source, key, latest)
        with transaction(db):
            put_list(db, metadata)
        adopted += 1
        source.log(f"{key} is at version {latest} (list metadata only)")
    return adopted


def _check_page(page: FeedPage, cursor: int) -> list[FeedChange]:
    changes = page.changes
    seqs = [change.seq for change in changes]
    if any(later <= earlier for earlier, later in zip([cursor, *seqs], seqs, strict=False)):
        raise MirrorError(f"the feed after {cursor} is not in increasing seq order: {seqs[:10]}")
    if changes and page.next_after != seqs[-1]:
        raise MirrorError(f"next_after {page.next_after} is not the page's last seq {seqs[-1]}")
    return changes


async def mirror(
    client: httpx.AsyncClient,
    into: Path,
    *,
    once: bool = True,
    wait: float = 30.0,
    limit: int = PAGE_LIMIT,
    retry: Retry | None = None,
    log: Log = _quiet,
) -> MirrorResult:
    """Bring the copy at ``into`` up to date with the service ``client`` is based on.

    With ``once`` it returns when caught up; otherwise it follows for ever, long-polling
    ``wait`` seconds per request, until cancelled.
    """
    source = _Source(client, retry or Retry(), log)
    origin = str(client.base_url).rstrip("/")
    exported = False
    pages = applied = refreshed = 0
    with closing(open_copy(into)) as db:
        state = sync_state(db)
        if state is None:
            data = await source.get("/v1/export", Export)
            store_export(db, origin, data)
            exported = True
            values = sum(len(item.values) for item in data.codelists)
            log(f"copied {len(data.codelists)} lists, {values} values at seq {data.seq}")
        elif state[0] != origin:
            raise MirrorError(
                f"{into} is a copy of {state[0]}, not of {origin}; use another file for it"
            )
        while True:
            cursor = current_cursor(db)
            params: dict[str, str | int | float] = {"after": cursor, "limit": limit}
            if not once and wait > 0:
                params["wait"] = wait
            page = await source.get("/v1/changes", FeedPage, params, read_timeout=wait + 30.0)
            pages += 1
            changes = _check_page(page, cursor)
            lists = await _lists_for(source, db, changes)
            refreshed += len(lists)
            if changes:
                count = apply_page(db, changes, lists, page.next_after)
                applied += count
                log(f"applied {count} changes; at seq {current_cursor(db)}")
            if not page.has_more:
                refreshed += await _adopt_metadata_only_versions(source, db)
                if once:
                    break
                if not changes and wait <= 0:
                    await asyncio.sleep(1.0)  # following without long-polls: poll, gently
        return MirrorResult(current_cursor(db), exported, pages, applied, refreshed)


# The command line ----------------------------------------------------------------------------

_SQLITE_URL = re.compile(r"^sqlite(\+\w+)?:///(?P<path>.+)$")


def local_path(into: str) -> Path:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or a plain path."""
    match = _SQLITE_URL.match(into)
    if match:
        into = match["path"]
    elif "://" in into or into.startswith("sqlite:"):
        raise MirrorError(f"--into must be sqlite:///FILE or a file path, not {into!r}")
    if into in {"", ":memory:"}:
        raise MirrorError("--into must name a file")
    return Path(into)


def make_client(source: str, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=source, headers=headers, timeout=30.0)


def run(source: str, into: str, *, once: bool, wait: float, token: str | None) -> int:
    """The ``codelists mirror`` command: 0 when caught up or stopped with Ctrl-C, 1 on errors."""

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    async def main(path: Path) -> MirrorResult:
        async with make_client(source, token) as client:
            retry = Retry(attempts=6 if once else None)
            return await mirror(client, path, once=once, wait=wait, retry=retry, log=log)

    try:
        path = local_path(into)
        result = asyncio.run(main(path))
    except (MirrorError, CopyConflict) as exc:
        log(f"Error: {exc}")
        return 1
    except sqlite3.Error as exc:
        log(f"Error: the local copy {into}: {exc}")
        return 1
    except KeyboardInterrupt:
        with closing(open_copy(path)) as db:
            state = sync_state(db)
        log(f"stopped at seq {state[1] if state else 0}; run again to go on from there")
        return 0
    print(f"{path} is at seq {result.cursor} ({result.applied} changes applied)")
    return 0
