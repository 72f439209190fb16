"""Bearer-token guards: 401 without a valid token, 403 without the scope (``admin`` has all)."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Set
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import tokens
from app.store.tokens import TokenOwner

_CACHE_SECONDS = 30.0
_CACHE_LIMIT = 1024
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Coroutine[Any, Any, None]]


class Authenticator:
    """Finds the owner of a bearer token, remembering answers briefly to spare the database."""

    def __init__(self, engine: AsyncEngine, *, public_read: bool) -> None:
        self.engine = engine
        # CODELISTS_PUBLIC_READ: reads need no token (api.md "Read endpoints").
        self.public_read = public_read
        self._seen: dict[str, tuple[float, TokenOwner | None]] = {}

    async def owner(self, connection: ASGIConnection[Any, Any, Any, Any]) -> TokenOwner | None:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        key = tokens.token_hash(token.strip())
        cached = self._seen.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self.engine.connect() as db:
            owner = await tokens.find(db, token.strip())
        if len(self._seen) >= _CACHE_LIMIT:
            self._seen.clear()
        self._seen[key] = (time.monotonic() + _CACHE_SECONDS, owner)
        return owner

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


read_access = requires("read", "sync", public_if_configured=True)
sync_access = requires("sync", public_if_configured=True)
admin_access = requires("admin")
