"""The console's pages and files as HTTP answers (api.md "Administrators' console"); the
console's behaviour in a browser is tested in tests/browser/test_console.py."""

from __future__ import annotations

import re

import pytest

from tests.conftest import AppClient

PAGES = [
    "/console/",
    "/console/lists/fravaer",
    "/console/changesets",
    "/console/changesets/2025-4-kontanthjaelpsreform",
    "/console/audit",
]


def assert_strict(headers: object) -> None:
    policy = headers["content-security-policy"]  # type: ignore[index]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy
    assert "unsafe" not in policy
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "no-referrer"  # type: ignore[index]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_is_danish_html_with_strict_headers(client: AppClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert_strict(answer.headers)
    assert '<html lang="da">' in answer.text
    assert '<label for="token">Token</label>' in answer.text
    # No inline script and nothing from another host.
    assert re.findall(r"<script[^>]*>", answer.text) == [
        '<script type="module" src="/console/static/console.js">'
    ]
    assert "http://" not in answer.text and "https://" not in answer.text
    assert "set-cookie" not in answer.headers


async def test_page_titles_escape_what_the_path_says(client: AppClient) -> None:
    answer = await client.get("/console/lists/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert "<img" not in answer.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in answer.text


async def test_the_console_address_without_its_slash_redirects(client: AppClient) -> None:
    answer = await client.get("/console")
    assert (answer.status_code, answer.headers["location"]) == (308, "/console/")


async def test_the_page_says_whether_approval_is_required(client: AppClient) -> None:
    answer = await client.get("/console/")
    assert 'data-require-approval="false"' in answer.text


async def test_static_files_have_types_etags_and_304s(client: AppClient) -> None:
    for name, media_type in [
        ("console.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ]:
        answer = await client.get(f"/console/static/{name}")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == media_type
        assert_strict(answer.headers)
        again = await client.get(
            f"/console/static/{name}", headers={"If-None-Match": answer.headers["etag"]}
        )
        assert (again.status_code, again.content) == (304, b"")
    missing = await client.get("/console/static/../../asgi.py")
    assert missing.status_code == 404
    assert (await client.get("/console/static/nothing.js")).status_code == 404


async def test_scripts_are_modules_that_never_write_markup(client: AppClient) -> None:
    for name in ("console.js", "api.js", "dom.js", "lists.js", "changesets.js", "audit.js"):
        script = (await client.get(f"/console/static/{name}")).text
        assert "innerHTML" not in script and "eval(" not in script
        assert "document.cookie" not in script and "localStorage" not in script


@pytest.mark.parametrize(
    "path",
    [
        "/console/?at=2025-07-01&version=2",
        "/console/lists/fravaer?at=2025-07-01&version=2&code=59",
        "/console/changesets?status=planned",
        "/console/audit?after=10",
    ],
)
async def test_pages_take_the_parameters_their_script_reads(client: AppClient, path: str) -> None:
    assert (await client.get(path)).status_code == 200
