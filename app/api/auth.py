"""Bearer-token guards: 401 without a valid token, 403 without the scope (``admin`` has all)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Set
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncEngine

from app.http.fastpath import READ_SCOPES
from app.store import tokens
from app.store.tokens import TokenOwner

# A revoked token is refused within this many seconds (issue 12: "within a second").
_CACHE_SECONDS = 1.0
_CACHE_LIMIT = 1024
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Coroutine[Any, Any, None]]


class Authenticator:
    """Finds the owner of a bearer token, remembering answers for at most a second.

    Used by the guards and by the fast path in front of the framework, so it is keyed by the
    ``Authorization`` value as it came: a repeat costs one dictionary lookup. Concurrent
    lookups of one value share one database query.
    """

    def __init__(self, engine: AsyncEngine, *, public_read: bool) -> None:
        self.engine = engine
        # CODELISTS_PUBLIC_READ: reads need no token (api.md "Read endpoints").
        self.public_read = public_read
        self._seen: dict[str, tuple[float, TokenOwner | None]] = {}
        self._looking: dict[str, asyncio.Future[TokenOwner | None]] = {}

    async def owner(self, connection: ASGIConnection[Any, Any, Any, Any]) -> TokenOwner | None:
        return await self.owner_of(connection.headers.get("authorization", ""))

    async def owner_of(self, authorization: str) -> TokenOwner | None:
        """The owner of the token in an ``Authorization: Bearer <token>`` value, if any."""
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

    async def _look_up(self, authorization: str, token: str) -> TokenOwner | None:
        async with self.engine.connect() as db:
            owner = await tokens.find(db, token)
        if len(self._seen) >= _CACHE_LIMIT:
            self._seen.clear()
        self._seen[authorization] = (time.monotonic() + _CACHE_SECONDS, owner)
        return owner

    async def allows(self, authorization: bytes | None, scopes: Set[str]) -> bool:
        """Whether the request's ``Authorization`` value names a token with one of ``scopes``
        (or ``admin``): the fast path's form of ``check``."""
        if not authorization:
            return False
        value = authorization.decode("latin-1")
        cached = self._seen.get(value)
        if cached is not None and cached[0] > time.monotonic():
            owner = cached[1]  # the common case, without another coroutine
        else:
            owner = await self.owner_of(value)
        return owner is not None and (
            "admin" in owner.scopes or not owner.scopes.isdisjoint(scopes)
        )

    async def check(self, connection: ASGIConnection[Any, Any, Any, Any], scopes: Set[str]) -> None:
        owner = await self.owner(connection)
        if owner is None:
            raise NotAuthorizedException(
                "A bearer token is required (Authorization: Bearer <token>).",
                headers={"WWW-Authenticate": 'Bearer realm="codelists"'},
            )
        if not owner.scopes & (scopes | {"admin"}):
            needed = " or ".join(f"'{scope}'" for scope in sorted(scopes))
            raise PermissionDeniedException(f"The token lacks the scope {needed}.")
        connection.state.token_owner = owner


def requires(*scopes: str, public_if_configured: bool = False) -> Guard:
    """A guard demanding a token with one of ``scopes`` (``admin`` has every scope).

    With ``public_if_configured`` the routes are open while CODELISTS_PUBLIC_READ is true.
    """
    accepted = frozenset(scopes)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
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
