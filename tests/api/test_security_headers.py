"""Protective headers (issue 21, item 8; api.md "Security headers"): every HTML page sends a
Content-Security-Policy without inline scripts, no framing, nosniff and no referrer; every
answer sends nosniff, whether from a handler or the fast path, a 200, 304, error or HEAD."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import AppClient

PAGES = [
    "/console/",
    "/console/changesets",
    "/console/audit",
    "/console/lists/fravaer",
    "/components/",
    "/docs",
]
# (method, path, status): handlers' answers, then the same again from the fast path.
ANSWERS = [
    ("GET", "/v1/codelists", 200),
    ("GET", "/v1/codelists/fravaer/options", 200),
    ("HEAD", "/v1/codelists/fravaer/options", 200),
    ("GET", "/v1/codelists/fravaer/values/59", 200),
    ("GET", "/v1/export?format=csv", 200),
    ("GET", "/v1/changes", 200),
    ("GET", "/v1/codelists/nosuchlist", 404),
    ("GET", "/v1/codelists/fravaer/options?at=someday", 400),
    ("GET", "/v1/codelists/fravaer/options?nosuch=1", 400),
    ("DELETE", "/v1/codelists/fravaer", 405),
    ("GET", "/v1/nothing-here", 404),
    ("POST", "/v1/validate", 200),
    ("GET", "/v1/admin/changesets", 401),
    ("POST", "/v1/admin/changesets", 401),
    ("OPTIONS", "/v1/codelists", 204),
    ("GET", "/health/live", 200),
    ("GET", "/health/ready", 200),
    ("GET", "/metrics", 200),
    ("GET", "/schema/openapi.json", 200),
    ("GET", "/docs/init.js", 200),
    ("GET", "/docs/assets/swagger-ui.css", 200),
    ("GET", "/components/codelist-select.js", 200),
    ("GET", "/components/demo.js", 200),
    ("GET", "/components/demo.css", 200),
    ("GET", "/console/static/console.js", 200),
]


def script_sources(csp: str) -> list[str]:
    """The sources a policy allows scripts from (script-src, else default-src)."""
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    return directives.get("script-src", directives.get("default-src", []))


def assert_page_headers(response: httpx.Response, what: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert csp, what
    sources = script_sources(csp)
    assert sources and "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, csp
    assert "frame-ancestors 'none'" in csp, what
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") == "no-referrer", what


async def test_every_html_page_sends_its_protective_headers(client: AppClient) -> None:
    for path in PAGES:
        for method in ("GET", "HEAD", "GET"):  # the handler, then the fast path where cached
            response = await client.request(method, path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith("text/html"), path
            assert_page_headers(response, f"{method} {path}")
        if "etag" in response.headers:
            again = await client.get(path, headers={"If-None-Match": response.headers["etag"]})
            assert again.status_code == 304, path
            assert_page_headers(again, f"304 {path}")
        assert "<script>" not in response.text  # no inline script left to allow


@pytest.mark.parametrize("origin", [None, "https://other.example"])
async def test_every_answer_sends_nosniff(client: AppClient, origin: str | None) -> None:
    headers = {"Origin": origin} if origin else {}
    for _ in range(2):  # the second time, cached answers come from the fast path
        for method, path, status in ANSWERS:
            body = {"items": [{"list": "fravaer", "code": "59"}]} if method == "POST" else None
            response = await client.request(method, path, headers=headers, json=body)
            assert response.status_code == status, (method, path, response.text)
            assert response.headers.get("x-content-type-options") == "nosniff", (method, path)
            etag = response.headers.get("etag")
            if etag and method == "GET":
                not_modified = await client.get(path, headers={**headers, "If-None-Match": etag})
                if path.startswith("/v1/"):
                    assert not_modified.status_code == 304, path
                assert not_modified.headers.get("x-content-type-options") == "nosniff", path
    preflight = await client.options(
        "/v1/codelists",
        headers={"Origin": "https://other.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers.get("x-content-type-options") == "nosniff"
