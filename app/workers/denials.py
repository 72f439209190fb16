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
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


@dataclass
class _Pending:
    detail: dict[str, Any]
    actor: str
    ends: float  # monotonic end of the window
    # When the counted refusals were made (the window's first has an entry of its own).
    first_at: datetime
    last_at: datetime
    count: int = 0  # refusals after the first, not yet written


class DeniedAccessLog:
    """Writes ``access.denied`` entries for one process, coalescing repeats per minute."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._pending: dict[tuple[str, str, str, int], _Pending] = {}
        self._kinds: dict[str, int] = {}
        self._outage = Outage("database for the audit log of refused requests")

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
            self._outage.started(exc)
        else:
            self._outage.ended()

    async def run(self, stopping: Stopping, every: float = 5.0) -> None:
        """Write the counts of finished windows every ``every`` seconds until ``stopping`` is
        requested, then those of all windows."""
        try:
            while not stopping.requested:
                await stopping.pause(every)
                await self.flush_expired()
        finally:
            await asyncio.shield(self.flush_expired(everything=True))
