"""A shared-cache deployment for tests: one PostgreSQL database, two `codelists serve`
processes, Varnish with the shipped VCL in front of them, and the processes purging Varnish
through a relay the test can cut."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from app.identity import tokens
from app.store.database import create_engine
from tests.conftest import _admin, _asyncpg_url, _run_apart
from tests.varnish.harness import Relay, Service, Varnish, run_cli, site_vcl


class Stack:
    def __init__(self, workdir: Path, env: dict[str, str], services: list[Service]) -> None:
        self.workdir = workdir
        self.env = env
        self.services = services
        self.varnish = Varnish(site_vcl([service.port for service in services]))
        self.relay = Relay(self.varnish.port)
        self.client = httpx.Client(base_url=self.varnish.url, timeout=10)
        self._token: str | None = None

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def codes(self, key: str) -> set[str]:
        answer = self.get(f"/v1/codelists/{key}/options")
        assert answer.status_code == 200, answer.text
        return {option["code"] for option in answer.json()["options"]}

    def wait_for(self, key: str, code: str, *, within: float) -> None:
        """Until ``code`` is an option of ``key`` through the cache; fails after ``within``
        seconds. A publish need only be visible within a second of its
        answer (api.md "Shared caches and CDNs"), so a test waits for it before it reads on."""
        since = time.monotonic()
        while code not in self.codes(key):
            if time.monotonic() - since > within:
                raise AssertionError(f"{key}: {code} not there within {within} s")
            time.sleep(0.01)

    def write_changeset(self, key: str, code: str, **fields: Any) -> Path:
        """A change-set file adding (or changing) one value of ``key``."""
        value = {"code": code, "name": f"Test {code}", "valid_from": "2014-01-01"} | fields
        document = {
            "id": f"test-{code}-{uuid.uuid4().hex[:8]}",
            "reason": "test",
            "changes": [{"op": "upsert", "list": key, "values": [value]}],
        }
        path = self.workdir / f"{document['id']}.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        return path

    def apply(self, path: Path) -> None:
        """Publish through the command line, as an operator would."""
        run_cli(self.env, "changeset", "apply", str(path))

    def publish(self, path: Path, service: int = 0) -> None:
        """Publish through the API of one service process."""
        if self._token is None:
            self._token = _run_apart_value(_token(self.env["DATABASE_URL"]))
        answer = httpx.post(
            f"{self.services[service].url}/v1/admin/changesets?publish=true",
            content=path.read_bytes(),
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/yaml"},
            timeout=60,
        )
        assert answer.status_code in (200, 201), answer.text


@contextlib.contextmanager
def deployment(
    template: str,
    workdir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    processes: int = 2,
) -> Iterator[Stack]:
    """Everything started on a copy of ``template`` (a PostgreSQL database name), and stopped
    again afterwards."""
    name = f"codelists_varnish_{uuid.uuid4().hex[:12]}"
    _run_apart(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = "postgresql+asyncpg" + _asyncpg_url(name).removeprefix("postgresql")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CODELISTS_SECRET_KEY": "test-secret-key-for-webhooks-0123456789",
        "CODELISTS_SHARED_MAX_AGE": "3600",
        "CODELISTS_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    services = [Service(workdir, env) for _ in range(processes)]
    stack = Stack(workdir, env, services)
    for service in services:
        service.env = env | {"CODELISTS_PURGE_URLS": stack.relay.url}
    try:
        stack.relay.up()
        for service in services:
            service.spawn()
        stack.varnish.start()
        for service in services:
            service.wait_ready()
        _wait_until_healthy(stack)
        yield stack
    finally:
        stack.client.close()
        for service in services:
            service.stop()
        stack.varnish.close()
        stack.relay.down()
        _run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _token(url: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            return await tokens.create(
                connection, name="ops", scopes=["admin"], now=datetime.now(UTC)
            )
    finally:
        await engine.dispose()


def _run_apart_value(work: Any) -> Any:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def _wait_until_healthy(stack: Stack) -> None:
    """Until Varnish's probes see the services (a first answer through the cache)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if stack.get("/v1/codelists", headers={"Cache-Control": "no-cache"}).is_success:
                return
        time.sleep(0.1)
    raise AssertionError("Varnish never reached the services")
