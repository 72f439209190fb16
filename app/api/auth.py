"""Bearer-token guards: 401 without a valid token, 403 without the scope (``admin`` has all)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Set
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.token_cache import TokenCache
from app.http.fastpath import READ_SCOPES
from app.store.tokens import TokenOwner

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Coroutine[Any, Any, None]]


class Authenticator:
    """Finds the owner of a bearer token (``TokenCache``: an answer at most a second old).

    Used by the guards (``check``) and by the fast path in front of the framework (``allows``).
    """

    def __init__(self, engine: AsyncEngine, *, public_read: bool) -> None:
        self.engine = engine
        # CODELISTS_PUBLIC_READ: reads need no token (api.md "Read endpoints").
        self.public_read = public_read
        self.tokens = TokenCache(engine)

    async def owner(self, connection: ASGIConnection[Any, Any, Any, Any]) -> TokenOwner | None:
        return await self.tokens.owner_of(connection.headers.get("authorization", ""))

    async def allows(self, authorization: bytes | None, scopes: Set[str]) -> bool:
        """Whether the request's ``Authorization`` value names a token with one of ``scopes``
        (or ``admin``): the fast path's form of ``check``."""
        if not authorization:
            return False
        value = authorization.decode("latin-1")
        hit, owner = self.tokens.known(value)  # the common case, without another coroutine
        if not hit:
            owner = await self.tokens.owner_of(value)
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
