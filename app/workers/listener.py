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

from app.store.publish import NOTIFY_CHANNEL

log = logging.getLogger(__name__)
_KEEPALIVE_SECONDS = 30.0


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _setter(event: asyncio.Event) -> Callable[..., None]:
    def notified(*_: object) -> None:
        event.set()

    return notified


async def listen_for_publishes(url: URL, on_publish: Callable[[], Awaitable[Any]]) -> None:
    """Call ``on_publish`` after every publish anywhere; reconnect for ever on failures."""
    while True:
        connection = None
        try:
            connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
            wake = asyncio.Event()
            await connection.add_listener(NOTIFY_CHANNEL, _setter(wake))
            await on_publish()  # whatever was published while we were not listening
            while True:
                try:
                    async with asyncio.timeout(_KEEPALIVE_SECONDS):  # not wait_for: see webhooks
                        await wake.wait()
                except TimeoutError:
                    await connection.execute("SELECT 1")  # notices a dead connection
                    continue
                wake.clear()
                await on_publish()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure: log, wait, reconnect
            log.warning("LISTEN connection lost (%s); reconnecting", type(exc).__name__)
            await asyncio.sleep(1.0)
        finally:
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)
