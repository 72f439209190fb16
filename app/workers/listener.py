"""Learning of publishes by other replicas at once, through PostgreSQL ``LISTEN``.

The publishing transaction sends ``NOTIFY`` (delivered on commit); every replica listens on a
dedicated connection outside the pool and refreshes its catalog. The poll in
``Services`` stays as the safety net for a dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from app.store.versions import NOTIFY_CHANNEL
from app.workers.outage import Outage
from app.workers.stopping import Stopping

log = logging.getLogger(__name__)
_KEEPALIVE_SECONDS = 30.0
_FIRST_RETRY_SECONDS = 0.1
_MAX_RETRY_SECONDS = 5.0


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _setter(event: asyncio.Event) -> Callable[..., None]:
    def notified(*_: object) -> None:
        event.set()

    return notified


async def listen_for_publishes(
    url: URL, on_publish: Callable[[], Awaitable[Any]], stopping: Stopping
) -> None:
    """Call ``on_publish`` after every publish anywhere until ``stopping`` is requested;
    reconnect on failures.

    A dropped connection (a PostgreSQL restart, a terminated backend) is noticed at once by
    asyncpg's termination callback, not at the next keepalive, and reconnected with back-off
    from 0.1 s to 5 s. An outage is logged once when it starts and once when it ends.
    """
    outage = Outage("LISTEN connection for publish notifications")
    delay = _FIRST_RETRY_SECONDS
    while not stopping.requested:
        connection = None
        try:
            connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
            wake = asyncio.Event()
            connection.add_termination_listener(_setter(wake))
            await connection.add_listener(NOTIFY_CHANNEL, _setter(wake))
            outage.ended()
            delay = _FIRST_RETRY_SECONDS
            await on_publish()  # whatever was published while we were not listening
            while True:
                await stopping.pause(_KEEPALIVE_SECONDS, wake)
                if stopping.requested:
                    return
                if not wake.is_set():
                    await connection.execute("SELECT 1")  # notices a half-open connection
                    continue
                if connection.is_closed():
                    raise ConnectionResetError("the connection was closed")
                wake.clear()
                await on_publish()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure: note it, wait, reconnect
            outage.started(exc)
            await stopping.pause(delay)
            delay = min(_MAX_RETRY_SECONDS, delay * 2)
        finally:
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)
