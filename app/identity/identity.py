"""``Identity.principal(authorization)``: the principal of a request, whichever its token.

A static token (``cl_...``) is looked up in the database; a JWT (three dot-separated parts) is
verified against the trusted issuers. Answers are remembered, keyed by the whole
``Authorization`` value, so a repeat costs one dictionary lookup:

- a static token's answer (valid or not) for at most ``STATIC_SECONDS``: how a revocation made
  anywhere (``codelists token revoke`` in another process) reaches every process within a
  second, without a message;
- a verified JWT until its ``exp``, and at most ``JWT_SECONDS``; a refused JWT not at all (its
  issuer may publish its key a moment later).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.clock import Clock
from app.domain.principals import Principal
from app.identity import tokens
from app.identity.access_tokens import AccessTokens, InvalidToken
from app.workers.outage import Outage
from app.workers.stopping import Stopping

log = logging.getLogger(__name__)
STATIC_SECONDS = 0.5  # well inside api.md's "refused in every process within a second"
JWT_SECONDS = 5.0
_CACHE_LIMIT = 4096
# "Last used" is kept to the minute: a write per token per minute, not per request.
_TOUCH_EVERY = timedelta(minutes=1)
Answer: TypeAlias = Principal | InvalidToken


class Identity:
    """Finds the principal of a bearer token (``principal``); refreshes the issuers' keys in
    the background (``run``)."""

    def __init__(
        self, engine: AsyncEngine, clock: Clock, access_tokens: AccessTokens | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.access_tokens = access_tokens
        self._seen: dict[str, tuple[float, Answer]] = {}
        self._looking: dict[str, asyncio.Future[Answer]] = {}
        self._touching: set[asyncio.Task[None]] = set()

    def remembered(self, authorization: str) -> Answer | None:
        """The answer remembered for ``authorization``, if still fresh (no coroutine: the fast
        path's common case)."""
        cached = self._seen.get(authorization)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        return None

    async def principal(self, authorization: str) -> Principal | None:
        """The principal of an ``Authorization: Bearer <token>`` value; None when the value
        carries no bearer token. Raises ``InvalidToken`` for a token that is not valid.

        Concurrent checks of one value share one database query or verification.
        """
        answer = self.remembered(authorization)
        if answer is None:
            scheme, _, token = authorization.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return None
            looking = self._looking.get(authorization)
            if looking is None:
                looking = asyncio.ensure_future(self._check(authorization, token))
                self._looking[authorization] = looking
                looking.add_done_callback(lambda _: self._looking.pop(authorization, None))
            answer = await asyncio.shield(looking)
        if isinstance(answer, InvalidToken):
            raise answer
        return answer

    async def _check(self, authorization: str, token: str) -> Answer:
        if token.count(".") == 2 and not token.startswith(tokens.PREFIX):
            return await self._verify_jwt(authorization, token)
        async with self.engine.connect() as db:
            found = await tokens.lookup(db, token)
        answer: Answer = found or InvalidToken("the token is not known or has been revoked")
        self._remember(authorization, answer, time.monotonic() + STATIC_SECONDS)
        if found is not None:
            self._touch(found, self.clock.now())
        return answer

    async def _verify_jwt(self, authorization: str, token: str) -> Answer:
        if self.access_tokens is None:
            return InvalidToken("this service trusts no issuer of JWT access tokens")
        try:
            principal, expires = await self.access_tokens.verify(token)
        except InvalidToken as exc:
            return exc
        left = min(expires - time.time(), JWT_SECONDS)
        if left > 0:
            self._remember(authorization, principal, time.monotonic() + left)
        return principal

    def _remember(self, authorization: str, answer: Answer, until: float) -> None:
        if len(self._seen) >= _CACHE_LIMIT:
            self._seen.clear()
        self._seen[authorization] = (until, answer)

    def _touch(self, found: Principal, now: datetime) -> None:
        if found.last_used_at is not None and now - found.last_used_at < _TOUCH_EVERY:
            return
        # In the background: a request never waits for a write (SQLite has one writer).
        task = asyncio.create_task(self._write_touch(found.token_id, now))
        self._touching.add(task)
        task.add_done_callback(self._touching.discard)

    async def _write_touch(self, token_id: int, now: datetime) -> None:
        try:
            async with self.engine.begin() as db:
                await tokens.touch(db, token_id, now)
        except Exception:  # "last used" is a convenience, never a failure
            log.warning("could not record a token's last use", exc_info=True)

    async def settle(self) -> None:
        """Wait for the background writes of last use still running (at shutdown, before the
        engine is disposed: a write cut off mid-query is the fault ``app.workers.stopping``
        describes)."""
        if self._touching:
            await asyncio.wait(set(self._touching))

    async def run(self, stopping: Stopping, every: float) -> None:
        """Fetch the issuers' keys now and then every ``every`` seconds, until asked to stop:
        a key the issuer starts or stops publishing is known before a token needs it."""
        if self.access_tokens is None:
            return
        outage = Outage("issuers' key sets")
        while not stopping.requested:
            try:
                await self.access_tokens.refresh_all()
            except Exception as exc:  # noqa: BLE001 - logged once per outage, retried
                outage.started(exc)
            else:
                outage.ended()
            await stopping.pause(every)
