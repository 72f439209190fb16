"""Bearer-token guards: 401 without a valid token, 403 without the scope; both recorded.

The principal comes from ``app.identity`` (a static token or a JWT, the same ``Principal``) and
is put on the connection (``connection.user``) for the handlers. Refusals follow RFC 6750
section 3: ``WWW-Authenticate: Bearer realm="codelists"``, with ``error="invalid_token"`` and
an ``error_description`` for a bad token, ``error="insufficient_scope"`` and the ``scope`` to
ask for (in the issuer's names for a JWT) on a 403, and ``resource_metadata`` (RFC 9728
section 5.1) when issuers are configured.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Set
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from app.domain.principals import (
    READ_SCOPES,
    SYNC_SCOPES,
    Principal,
    grants_any,
    issuer_names_for,
)
from app.identity.access_tokens import InvalidToken
from app.identity.identity import Identity
from app.identity.metadata import METADATA_PATH
from app.workers.denials import ANONYMOUS, DeniedAccessLog

AnyConnection = ASGIConnection[Any, Any, Any, Any]
Guard = Callable[[AnyConnection, BaseRouteHandler], Coroutine[Any, Any, None]]
REALM = "codelists"


def remote_address(connection: AnyConnection) -> str:
    """The client's address as the server saw it ("unknown" when the server gave none)."""
    return connection.client.host if connection.client else "unknown"


def _quoted(value: str) -> str:
    # RFC 6750 section 3: error_description and scope take no '"' or '\'.
    return '"' + "".join(c for c in value if c not in '"\\' and " " <= c <= "~") + '"'


class Authenticator:
    """The guards' side of identity: checks, challenges (RFC 6750) and the audit of refusals."""

    def __init__(self, identity: Identity, denials: DeniedAccessLog, *, public_read: bool) -> None:
        self.identity = identity
        self.denials = denials
        # CODELISTS_PUBLIC_READ: reads need no token (api.md "Read endpoints").
        self.public_read = public_read

    async def allows(self, authorization: bytes | None, scopes: Set[str]) -> bool:
        """Whether the request's ``Authorization`` value names a valid token with one of
        ``scopes``: the fast path's question (a refusal falls through to the guards, which
        answer and record it)."""
        if not authorization:
            return False
        value = authorization.decode("latin-1")
        found = self.identity.remembered(value)  # the common case, without another coroutine
        if found is None:
            try:
                found = await self.identity.principal(value)
            except InvalidToken:
                return False
        return isinstance(found, Principal) and grants_any(found.scopes, frozenset(scopes))

    def challenge(self, connection: AnyConnection, **params: str) -> str:
        """A ``WWW-Authenticate`` value: the Bearer scheme, our realm, ``params`` (RFC 6750),
        and where the protected resource metadata is when issuers are configured."""
        parts = [f"realm={_quoted(REALM)}"]
        parts += [f"{name}={_quoted(value)}" for name, value in params.items()]
        if self.identity.access_tokens is not None:
            base = str(connection.base_url).rstrip("/")
            parts.append(f"resource_metadata={_quoted(base + METADATA_PATH)}")
        return "Bearer " + ", ".join(parts)

    async def check(self, connection: AnyConnection, scopes: Set[str]) -> Principal:
        """The request's principal if it holds one of ``scopes`` (any token when empty); it is
        left on the connection as ``connection.user``.

        Raises 401 or 403, after recording the refusal in the audit log.
        """
        try:
            owner = await self.identity.principal(connection.headers.get("authorization", ""))
        except InvalidToken as exc:
            claimed = {"issuer": exc.issuer, "client_id": exc.client_id}
            await self.refused(connection, 401, ANONYMOUS, token=claimed)
            raise NotAuthorizedException(
                f"The bearer token is not valid: {exc.description}.",
                headers={
                    "WWW-Authenticate": self.challenge(
                        connection, error="invalid_token", error_description=exc.description
                    )
                },
            ) from None
        if owner is None:
            await self.refused(connection, 401, ANONYMOUS)
            raise NotAuthorizedException(
                "A bearer token is required (Authorization: Bearer <token>).",
                headers={"WWW-Authenticate": self.challenge(connection)},
            )
        if not grants_any(owner.scopes, frozenset(scopes)):
            await self.refused(connection, 403, owner.name, token=_token_of(owner))
            needed = " ".join(self.scope_names(owner, scopes))
            raise PermissionDeniedException(
                f"The token lacks the scope: one of '{needed}' is needed.",
                headers={
                    "WWW-Authenticate": self.challenge(
                        connection,
                        error="insufficient_scope",
                        error_description="the token lacks the scope",
                        scope=needed,
                    )
                },
            )
        connection.scope["user"] = owner
        return owner

    def scope_names(self, owner: Principal, scopes: Set[str]) -> list[str]:
        """The scope names ``owner`` must ask its issuer for to get one of ``scopes``: the
        issuer's names (through its table) for a JWT, this service's for a static token."""
        access_tokens = self.identity.access_tokens
        if owner.issuer is not None and access_tokens is not None:
            issuer = access_tokens.issuers.get(owner.issuer)
            if issuer is not None:
                return issuer_names_for(scopes, issuer.scopes)
        return sorted(scopes)

    async def refused(
        self,
        connection: AnyConnection,
        status: int,
        actor: str,
        *,
        token: dict[str, str | None] | None = None,
    ) -> None:
        """Record a 401 or 403 answered to ``connection`` (api.md "Audit"), with what could be
        read of the token (``issuer``, ``client_id``)."""
        known = {name: value for name, value in (token or {}).items() if value}
        await self.denials.record(
            method=str(connection.scope.get("method", "GET")),
            path=connection.scope["path"],
            status=status,
            address=remote_address(connection),
            actor=actor,
            token=known or None,
        )


def _token_of(owner: Principal) -> dict[str, str | None] | None:
    if owner.issuer is None:
        return None
    return {"issuer": owner.issuer, "client_id": owner.client_id}


def principal_of(connection: AnyConnection) -> Principal | None:
    """The principal a guard left on ``connection``, if any (a public read has none)."""
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None


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
read_access = requires(*READ_SCOPES, public_if_configured=True)
sync_access = requires(*SYNC_SCOPES, public_if_configured=True)
admin_access = requires("admin")
approve_access = requires("approve")
# Reviewers read what they review: change sets and their plans.
review_access = requires("admin", "approve")
any_token = requires()
__all__ = ["SYNC_SCOPES", "Authenticator", "principal_of", "requires"]
