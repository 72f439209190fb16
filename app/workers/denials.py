"""Recording refused requests (every 401 and 403) in the audit log without letting a flood of
them fill the disk (api.md "Audit").

The first refusal of a kind (address, method, path, status) in a minute is written at once, as
one ``access.denied`` entry with ``count`` 1; further ones in that minute are only counted, and
written as one entry with their ``count`` when the minute is over. That entry is dated when it
is written, as the log is in time order (api.md "the audit log, oldest first"); its ``first_at``
and ``last_at`` say when the refusals it counts were made. A flood from one address
therefore writes about two entries a minute per kind, and an address inventing new paths gets
at most ``_KINDS_PER_ADDRESS`` kinds a minute before the rest are counted together under one.
All keys together are capped too, so memory stays bounded however many addresses take part.

An entry the database does not take (it is down, or busy beyond its timeout) is not dropped:
it waits in a bounded queue and is written again every few seconds, in order, with the time of
its refusals in ``first_at`` and ``last_at``. Every failed write is counted in ``/metrics``
(``codelists_audit_write_failures_total``), and so is every entry given up on
(``codelists_audit_entries_lost_total``): one still unwritten after ``_MAX_ATTEMPTS`` tries,
one pushed out of a full queue, or one left at shutdown; each loss is logged as an error too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.clock import Clock
from app.store import audit
from app.workers.outage import Outage
from app.workers.stopping import Stopping

WINDOW_SECONDS = 60.0
_KINDS_PER_ADDRESS = 20
_KINDS_IN_ALL = 10_000
_MAX_PATH = 500
ANONYMOUS = "anonymous"  # the actor of a request without a valid token
# Unwritten entries kept for another try: 5,000 (a few MB) cover a long outage under a flood,
# since repeats are coalesced; 120 tries at one every 5 s are ten minutes.
_MAX_UNWRITTEN = 5_000
_MAX_ATTEMPTS = 120

log = logging.getLogger(__name__)

WRITE_FAILURES = Counter(
    "codelists_audit_write_failures",
    "Writes of an access.denied audit entry that failed (the entry is tried again)",
)
LOST = Counter(
    "codelists_audit_entries_lost",
    "access.denied audit entries given up on: too many failed tries, queue full, or shutdown",
)
UNWRITTEN = Gauge(
    "codelists_audit_entries_unwritten",
    "access.denied audit entries waiting for the database to take them",
)


@dataclass
class _Pending:
    detail: dict[str, Any]
    actor: str
    ends: float  # monotonic end of the window
    # When the counted refusals were made (the window's first has an entry of its own).
    first_at: datetime
    last_at: datetime
    count: int = 0  # refusals after the first, not yet written


@dataclass
class _Unwritten:
    actor: str
    path: str
    detail: dict[str, Any]
    attempts: int = 1


class DeniedAccessLog:
    """Writes ``access.denied`` entries for one process, coalescing repeats per minute."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._pending: dict[tuple[str, str, str, int], _Pending] = {}
        self._kinds: dict[str, int] = {}
        self._outage = Outage("database for the audit log of refused requests")
        self._unwritten: deque[_Unwritten] = deque()

    async def record(
        self,
        *,
        method: str,
        path: str,
        status: int,
        address: str,
        actor: str = ANONYMOUS,
        token: dict[str, str] | None = None,
    ) -> None:
        """Record one refused request (never its query, headers or token); ``token`` is what
        could be read of the token (its ``issuer`` and ``client_id``), kept in the detail."""
        path = path[:_MAX_PATH]
        now, tick = self.clock.now(), time.monotonic()
        key = self._key(address, method, path, status)
        pending = self._pending.get(key)
        if pending is not None and pending.ends > tick:
            if pending.count == 0:
                pending.first_at = now
            pending.count += 1
            pending.last_at = now
            return
        if pending is not None:
            await self._flush(key, pending)
        detail = {
            "method": method,
            "path": path,
            "status": status,
            "remote_address": address,
            "count": 1,
            **(token or {}),
        }
        if key[2] == "*":
            detail["other_paths"] = True  # this address tried too many kinds in one minute
        self._pending[key] = _Pending(detail, actor, tick + WINDOW_SECONDS, now, now)
        self._kinds[address] = self._kinds.get(address, 0) + 1
        await self._write(actor, path, detail, now)

    def _key(self, address: str, method: str, path: str, status: int) -> tuple[str, str, str, int]:
        key = (address, method, path, status)
        if key in self._pending:
            return key
        if len(self._pending) >= _KINDS_IN_ALL:
            return ("*", "*", "*", status)
        if self._kinds.get(address, 0) >= _KINDS_PER_ADDRESS:
            return (address, "*", "*", status)
        return key

    async def flush_expired(self, *, everything: bool = False) -> int:
        """Write the counts of windows that are over (or of all, at shutdown)."""
        tick = time.monotonic()
        written = 0
        for key, pending in list(self._pending.items()):
            if everything or pending.ends <= tick:
                written += await self._flush(key, pending)
        return written

    async def _flush(self, key: tuple[str, str, str, int], pending: _Pending) -> int:
        del self._pending[key]
        address = key[0]
        left = self._kinds.get(address, 1) - 1
        if left > 0:
            self._kinds[address] = left
        else:
            self._kinds.pop(address, None)
        if pending.count == 0:
            return 0
        detail = {
            **pending.detail,
            "count": pending.count,
            "first_at": audit.timestamp(pending.first_at),
            "last_at": audit.timestamp(pending.last_at),
        }
        await self._write(pending.actor, str(pending.detail["path"]), detail, self.clock.now())
        return 1

    async def _write(self, actor: str, path: str, detail: dict[str, Any], at: datetime) -> None:
        if self._unwritten:  # keep the log in order: this one waits behind those
            self._keep(_Unwritten(actor, path, _dated(detail, at), attempts=0))
            return
        if not await self._insert(actor, path, detail, at):
            self._keep(_Unwritten(actor, path, _dated(detail, at)))

    async def _insert(self, actor: str, path: str, detail: dict[str, Any], at: datetime) -> bool:
        """Write one entry; False (counted, and logged once per outage) when it failed."""
        try:
            async with self.engine.begin() as connection:
                await audit.append(
                    connection,
                    actor=actor,
                    action="access.denied",
                    target=path,
                    now=at,
                    detail=detail,
                )
        except Exception as exc:  # noqa: BLE001 - a refusal is refused even when it cannot be logged
            WRITE_FAILURES.inc()
            self._outage.started(exc)
            return False
        self._outage.ended()
        return True

    def _keep(self, entry: _Unwritten) -> None:
        if len(self._unwritten) >= _MAX_UNWRITTEN:
            self._lose([self._unwritten.popleft()], "the queue of unwritten entries is full")
        self._unwritten.append(entry)
        UNWRITTEN.inc()

    def _lose(self, entries: list[_Unwritten], why: str) -> None:
        LOST.inc(len(entries))
        UNWRITTEN.dec(len(entries))
        for entry in entries:
            log.error(
                "audit entry of a refused request lost (%s): %s %s, status %s, from %s, count %s",
                why,
                entry.detail.get("method"),
                entry.path,
                entry.detail.get("status"),
                entry.detail.get("remote_address"),
                entry.detail.get("count"),
            )

    async def write_unwritten(self) -> int:
        """Try the waiting entries again, oldest first, until one fails; the number written.

        An entry that has failed ``_MAX_ATTEMPTS`` times is given up on (counted and logged).
        """
        written = 0
        while self._unwritten:
            entry = self._unwritten[0]
            if await self._insert(entry.actor, entry.path, entry.detail, self.clock.now()):
                self._unwritten.popleft()
                UNWRITTEN.dec()
                written += 1
                continue
            entry.attempts += 1
            if entry.attempts < _MAX_ATTEMPTS:
                break
            self._unwritten.popleft()
            self._lose([entry], f"not taken after {entry.attempts} tries")
        return written

    async def run(self, stopping: Stopping, every: float = 5.0) -> None:
        """Write the counts of finished windows every ``every`` seconds until ``stopping`` is
        requested, then those of all windows."""
        try:
            while not stopping.requested:
                await stopping.pause(every)
                await self.write_unwritten()
                await self.flush_expired()
        finally:
            await asyncio.shield(self._last_writes())

    async def _last_writes(self) -> None:
        await self.write_unwritten()
        await self.flush_expired(everything=True)
        await self.write_unwritten()
        if self._unwritten:
            self._lose(list(self._unwritten), "the process stopped")
            self._unwritten.clear()


def _dated(detail: dict[str, Any], at: datetime) -> dict[str, Any]:
    """``detail`` saying when its refusals were made, for an entry written later than that."""
    return {"first_at": audit.timestamp(at), "last_at": audit.timestamp(at), **detail}
