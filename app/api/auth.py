"""Bearer-token guards: 401 without a valid token, 403 without the scope; both recorded.

Scopes nest ``read`` ⊂ ``sync`` ⊂ ``admin``; ``approve`` stands apart (api.md "Review, approval
and scheduling"). Token lookups are remembered for at most ``CACHE_SECONDS``, which is how a
revocation made anywhere (``codelists token revoke`` in another process) reaches every process
within a second: no message has to arrive, the answer simply expires.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Set
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.clock import Clock
from app.http.fastpath import READ_SCOPES
from app.store import tokens
from app.store.tokens import Principal
from app.workers.denials import ANONYMOUS, DeniedAccessLog

log = logging.getLogger(__name__)
CACHE_SECONDS = 0.5  # well inside api.md's "refused in every process within a second"
_CACHE_LIMIT = 1024
# "Last used" is kept to the minute: a write per token per minute, not per request.
_TOUCH_EVERY = timedelta(minutes=1)
AnyConnection = ASGIConnection[Any, Any, Any, Any]
Guard = Callable[[AnyConnection, BaseRouteHandler], Coroutine[Any, Any, None]]


@lru_cache(maxsize=256)
def _grants(held: frozenset[str], wanted: frozenset[str]) -> bool:
    """Whether scopes ``held`` allow one of ``wanted``: remembered, as the fast path asks it
    on every request (frozensets keep their hash)."""
    principal = Principal(name="", scopes=held)
    return any(principal.allows(scope) for scope in wanted)


def remote_address(connection: AnyConnection) -> str:
    """The client's address as the server saw it ("unknown" when the server gave none)."""
    return connection.client.host if connection.client else "unknown"


class Authenticator:
    """Finds the principal of a bearer token, remembering answers briefly to spare the database."""

    def __init__(
        self, engine: AsyncEngine, clock: Clock, denials: DeniedAccessLog, *, public_read: bool
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.denials = denials
        # CODELISTS_PUBLIC_READ: reads need no token (api.md "Read endpoints").
        self.public_read = public_read
        self._seen: dict[str, tuple[float, Principal | None]] = {}
        self._looking: dict[str, asyncio.Future[Principal | None]] = {}
        self._touching: set[asyncio.Task[None]] = set()

    async def owner(self, connection: AnyConnection) -> Principal | None:
        return await self.owner_of(connection.headers.get("authorization", ""))

    async def owner_of(self, authorization: str) -> Principal | None:
        """The principal of the token in an ``Authorization: Bearer <token>`` value, if valid.

        Keyed by the value as it came, so a repeat costs one dictionary lookup; concurrent
        lookups of one value share one database query.
        """
        cached = self._seen.get(authorization)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        looking = self._looking.get(authorization)
        if looking is None:
            looking = asyncio.ensure_future(self._look_up(authorization, token))
            self._looking[authorization] = looking
            looking.add_done_callback(lambda _: self._looking.pop(authorization, None))
        return await asyncio.shield(looking)

    async def _look_up(self, authorization: str, token: str) -> Principal | None:
        async with self.engine.connect() as db:
            found = await tokens.lookup(db, token)
        if len(self._seen) >= _CACHE_LIMIT:
            self._seen.clear()
        self._seen[authorization] = (time.monotonic() + CACHE_SECONDS, found)
        if found is not None:
            self._touch(found, self.clock.now())
        return found

    async def allows(self, authorization: bytes | None, scopes: Set[str]) -> bool:
        """Whether the request's ``Authorization`` value names a valid token with one of
        ``scopes``: the fast path's form of ``check`` (a refusal falls through to the guards,
        which answer and record it)."""
        if not authorization:
            return False
        value = authorization.decode("latin-1")
        cached = self._seen.get(value)
        if cached is not None and cached[0] > time.monotonic():
            owner = cached[1]  # the common case, without another coroutine
        else:
            owner = await self.owner_of(value)
        return owner is not None and _grants(owner.scopes, frozenset(scopes))

    def _touch(self, found: Principal, now: datetime) -> None:
        if found.last_used_at is not None and now - found.last_used_at < _TOUCH_EVERY:
            return
        # In the background: a request never waits for a write (SQLite has one writer).
        task = asyncio.create_task(self._write_touch(found.token_id, now))
        self._touching.add(task)
        task.add_done_callback(self._touching.discard)

    async def settle(self) -> None:
        """Wait for the background writes of last use still running (at shutdown, before the
        engine is disposed: a write cut off mid-query is the fault ``app.workers.stopping``
        describes)."""
        if self._touching:
            await asyncio.wait(set(self._touching))

    async def _write_touch(self, token_id: int, now: datetime) -> None:
        try:
            async with self.engine.begin() as db:
                await tokens.touch(db, token_id, now)
        except Exception:  # "last used" is a convenience, never a failure
            log.warning("could not record a token's last use", exc_info=True)

    async def check(self, connection: AnyConnection, scopes: Set[str]) -> Principal:
        """The request's principal if it holds one of ``scopes`` (any token when empty).

        Raises 401 or 403, after recording the refusal in the audit log.
        """
        owner = await self.owner(connection)
        if owner is None:
            await self.refused(connection, 401, ANONYMOUS)
            sent = connection.headers.get("authorization", "").lower().startswith("bearer ")
            raise NotAuthorizedException(
                "The bearer token is not known or has been revoked."
                if sent
                else "A bearer token is required (Authorization: Bearer <token>).",
                headers={"WWW-Authenticate": 'Bearer realm="codelists"'},
            )
        if scopes and not any(owner.allows(scope) for scope in scopes):
            await self.refused(connection, 403, owner.name)
            needed = " or ".join(f"'{scope}'" for scope in sorted(scopes))
            raise PermissionDeniedException(f"The token lacks the scope {needed}.")
        connection.state.token_owner = owner
        return owner

    async def refused(self, connection: AnyConnection, status: int, actor: str) -> None:
        """Record a 401 or 403 answered to ``connection`` (api.md "Audit")."""
        await self.denials.record(
            method=str(connection.scope.get("method", "GET")),
            path=connection.scope["path"],
            status=status,
            address=remote_address(connection),
            actor=actor,
        )


def requires(*scopes: str, public_if_configured: bool = False) -> Guard:
    """A guard demanding a token with one of ``scopes`` (none given: any valid token).

    With ``public_if_configured`` the routes are open while CODELISTS_PUBLIC_READ is true.
    """
    accepted = frozenset(scopes)

    async def guard(connection: AnyConnection, _: BaseRouteHandler) -> None:
        # Litestar guards cannot take dependencies: the wiring leaves the one authenticator
        # under this explicit name in the app's state.
        authenticator: Authenticator = connection.app.state.authenticator
        if public_if_configured and authenticator.public_read:
            return
        await authenticator.check(connection, accepted)

    return guard


# The fast path serves a cached answer to a token with one of the scopes its route demanded.
SYNC_SCOPES = frozenset({"sync"})
read_access = requires(*READ_SCOPES, public_if_configured=True)
sync_access = requires(*SYNC_SCOPES, public_if_configured=True)
admin_access = requires("admin")
approve_access = requires("approve")
# Reviewers read what they review: change sets and their plans.
review_access = requires("admin", "approve")
any_token = requires()
