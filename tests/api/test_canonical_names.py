"""Four-eyes and token names compare principals in canonical form (issue 21, item 7)."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.identity import tokens
from app.store.tables import api_token
from tests.api.conftest import bearer
from tests.conftest import FixedClock, app_client

DOCUMENT = {
    "id": "names",
    "reason": "four eyes",
    "changes": [{"op": "set", "list": "fravaer", "codes": ["11"], "fields": {"name": "Andet"}}],
}


async def _stored(engine: AsyncEngine, clock: FixedClock, name: str, *scopes: str) -> str:
    """A token stored as an earlier release stored it: its name unchecked."""
    value = tokens.PREFIX + secrets.token_urlsafe(32)
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(api_token).values(
                name=name,
                token_hash=tokens.token_hash(value),
                scopes=list(scopes),
                created_at=clock.now(),
            )
        )
    return value


async def test_another_spelling_of_the_authors_name_cannot_approve(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    author = await _stored(seeded, clock, "a1", "admin")
    spellings = [
        await _stored(seeded, clock, name, "approve") for name in ("a1 ", "A1", "a1\u200b")
    ]
    async with app_client(seeded, clock, require_approval=True) as client:
        created = await client.post("/v1/admin/changesets", json=DOCUMENT, headers=bearer(author))
        assert created.status_code == 201, created.text
        for token in spellings:
            refused = await client.post(
                "/v1/admin/changesets/names/approve", json={}, headers=bearer(token)
            )
            assert refused.status_code == 403, refused.text
        other = await _stored(seeded, clock, "b2", "approve")
        approved = await client.post(
            "/v1/admin/changesets/names/approve", json={}, headers=bearer(other)
        )
        assert approved.status_code == 200


@pytest.mark.parametrize("name", ["a1 ", "A1", "a1\u200b", "Ａ１"])
async def test_a_token_in_another_spelling_of_a_name_is_refused_at_creation(
    engine: AsyncEngine, clock: FixedClock, name: str
) -> None:
    async with engine.begin() as connection:
        await tokens.create(connection, name="a1", scopes=["read"], now=clock.now())
        await tokens.create(connection, name="a1", scopes=["admin"], now=clock.now())  # same text
        with pytest.raises(tokens.InvalidTokenName):
            await tokens.create(connection, name=name, scopes=["read"], now=clock.now())
        with pytest.raises(tokens.InvalidTokenName):
            await tokens.create(connection, name=" \u200b\ufeff ", scopes=["read"], now=clock.now())
