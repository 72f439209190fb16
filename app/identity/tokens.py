"""Static bearer tokens: only their SHA-256 is stored, so a leaked database leaks no usable token.

A token has a name (the person or system behind it; one name may hold several tokens, under
exactly one spelling, and the four-eyes rule compares names in canonical form) and scopes
(``app.domain.principals``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.principals import Principal, name_problem
from app.store.tables import api_token

PREFIX = "cl_"


class InvalidTokenName(ValueError):
    """A new token's name that cannot be given (``app.domain.principals.name_problem``)."""


class TokenInfo(msgspec.Struct, kw_only=True):
    """A token as ``codelists token list`` shows it: never the token itself."""

    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    connection: AsyncConnection, *, name: str, scopes: Iterable[str], now: datetime
) -> str:
    """Store a new token and return it: the only time it is ever seen in clear.

    Raises ``InvalidTokenName`` for a name that is blank in canonical form, has a JWT
    principal's shape, or is another spelling of an existing name.
    """
    existing = await connection.scalars(sa.select(api_token.c.name).distinct())
    problem = name_problem(name, existing)
    if problem is not None:
        raise InvalidTokenName(problem)
    token = PREFIX + secrets.token_urlsafe(32)
    await connection.execute(
        sa.insert(api_token).values(
            name=name, token_hash=token_hash(token), scopes=sorted(set(scopes)), created_at=now
        )
    )
    return token


async def lookup(connection: AsyncConnection, token: str) -> Principal | None:
    """The principal of a valid (known, not revoked) token, or None."""
    row = (
        await connection.execute(
            sa.select(
                api_token.c.id, api_token.c.name, api_token.c.scopes, api_token.c.last_used_at
            ).where(api_token.c.token_hash == token_hash(token), api_token.c.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    return Principal(
        name=row.name,
        scopes=frozenset(row.scopes),
        token_id=row.id,
        last_used_at=row.last_used_at,
    )


async def touch(connection: AsyncConnection, token_id: int, now: datetime) -> None:
    """Record that a token was used at ``now``."""
    await connection.execute(
        sa.update(api_token).where(api_token.c.id == token_id).values(last_used_at=now)
    )


async def list_all(connection: AsyncConnection) -> list[TokenInfo]:
    """Every token ever created, by name then creation time."""
    rows = await connection.execute(
        sa.select(
            api_token.c.name,
            api_token.c.scopes,
            api_token.c.created_at,
            api_token.c.last_used_at,
            api_token.c.revoked_at,
        ).order_by(api_token.c.name, api_token.c.created_at, api_token.c.id)
    )
    return [TokenInfo(**row._mapping) for row in rows]


async def revoke(connection: AsyncConnection, name: str, now: datetime) -> tuple[int, int]:
    """Revoke every token named ``name``: (how many were revoked now, how many have the name)."""
    total = int(
        await connection.scalar(
            sa.select(sa.func.count()).select_from(api_token).where(api_token.c.name == name)
        )
        or 0
    )
    result = await connection.execute(
        sa.update(api_token)
        .where(api_token.c.name == name, api_token.c.revoked_at.is_(None))
        .values(revoked_at=now.astimezone(UTC))
    )
    return result.rowcount, total
