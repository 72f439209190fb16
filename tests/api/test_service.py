"""Service endpoints: health, readiness, docs, the OpenAPI schema and metrics."""

from __future__ import annotations

import asyncio
import logging
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.server.app import create_app
from app.server.settings import Settings
from app.server.wiring import Services
from app.store.database import create_engine
from tests.conftest import (
    AppClient,
    FixedClock,
    PostgresCopies,
    _admin,
    _postgres_url,
    app_client,
)


async def test_live_and_ready(client: AppClient) -> None:
    live = await client.get("/health/live")
    assert (live.status_code, live.json()["status"]) == (200, "live")
    ready = await client.get("/health/ready")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    assert ready.headers["cache-control"] == "no-store"


async def test_readiness_logs_nothing_but_its_access_line(
    client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 21, item 9: alembic wrote two INFO lines per probe ("Context impl ...",
    "Will assume ... DDL"), about 35,000 a day at one probe every 5 s."""
    await client.get("/health/ready")  # the first of a process may set up what it needs
    caplog.clear()
    with caplog.at_level(logging.INFO):  # the default CODELISTS_LOG_LEVEL
        for _ in range(3):
            assert (await client.get("/health/ready")).status_code == 200
    service = [r for r in caplog.records if r.name != "httpx"]  # "httpx" is the test's client
    assert [r.getMessage() for r in service if r.name != "codelists.access"] == []
    assert [r.name for r in service] == ["codelists.access"] * 3


async def test_not_ready_before_migrations(tmp_path: Path, clock: FixedClock) -> None:
    engine: AsyncEngine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        services = Services.create(
            Settings(database_url=str(engine.url)), clock=clock, engine=engine
        )
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "codelists migrate" in response.json()["detail"]
        assert response.headers["retry-after"] == "5"  # like every other 503 (issue 21, 9)
    finally:
        await engine.dispose()


async def test_docs_and_schema(client: AppClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
    assert "swagger-ui" in docs.text
    assert "/docs/init.js" in docs.text  # which loads /schema/openapi.json
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in [
        "/v1/codelists",
        "/v1/codelists/{key}",
        "/v1/codelists/{key}/options",
        "/v1/codelists/{key}/values/{code}",
        "/v1/codelists/{key}/validate",
        "/v1/codelists/{key}/versions",
        "/v1/codelists/{key}/diff",
        "/v1/validate",
    ]:
        assert path in paths, path
    options = paths["/v1/codelists/{key}/options"]["get"]
    assert {p["name"] for p in options["parameters"]} >= {"key", "at", "version", "include", "q"}
    assert "200" in options["responses"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href") and value]


async def test_docs_load_nothing_from_another_host(client: AppClient) -> None:
    page = await client.get("/docs")
    parser = _Links()
    parser.feed(page.text)
    assert len(parser.links) >= 3  # stylesheet, icon, scripts
    for link in parser.links:
        url = urljoin("http://testserver/docs", link)
        assert urlsplit(url).netloc == "testserver", link
        asset = await client.get(url)
        assert asset.status_code == 200, link
    init = await client.get("/docs/init.js")
    assert "validatorUrl: null" in init.text  # no badge from validator.swagger.io
    assert "/schema/openapi.json" in init.text
    assert "<script>" not in page.text  # no inline script: the page's CSP allows none
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("application/javascript", "text/javascript"))


async def test_metrics(client: AppClient) -> None:
    def count(text: str, line_start: str) -> float:
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(line_start)
        )

    before = (await client.get("/metrics")).text
    await client.get("/v1/codelists/fravaer")  # built
    await client.get("/v1/codelists/fravaer")  # served from the cache, in front of the framework
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert (
        'litestar_requests_total{app_name="codelists",method="GET",path="/v1/codelists/{key}"'
        in metrics.text
    )
    cached = 'codelists_answers_total{source="cached"}'
    assert count(metrics.text, cached) == count(before, cached) + 1


async def test_unknown_path_and_method_are_problems(client: AppClient) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = await client.delete("/v1/codelists/fravaer")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]


async def test_reads_can_require_a_token(seeded: AsyncEngine, clock: FixedClock) -> None:
    from app.identity import tokens

    async with seeded.begin() as connection:
        reader = await tokens.create(connection, name="reader", scopes=["read"], now=clock.now())
        syncer = await tokens.create(connection, name="sync-job", scopes=["sync"], now=clock.now())
    async with app_client(seeded, clock, public_read=False) as client:
        anonymous = await client.get("/v1/codelists/fravaer/options")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        bad = await client.get(
            "/v1/codelists/fravaer/options", headers={"Authorization": "Bearer nope"}
        )
        assert bad.status_code == 401
        for token in (reader, syncer):
            ok = await client.get(
                "/v1/codelists/fravaer/options", headers={"Authorization": f"Bearer {token}"}
            )
            assert ok.status_code == 200
        # The cached answer is not served past the guard.
        assert (await client.get("/v1/codelists/fravaer/options")).status_code == 401


async def test_an_unreachable_database_is_503_not_500(clock: FixedClock) -> None:
    for url in (
        "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",
        "sqlite+aiosqlite:////nonexistent-directory/codelists.db",
    ):
        services = Services.create(Settings(database_url=url), clock=clock)
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/v1/codelists/fravaer/options")
            assert response.status_code == 503, (url, response.text)
            assert response.headers["retry-after"] == "5"
            not_ready = await client.get("/health/ready")
            assert not_ready.status_code == 503
            assert not_ready.headers["retry-after"] == "5"
        await services.engine.dispose()


async def test_a_database_dropped_under_a_running_service_is_503_not_500(
    postgres_seeded_copies: PostgresCopies, clock: FixedClock
) -> None:
    name = await asyncio.to_thread(postgres_seeded_copies.take)
    engine = create_engine(_postgres_url(name))
    try:
        async with app_client(engine, clock) as client:
            assert (await client.get("/v1/codelists")).status_code == 200
            await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')
            for path in ("/v1/codelists/nosuchlist", "/v1/changes"):
                answer = await client.get(path)
                assert answer.status_code == 503, (path, answer.text)
                assert answer.headers["retry-after"] == "5"
    finally:
        postgres_seeded_copies.drop(name)
