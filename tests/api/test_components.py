"""The component module and demo page are served like every other answer (api.md "HTTP caching").

The element's behaviour in a browser is tested in tests/browser/.
"""

from __future__ import annotations

import gzip
import html.parser
from pathlib import Path

import brotli
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import ROOT, AppClient, FixedClock, app_client

MODULE = "/components/codelist-select.js"
SOURCE = ROOT / "clients" / "js" / "codelist-select.js"


async def test_module_is_the_one_source_with_cache_headers(client: AppClient) -> None:
    answer = await client.get(MODULE, headers={"Accept-Encoding": "identity"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert answer.content == SOURCE.read_bytes()
    assert answer.headers["cache-control"] == (
        "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"
    )
    assert answer.headers["vary"] == "Accept-Encoding"
    etag = answer.headers["etag"]
    for header in [etag, f'"x", {etag}', f"W/{etag}", "*"]:
        again = await client.get(
            MODULE, headers={"Accept-Encoding": "identity", "If-None-Match": header}
        )
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["etag"] == etag
    since = await client.get(MODULE, headers={"If-Modified-Since": answer.headers["last-modified"]})
    assert since.status_code == 304


async def test_module_head_and_codings(client: AppClient) -> None:
    plain = (await client.get(MODULE, headers={"Accept-Encoding": "identity"})).content
    head = await client.head(MODULE, headers={"Accept-Encoding": "identity"})
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(plain))
    for coding, decode in [("gzip", gzip.decompress), ("br", brotli.decompress)]:
        async with client.stream("GET", MODULE, headers={"Accept-Encoding": coding}) as answer:
            sent = b"".join([chunk async for chunk in answer.aiter_raw()])
        assert answer.headers["content-encoding"] == coding
        assert answer.headers["etag"].endswith(f'-{coding}"')
        assert decode(sent) == plain
    refused = await client.get(MODULE, headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "content-encoding" not in refused.headers


async def test_module_has_cors(client: AppClient) -> None:
    answer = await client.get(MODULE, headers={"Origin": "https://front.example"})
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "ETag" in answer.headers["access-control-expose-headers"]


def test_module_is_small_enough() -> None:
    """api.md: at most 5 KiB gzipped."""
    assert len(gzip.compress(SOURCE.read_bytes(), 9)) <= 5 * 1024


def test_package_carries_the_same_file() -> None:
    """app/components/codelist-select.js is a link to the one source, not a second copy."""
    link = ROOT / "app" / "components" / "codelist-select.js"
    assert link.is_symlink()
    assert link.resolve() == SOURCE.resolve()


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict[str, str | None]] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "codelist-select":
            self.elements.append(found)
        for name in ("src", "href"):
            if found.get(name):
                self.sources.append(str(found[name]))


async def test_page_shows_every_list_with_a_date_field(client: AppClient) -> None:
    answer = await client.get("/components/")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["etag"]
    page = _Page()
    page.feed(answer.text)
    lists = (await client.get("/v1/codelists")).json()["codelists"]
    assert [e["list"] for e in page.elements] == sorted(item["key"] for item in lists)
    assert 'type="date"' in answer.text
    assert '<html lang="da">' in answer.text
    # nothing from another host: every source is a path on this service
    assert page.sources and all(src.startswith("/") for src in page.sources)
    for source in page.sources:  # the module and the icon are there
        assert (await client.get(source)).status_code == 200, source
    assert "/console/static/favicon.svg" in page.sources
    assert answer.headers["surrogate-key"] == "codelists index"
    again = await client.get("/components/", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", [MODULE, "/components/"])
async def test_private_reads_guard_only_the_page(
    seeded: AsyncEngine, clock: FixedClock, path: str, tmp_path: Path
) -> None:
    async with app_client(seeded, clock, public_read=False) as client:
        answer = await client.get(path)
    assert answer.status_code == (200 if path == MODULE else 401)
