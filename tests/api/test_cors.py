"""CORS headers that a shared cache can hand to any browser (api.md "HTTP caching").

Every answer is asked for twice where the service caches it: the first time the handler
answers, the second time the fast path in front of the framework; both must carry the same
CORS headers, whatever the request's ``Origin``, status or method.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import AppClient, FixedClock, app_client

OPTIONS = "/v1/codelists/kontaktgruppe/options"
READS = [
    "/v1/codelists",
    "/v1/codelists/fravaer",
    OPTIONS,
    "/v1/codelists/fravaer/values/59",
    "/v1/codelists/fravaer/validate?code=59",
    "/v1/codelists/fravaer/versions",
    "/v1/codelists/fravaer/diff?from=1&to=3",
    "/v1/codelists/fravaer/fhir",
    "/v1/codelists/fravaer?version=2&at=2025-06-30",
    "/v1/export",
    "/v1/export?format=csv",
]
# Answers that are not cached read answers: errors, the feed, the service endpoints, a POST.
OTHERS = [
    ("GET", "/v1/codelists/nosuchlist/options", 404),
    ("GET", "/v1/codelists/fravaer/options?at=someday", 400),
    ("GET", "/v1/codelists/fravaer/options?version=99", 404),
    ("HEAD", "/v1/codelists/nosuchlist", 404),
    ("GET", "/v1/changes", 200),
    ("GET", "/health/live", 200),
    ("POST", "/v1/validate", 200),
]
ORIGINS = [None, "https://sagsbehandler.example", "https://evil.example"]
CORS_HEADERS = ("access-control-allow-origin", "access-control-expose-headers", "vary")


def origin_headers(origin: str | None, **more: str) -> dict[str, str]:
    headers = {"Accept-Encoding": "identity", **more}
    if origin is not None:
        headers["Origin"] = origin
    return headers


def cors(response: httpx.Response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in CORS_HEADERS}


async def ask(client: AppClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body = {"items": [{"list": "fravaer", "code": "59"}]} if method == "POST" else None
    return await client.request(method, path, headers=headers, json=body)


@pytest.mark.parametrize("origin", ORIGINS)
async def test_with_any_origin_every_answer_allows_it(
    client: AppClient, origin: str | None
) -> None:
    for path in READS:
        for method in ("GET", "HEAD", "GET"):  # handler, fast path, fast path
            response = await ask(client, method, path, origin_headers(origin))
            assert response.status_code == 200, path
            assert cors(response) == {
                "access-control-allow-origin": "*",
                "access-control-expose-headers": "ETag, Last-Modified, Cache-Control, "
                "Content-Encoding",
                "vary": "Accept-Encoding",  # the answer does not depend on the Origin
            }, (method, path)
        not_modified = await client.get(
            path, headers=origin_headers(origin, **{"If-None-Match": response.headers["etag"]})
        )
        assert not_modified.status_code == 304
        assert cors(not_modified) == cors(response)
    for method, path, status in OTHERS:
        response = await ask(client, method, path, origin_headers(origin))
        assert response.status_code == status, path
        assert response.headers["access-control-allow-origin"] == "*", path
        assert "ETag" in response.headers["access-control-expose-headers"]
        assert "Origin" not in response.headers.get("vary", "")


async def test_the_example_of_the_field_report(client: AppClient) -> None:
    """Issue 9, item 1: GET .../kontaktgruppe/options with no Origin header."""
    response = await client.get(OPTIONS)
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"].startswith("public,")


async def test_with_an_allow_list_every_answer_varies_by_origin(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    allowed = "https://sagsbehandler.example"
    async with app_client(
        seeded, clock, cors_origins=(allowed, "https://other.example/")
    ) as client:
        for origin in ORIGINS:
            for path in READS:
                for method in ("GET", "HEAD", "GET"):
                    response = await ask(client, method, path, origin_headers(origin))
                    assert response.status_code == 200
                    assert response.headers["vary"] == "Accept-Encoding, Origin"
                    if origin == allowed:
                        assert response.headers["access-control-allow-origin"] == allowed
                        assert "ETag" in response.headers["access-control-expose-headers"]
                    else:
                        assert "access-control-allow-origin" not in response.headers
                        assert "access-control-expose-headers" not in response.headers
                not_modified = await client.get(
                    path,
                    headers=origin_headers(origin, **{"If-None-Match": response.headers["etag"]}),
                )
                assert not_modified.status_code == 304
                assert cors(not_modified) == cors(response)
            for method, path, status in OTHERS:
                response = await ask(client, method, path, origin_headers(origin))
                assert response.status_code == status, path
                assert "Origin" in response.headers["vary"], path
                assert response.headers.get("access-control-allow-origin") == (
                    allowed if origin == allowed else None
                )
        trailing = await client.get(OPTIONS, headers={"Origin": "https://other.example"})
        assert trailing.headers["access-control-allow-origin"] == "https://other.example"


async def test_preflight(seeded: AsyncEngine, clock: FixedClock) -> None:
    request = {
        "Origin": "https://ok.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match",
    }
    async with app_client(seeded, clock) as client:
        preflight = await client.options(OPTIONS, headers=request)
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "HEAD" in preflight.headers["access-control-allow-methods"]
        assert "vary" not in preflight.headers
    async with app_client(seeded, clock, cors_origins=("https://ok.example",)) as client:
        preflight = await client.options(OPTIONS, headers=request)
        assert preflight.headers["access-control-allow-origin"] == "https://ok.example"
        assert preflight.headers["vary"] == "Origin"
        refused = await client.options(OPTIONS, headers={**request, "Origin": "https://x.example"})
        assert "access-control-allow-origin" not in refused.headers
        assert refused.headers["vary"] == "Origin"


# Issue 21, item 5: administration (change sets, review, the audit log, subscriptions) is never
# cross-origin; spelled as a client or a proxy in front might spell it.
ADMIN = [
    ("GET", "/v1/admin/changesets"),
    ("POST", "/v1/admin/changesets"),
    ("GET", "/v1/admin/changesets/x"),
    ("POST", "/v1/admin/changesets/x/approve"),
    ("POST", "/v1/admin/changesets/x/reject"),
    ("POST", "/v1/admin/changesets/x/publish"),
    ("GET", "/v1/admin/whoami"),
    ("GET", "/v1/admin/audit"),
    ("GET", "/v1/admin/subscriptions"),
    ("POST", "/v1/admin/subscriptions"),
    ("DELETE", "/v1/admin/subscriptions/s"),
    ("GET", "/v1/admin/subscriptions/s/deliveries"),
    ("GET", "/v1//admin/changesets"),
    ("GET", "/v1/./admin/audit"),
]
ASKED = [
    ("POST", "Authorization, Content-Type"),
    ("POST", "authorization"),
    ("GET", "Authorization"),
    ("DELETE", "Authorization"),
    ("PUT", "X-Anything"),
    ("POST", None),
    ("GET", None),
]


def no_cors(response: httpx.Response) -> bool:
    return not any(name.startswith("access-control-") for name in response.headers)


@pytest.mark.parametrize("origins", [("*",), ("https://sagsbehandler.example",)])
async def test_admin_answers_and_preflights_grant_no_other_origin(
    admin: AppClient, seeded: AsyncEngine, clock: FixedClock, origins: tuple[str, ...]
) -> None:
    token = admin.headers["Authorization"]
    async with app_client(seeded, clock, cors_origins=origins) as client:
        for origin in ["https://sagsbehandler.example", "https://evil.example", "null"]:
            for method, path in ADMIN:
                for headers in ({"Authorization": token}, {}):
                    response = await client.request(
                        method, path, headers={"Origin": origin, **headers}, json={}
                    )
                    assert no_cors(response), (method, path, response.headers)
                for asked_method, asked_headers in ASKED:
                    request = {"Origin": origin, "Access-Control-Request-Method": asked_method}
                    if asked_headers:
                        request["Access-Control-Request-Headers"] = asked_headers
                    preflight = await client.options(path, headers=request)
                    assert preflight.status_code == 204, path
                    assert no_cors(preflight), (path, asked_method, preflight.headers)
        # Reads as before, from the origins the policy allows.
        read = await client.options(
            OPTIONS,
            headers={
                "Origin": "https://sagsbehandler.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert read.headers["access-control-allow-origin"] in {"*", "https://sagsbehandler.example"}
        assert "Authorization" in read.headers["access-control-allow-headers"]
