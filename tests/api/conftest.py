"""Fixtures for the review tests: people with tokens, and the app with or without approval."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.identity import tokens
from tests.conftest import AppClient, FixedClock, app_client


async def token(engine: AsyncEngine, clock: FixedClock, name: str, *scopes: str) -> str:
    async with engine.begin() as connection:
        return await tokens.create(connection, name=name, scopes=scopes, now=clock.now())


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


class People:
    """Tokens of the people in these tests: two authors and one approver."""

    def __init__(self, anna: str, bo: str, carl: str, carl_admin: str) -> None:
        self.anna = bearer(anna)  # admin: prepares reforms
        self.bo = bearer(bo)  # approve only
        self.carl = bearer(carl)  # admin and approve
        self.carl_admin = bearer(carl_admin)  # Carl's second token, admin only


@pytest.fixture
async def people(seeded: AsyncEngine, clock: FixedClock) -> People:
    return People(
        await token(seeded, clock, "anna", "admin"),
        await token(seeded, clock, "bo", "approve"),
        await token(seeded, clock, "carl", "admin", "approve"),
        await token(seeded, clock, "carl", "admin"),
    )


@pytest.fixture
async def strict(seeded: AsyncEngine, clock: FixedClock) -> AsyncIterator[AppClient]:
    """The app with CODELISTS_REQUIRE_APPROVAL=true."""
    async with app_client(seeded, clock, require_approval=True) as client:
        yield client


@pytest.fixture
async def lax(seeded: AsyncEngine, clock: FixedClock) -> AsyncIterator[AppClient]:
    """The app with the default, CODELISTS_REQUIRE_APPROVAL=false."""
    async with app_client(seeded, clock) as client:
        yield client
