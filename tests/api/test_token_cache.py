"""Token lookups remembered for at most a second, refreshed ahead of time (issue 12, item 5)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api import token_cache
from app.api.token_cache import MAX_AGE, TokenCache
from app.store import tokens
from app.store.tables import api_token
from tests.conftest import ZONE


async def new_token(engine: AsyncEngine) -> str:
    async with engine.begin() as connection:
        return await tokens.create(
            connection, name="reader", scopes=["read"], now=datetime(2026, 11, 1, tzinfo=ZONE)
        )


async def test_an_answer_is_used_for_at_most_a_second(engine: AsyncEngine) -> None:
    value = f"Bearer {await new_token(engine)}"
    cache = TokenCache(engine)
    assert cache.known(value) == (False, None)
    owner = await cache.owner_of(value)
    assert owner is not None and owner.scopes == frozenset({"read"})
    assert cache.known(value) == (True, owner)
    async with engine.begin() as connection:
        await connection.execute(sa.delete(api_token))
    revoked_at = time.monotonic()
    # Asked again and again, as a busy fast path would: refused within MAX_AGE of the revocation.
    while await cache.owner_of(value) is not None:
        assert time.monotonic() - revoked_at < MAX_AGE
        await asyncio.sleep(0.01)
    assert await cache.owner_of("Bearer cl_unknown") is None
    assert await cache.owner_of("Basic abc") is None
    assert await cache.owner_of("") is None


async def test_lookups_are_refreshed_ahead_and_shared(engine: AsyncEngine) -> None:
    value = f"Bearer {await new_token(engine)}"
    cache = TokenCache(engine)
    owners = await asyncio.gather(*(cache.owner_of(value) for _ in range(10)))
    assert len({id(owner) for owner in owners}) == 1  # one query for all of them
    first = cache._seen[value][0]
    await asyncio.sleep(token_cache.REFRESH_AFTER + 0.05)
    hit, _ = cache.known(value)  # still fresh, and starts the next lookup in the background
    assert hit and value in cache._looking
    await cache._looking[value]
    assert cache._seen[value][0] > first
