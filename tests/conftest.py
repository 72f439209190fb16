"""Test fixtures: a real database per test (SQLite file or PostgreSQL database), migrated by alembic.

Each database kind is migrated once per test process into a template (a file, or a PostgreSQL
template database with a name of its own), and once more migrated *and seeded*; every test gets
a fresh copy of the one it needs (the seeded one when it asks for ``seeded``, ``client`` or
``admin``), so the seed is published twice per process rather than once per test. PostgreSQL must be reachable: when it is not, the
PostgreSQL tests fail rather than skip, so a green run always means both databases were tested.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import inspect
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time
from pathlib import Path
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.clock import Clock
from app.server.app import create_app
from app.server.settings import Settings
from app.server.wiring import Services
from app.store.database import create_engine, migrate

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seed"
ZONE = ZoneInfo("Europe/Copenhagen")
POSTGRES_ADMIN = os.environ.get(
    "CODELISTS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


class FixedClock(Clock):
    """A clock standing still at a chosen instant, movable by the test."""

    def __init__(self, moment: datetime) -> None:
        super().__init__(ZONE)
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def set(self, day: date, at: time = time(12)) -> None:
        self.moment = datetime.combine(day, at, ZONE)


def _asyncpg_url(database: str) -> str:
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    return f"{base}/{database}"


async def _admin(sql: str) -> None:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN} ({exc}); the tests need it "
            "(set CODELISTS_TEST_POSTGRES to point elsewhere)",
            pytrace=False,
        )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def _run_apart(work: Any) -> None:
    """Run a coroutine to completion on a loop of its own (session fixtures are made lazily,
    from inside a test's running loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


# The instant the seeded templates were published at (the ``clock`` fixture's default).
SEEDED_AT = datetime(2026, 11, 27, 12, 0, tzinfo=ZONE)
# Fixtures that stand on the seeded database: a test asking for one gets the seeded template.
_SEEDED_FIXTURES = frozenset({"seeded", "client", "admin"})


async def _migrate_and_seed(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
        await publish_seed(engine, FixedClock(SEEDED_AT))
    finally:
        await engine.dispose()


def _postgres_url(name: str) -> str:
    return "postgresql+asyncpg" + _asyncpg_url(name).removeprefix("postgresql")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "codelists.db"
    _run_apart(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def sqlite_seeded_template(sqlite_template: Path) -> Path:
    path = sqlite_template.with_name("seeded.db")
    shutil.copyfile(sqlite_template, path)
    _run_apart(_migrate_and_seed(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = f"codelists_template_{uuid.uuid4().hex[:8]}"
    _run_apart(_admin(f'CREATE DATABASE "{name}"'))
    _run_apart(_migrate(_postgres_url(name)))
    yield name
    _run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_seeded_template(postgres_template: str) -> Iterator[str]:
    name = f"{postgres_template}_seeded"
    _run_apart(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    _run_apart(_migrate_and_seed(_postgres_url(name)))
    yield name
    _run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class PostgresCopies:
    """Copies of a template database, made ahead of need on a thread of their own.

    ``CREATE DATABASE ... TEMPLATE`` is most of a PostgreSQL test's setup; made while the tests
    before it run, it costs them little. Copies are dropped on the same thread.
    """

    AHEAD = 2

    def __init__(self, template: str) -> None:
        self.template = template
        self.worker = concurrent.futures.ThreadPoolExecutor(1)
        self.pending: collections.deque[concurrent.futures.Future[str]] = collections.deque()
        for _ in range(self.AHEAD):
            self._make()

    def _make(self) -> None:
        self.pending.append(self.worker.submit(self._create))

    def _create(self) -> str:
        name = f"codelists_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def take(self) -> str:
        """The name of a fresh copy (raises what making it raised)."""
        made = self.pending.popleft()
        self._make()
        return made.result()

    def drop(self, name: str) -> None:
        self.worker.submit(asyncio.run, _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        while self.pending:
            made = self.pending.popleft()
            with contextlib.suppress(BaseException):
                self.drop(made.result())
        self.worker.shutdown(wait=True)


@pytest.fixture(scope="session")
def postgres_copies(postgres_template: str) -> Iterator[PostgresCopies]:
    copies = PostgresCopies(postgres_template)
    yield copies
    copies.close()


@pytest.fixture(scope="session")
def postgres_seeded_copies(postgres_seeded_template: str) -> Iterator[PostgresCopies]:
    copies = PostgresCopies(postgres_seeded_template)
    yield copies
    copies.close()


_SQLITE_THREAD = "(_connection_worker_thread)"  # aiosqlite names each connection's thread so


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every coroutine test waits for its aiosqlite threads (below) before its loop closes;
    first of its fixtures, so last to be torn down, after its engines are disposed. Not the
    other tests: an event loop around a synchronous test stops Playwright's own."""
    for item in items:
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.insert(0, "_sqlite_threads_end_before_the_loop")


@pytest.fixture
async def _sqlite_threads_end_before_the_loop() -> AsyncIterator[None]:
    """Wait (at most 5 s) for the aiosqlite connection threads a test started to end.

    aiosqlite runs each connection on a thread that calls back into the event loop that asked.
    A connection it stops without being awaited (after a failed connect, or one SQLAlchemy
    terminates) calls back after the work is done; a test's loop is closed right after the
    test, and that late call would fail in the thread ("Event loop is closed"), reported
    against whichever test runs next. A service process's loop lives as long as the process.
    """
    before = set(threading.enumerate())
    yield
    started = [
        thread
        for thread in threading.enumerate()
        if thread not in before and thread.name.endswith(_SQLITE_THREAD)
    ]
    deadline = monotonic() + 5
    for thread in started:
        await asyncio.to_thread(thread.join, max(0.0, deadline - monotonic()))


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database of each kind; seeded when the test stands on the seed."""
    seeded = not _SEEDED_FIXTURES.isdisjoint(request.fixturenames)
    if request.param == "sqlite":
        path = tmp_path / "codelists.db"
        template_path = request.getfixturevalue(
            "sqlite_seeded_template" if seeded else "sqlite_template"
        )
        shutil.copyfile(template_path, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    copies: PostgresCopies = request.getfixturevalue(
        "postgres_seeded_copies" if seeded else "postgres_copies"
    )
    name = await asyncio.to_thread(copies.take)
    try:
        yield _postgres_url(name)
    finally:
        copies.drop(name)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SEEDED_AT)


async def publish_seed(engine: AsyncEngine, clock: Clock, directory: Path = SEED) -> None:
    from app.domain.documents import parse_document
    from app.store.publish import submit

    for path in sorted(directory.glob("*.yaml")):
        document = parse_document(path.read_bytes(), yaml=True)
        await submit(engine, document, author="seed", now=clock.now(), publish=True)


@pytest.fixture
async def seeded(engine: AsyncEngine) -> AsyncEngine:
    """The engine on a copy of the seeded template (published at ``SEEDED_AT``)."""
    return engine


class AppClient(httpx.AsyncClient):
    """An HTTP client for the app, with the app's services at hand."""

    services: Services

    async def publish(self, changeset_id: str, *changes: dict[str, Any]) -> None:
        """Publish a change set straight to the store, and let the app notice it at once."""
        from app.domain.documents import convert_document
        from app.store.publish import submit

        document = convert_document(
            {"id": changeset_id, "reason": "test", "changes": list(changes)}
        )
        services = self.services
        await submit(
            services.engine, document, author="test", now=services.clock.now(), publish=True
        )
        await services.catalog.refresh()


@asynccontextmanager
async def app_client(
    engine: AsyncEngine, clock: Clock, **settings: Any
) -> AsyncIterator[AppClient]:
    """An HTTP client for the app on ``engine``'s database, on the test's own event loop.

    The app's lifespan work (``Services.start``/``stop``) is run here, around the client.
    """
    url = engine.url.render_as_string(hide_password=False)
    services = Services.create(Settings(database_url=url, **settings), clock=clock, engine=engine)
    transport = httpx.ASGITransport(app=create_app(services=services))
    await services.start()
    try:
        async with AppClient(transport=transport, base_url="http://testserver") as client:
            client.services = services
            yield client
    finally:
        await services.stop()


@pytest.fixture
async def client(seeded: AsyncEngine, clock: FixedClock) -> AsyncIterator[AppClient]:
    """The app on a seeded database, standing on 2026-11-27."""
    async with app_client(seeded, clock) as test_client:
        yield test_client


@pytest.fixture
async def admin(seeded: AsyncEngine, clock: FixedClock) -> AsyncIterator[AppClient]:
    """The app on a seeded database, with a token of scope admin named "ops"."""
    from app.identity import tokens

    async with seeded.begin() as connection:
        token = await tokens.create(connection, name="ops", scopes=["admin"], now=clock.now())
    async with app_client(seeded, clock) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
