"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, the real service.

Chromium must be installed (``apt-get install chromium``; another binary through
CODELISTS_CHROMIUM): without it these tests fail, they never skip, so a green run means the
component was tried in a browser. axe-core comes from npm, installed on first use into a cache
directory outside the repository (CODELISTS_AXE_DIR, default ~/.cache/codelists-tests/axe).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.chromium import ChromiumMissing, launch
from tests.browser.console_server import install_axe
from tests.browser.servers import FrontEnd, Recorder, Service, seed
from tests.conftest import SEED, _admin, _asyncpg_url, _run_apart

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, for one test module: Playwright's sync API holds an asyncio loop in this
    thread while it runs, which the asyncio tests of other modules must not find there."""
    with sync_playwright() as playwright:
        try:
            launched = launch(playwright)
        except ChromiumMissing as exc:
            pytest.fail(str(exc), pytrace=False)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile: empty HTTP cache and localStorage."""
    made = browser.new_context(locale="da-DK")
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    made = context.new_page()
    made.set_default_timeout(15_000)
    return made


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's seed plus a test list of Danish town names."""
    directory = tmp_path_factory.mktemp("seed")
    for path in SEED.glob("*.yaml"):
        shutil.copy(path, directory)
    shutil.copy(HERE / "byer.yaml", directory / "9000-byer.yaml")
    return directory


@pytest.fixture(scope="session")
def seeded_sqlite(seed_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    seed(f"sqlite+aiosqlite:///{path}", seed_dir)
    return path


def _copy_and_start(template: Path, path: Path, settings: dict[str, Any]) -> Service:
    shutil.copyfile(template, path)
    env = {f"CODELISTS_{name.upper()}": str(value) for name, value in settings.items()}
    return Service(f"sqlite+aiosqlite:///{path}", path.with_suffix(".log"), env)


@pytest.fixture(scope="session")
def service(seeded_sqlite: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """``codelists serve`` on a copy of the seeded SQLite database, shared by the tests that
    neither stop it nor change its settings (starting one takes seconds)."""
    made = _copy_and_start(seeded_sqlite, tmp_path_factory.mktemp("shared") / "c.db", {})
    yield made.start()
    made.stop()


@pytest.fixture
def start_service(seeded_sqlite: Path, tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start a service of the test's own on a copy of the seeded database; settings as
    keywords (``max_age=2`` sets CODELISTS_MAX_AGE). Each is stopped afterwards."""
    started: list[Service] = []

    def start(**settings: Any) -> Service:
        made = _copy_and_start(seeded_sqlite, tmp_path / f"c{len(started)}.db", settings)
        started.append(made)
        return made.start()

    yield start
    for made in started:
        made.stop()


@pytest.fixture
def postgres_service(seed_dir: Path, tmp_path: Path) -> Iterator[Service]:
    name = f"codelists_browser_{uuid.uuid4().hex[:12]}"
    _run_apart(_admin(f'CREATE DATABASE "{name}"'))
    url = "postgresql+asyncpg" + _asyncpg_url(name).removeprefix("postgresql")
    service = Service(url, tmp_path / "serve.log")
    try:
        seed(url, seed_dir)
        yield service.start()
    finally:
        service.stop()
        _run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def recorder(service: Service) -> Iterator[Recorder]:
    """A recording proxy in front of ``service``."""
    made = Recorder(service.port)
    yield made
    made.close()


@pytest.fixture
def front() -> Iterator[FrontEnd]:
    made = FrontEnd()
    yield made
    made.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe.min.js from the npm package axe-core, installed once (``install_axe``)."""
    return install_axe()
