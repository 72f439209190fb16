"""Bearer tokens: only their SHA-256 is stored, so a leaked database leaks no usable token."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.store.tables import api_token

SCOPES = ("read", "sync", "admin")
_PREFIX = "cl_"


class TokenOwner(msgspec.Struct, frozen=True):
    name: str
    scopes: frozenset[str]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    connection: AsyncConnection, *, name: str, scopes: Iterable[str], now: datetime
) -> str:
    """Store a new token and return it: the only time it is ever seen in clear."""
    token = _PREFIX + secrets.token_urlsafe(32)
    await connection.execute(
        sa.insert(api_token).values(
            name=name, token_hash=token_hash(token), scopes=sorted(set(scopes)), created_at=now
        )
    )
    return token


async def find(connection: AsyncConnection, token: str) -> TokenOwner | None:
    row = (
        await connection.execute(
            sa.select(api_token.c.name, api_token.c.scopes).where(
                api_token.c.token_hash == token_hash(token)
            )
        )
    ).first()
    return TokenOwner(row.name, frozenset(row.scopes)) if row else None
