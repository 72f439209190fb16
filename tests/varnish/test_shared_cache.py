"""The service behind a real Varnish with the shipped VCL (api.md "Shared caches and CDNs"):
two `codelists serve` processes on one PostgreSQL database, purging Varnish after publishes.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator

import asyncpg
import pytest

from tests.varnish.stack import Stack, deployment

FRESH_WITHIN = 1.0  # seconds, api.md


# Starting two service processes and Varnish takes a while on a busy machine.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def stack(
    postgres_seeded_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with deployment(postgres_seeded_template, tmp_path_factory.mktemp("stack")) as running:
        yield running


def _list_keys(stack: Stack) -> list[str]:
    index = stack.get("/v1/codelists").json()["codelists"]
    return [entry["key"] for entry in index]


def _drop_down_urls(stack: Stack) -> list[str]:
    urls = []
    for key in _list_keys(stack):
        codes = [
            option["code"] for option in stack.get(f"/v1/codelists/{key}/options").json()["options"]
        ]
        urls.append(f"/v1/codelists/{key}/options")
        for code in codes[:5]:
            urls.append(f"/v1/codelists/{key}/options?include={code}")
        urls.append(f"/v1/codelists/{key}/options?at=2025-07-01")
        urls.append(f"/v1/codelists/{key}/validate?code={codes[0]}")
    return urls


def _stays(stack: Stack, key: str, code: str, seconds: float = 1.5) -> None:
    """Every answer through the cache for ``seconds`` shows ``code``: no process handed the
    cache the previous answer after the purge."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        assert code in stack.codes(key)
        time.sleep(0.005)


def test_a_drop_down_mix_is_served_from_the_cache(stack: Stack) -> None:
    urls = _drop_down_urls(stack)
    codings = ["gzip, deflate, br", "gzip", "identity"]
    for url in urls:  # warm-up
        for coding in codings:
            stack.get(url, headers={"Accept-Encoding": coding})
    chooser = random.Random(12)
    hits = total = 0
    for _ in range(2000):
        answer = stack.get(
            chooser.choice(urls), headers={"Accept-Encoding": chooser.choice(codings)}
        )
        assert answer.status_code == 200
        total += 1
        hits += answer.headers["x-cache"].startswith("HIT")
    assert hits / total >= 0.99, f"{hits}/{total} hits"


def test_answers_carry_the_keys_varnish_purges_by(stack: Stack) -> None:
    answer = stack.get("/v1/codelists/fravaer/options")
    assert "list:fravaer" in answer.headers["surrogate-key"].split()
    assert "s-maxage=" in answer.headers["cache-control"]


def test_a_publish_through_the_api_is_fresh_through_the_cache_within_a_second(
    stack: Stack,
) -> None:
    other = stack.get("/v1/codelists/kontaktgruppe/options")
    assert "API1" not in stack.codes("fravaer")
    stack.publish(stack.write_changeset("fravaer", "API1"))
    stack.wait_for("fravaer", "API1", within=FRESH_WITHIN)
    _stays(stack, "fravaer", "API1")
    # Only the lists that got a new version were purged; the others stay cached.
    again = stack.get("/v1/codelists/kontaktgruppe/options")
    assert again.headers["x-cache"] == "HIT" and again.content == other.content


def test_a_publish_by_the_command_line_is_fresh_through_the_cache_within_a_second(
    stack: Stack,
) -> None:
    assert "CLI1" not in stack.codes("kontaktgruppe")
    stack.apply(stack.write_changeset("kontaktgruppe", "CLI1"))
    stack.wait_for("kontaktgruppe", "CLI1", within=FRESH_WITHIN)
    _stays(stack, "kontaktgruppe", "CLI1")


def test_publishes_in_a_row_through_either_process_are_each_fresh(stack: Stack) -> None:
    for number in range(6):
        code = f"ROW{number}"
        stack.publish(stack.write_changeset("tilmeldekategori", code), service=number % 2)
        stack.wait_for("tilmeldekategori", code, within=FRESH_WITHIN)
    _stays(stack, "tilmeldekategori", "ROW4", seconds=0.5)


def test_a_cache_down_during_a_publish_gets_its_purge_when_back(stack: Stack) -> None:
    assert "DOWN1" not in stack.codes("fravaer")
    stack.relay.down()  # the cache is unreachable for the service processes
    try:
        stack.apply(stack.write_changeset("fravaer", "DOWN1"))
        time.sleep(1.5)
        assert "DOWN1" not in stack.codes("fravaer")  # it never heard of the publish
    finally:
        stack.relay.up()
    started = time.monotonic()
    while "DOWN1" not in stack.codes("fravaer"):
        assert time.monotonic() - started < 10, "the purge was never retried"
        time.sleep(0.05)
    _stays(stack, "fravaer", "DOWN1", seconds=0.5)


def test_varnish_answers_cached_urls_while_the_service_is_down(stack: Stack) -> None:
    # Last in this module: it stops the services.
    urls = ["/v1/codelists/fravaer/options", "/v1/codelists", "/v1/codelists/fravaer"]
    before = {url: stack.get(url).content for url in urls}
    for service in stack.services:
        service.stop()
    for url in urls:
        answer = stack.get(url)
        assert answer.status_code == 200
        assert answer.content == before[url]
    assert stack.get("/v1/codelists/fravaer/options?q=never-asked").status_code >= 500


def test_every_purge_was_taken_by_the_cache(stack: Stack) -> None:
    # (the services are down here: what the database recorded is checked)
    async def cursors() -> list[asyncpg.Record]:
        url = stack.env["DATABASE_URL"].replace("postgresql+asyncpg", "postgresql")
        connection = await asyncpg.connect(url)
        try:
            return await connection.fetch("SELECT url, last_id, attempts FROM purge_cursor")
        finally:
            await connection.close()

    (cursor,) = asyncio.run(cursors())
    assert cursor["url"] == stack.relay.url
    assert cursor["attempts"] == 0
