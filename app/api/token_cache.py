"""Who owns a bearer token, remembered for at most a second (issue 12: a revoked token is
refused within a second, by every process).

Keyed by the ``Authorization`` value as it came, so that a repeat costs one dictionary lookup
on the fast path in front of the framework. An answer is used for ``MAX_AGE`` seconds counted
from the start of the database lookup that produced it, so it never reflects the store as it
was more than ``MAX_AGE`` seconds ago. Half-way through, the next lookup starts in the
background, and requests go on with the answer they have instead of all waiting for the
database once a second. Concurrent lookups of one value share one query.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import tokens
from app.store.tokens import TokenOwner

MAX_AGE = 1.0  # seconds
REFRESH_AFTER = MAX_AGE / 2
_LIMIT = 1024  # values remembered; past that the memory starts afresh

log = logging.getLogger(__name__)


class TokenCache:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Authorization value -> (monotonic time its lookup started, owner or None)
        self._seen: dict[str, tuple[float, TokenOwner | None]] = {}
        self._looking: dict[str, asyncio.Future[TokenOwner | None]] = {}

    def known(self, authorization: str) -> tuple[bool, TokenOwner | None]:
        """(True, owner) when a fresh enough answer is at hand, else (False, None): no I/O."""
        found = self._seen.get(authorization)
        if found is None:
            return False, None
        age = time.monotonic() - found[0]
        if age >= MAX_AGE:
            return False, None
        if age >= REFRESH_AFTER and authorization not in self._looking:
            self._start(authorization).add_done_callback(_log_failure)
        return True, found[1]

    async def owner_of(self, authorization: str) -> TokenOwner | None:
        """The owner of the token in an ``Authorization: Bearer <token>`` value, if any.

        Raises what the database raises when it cannot be asked.
        """
        hit, owner = self.known(authorization)
        if hit:
            return owner
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        looking = self._looking.get(authorization) or self._start(authorization)
        return await asyncio.shield(looking)

    def _start(self, authorization: str) -> asyncio.Future[TokenOwner | None]:
        looking = asyncio.ensure_future(self._look_up(authorization))
        self._looking[authorization] = looking
        looking.add_done_callback(lambda _: self._looking.pop(authorization, None))
        return looking

    async def _look_up(self, authorization: str) -> TokenOwner | None:
        started = time.monotonic()
        token = authorization.partition(" ")[2].strip()
        async with self.engine.connect() as db:
            owner = await tokens.find(db, token)
        if len(self._seen) >= _LIMIT and authorization not in self._seen:
            self._seen.clear()
        self._seen[authorization] = (started, owner)
        return owner


def _log_failure(looking: asyncio.Future[TokenOwner | None]) -> None:
    # A background refresh that failed: the next request past MAX_AGE asks again itself.
    if not looking.cancelled() and looking.exception() is not None:
        log.warning("could not refresh a token lookup: %s", looking.exception())
