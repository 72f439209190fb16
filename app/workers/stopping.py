"""Stopping background work between its steps, not in the middle of one.

Cancelling a loop while it awaits a database call does not stop the call: the driver finishes
it on its own. aiosqlite's connection thread then calls back into an event loop that may be
closed by then (a traceback at exit), and a cancelled connect leaves a connection no one
closes. So ``Services.stop`` asks every loop to stop; each loop ends at its next wait, and only
a loop still busy after a grace period (a webhook receiver that does not answer) is cancelled.
"""

from __future__ import annotations

import asyncio


class Stopping:
    """The request to stop, shared by the background loops of one service process."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self) -> None:
        self._event.set()

    async def pause(self, seconds: float, *wake: asyncio.Event) -> None:
        """Return after ``seconds``, once any of ``wake`` is set, or once stopping is
        requested, whichever comes first. Never raises TimeoutError."""
        waiters = [asyncio.ensure_future(event.wait()) for event in (self._event, *wake)]
        try:
            # asyncio.wait, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives as an event is set, and the loop would never stop.
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
