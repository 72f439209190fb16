"""HEAD wherever GET is answered (RFC 9110 sections 9.1 and 9.3.2), on every GET route the app
has, including litestar's own OpenAPI routes and the console."""

from __future__ import annotations

import re

from app.server.app import create_litestar
from tests.conftest import AppClient

# A value for each path parameter, from the seed where one is named.
PATH_VALUES = {
    "key": "fravaer",
    "code": "59",
    "version": "2",
    "changeset_id": "2025-4-kontanthjaelpsreform",
    "subscription_id": "00000000-0000-0000-0000-000000000000",
    "name": "console.js",
    "path": "openapi.json",
    "file_path": "swagger-ui.css",
}
SAME_AS_GET = ("content-type", "etag", "cache-control", "access-control-allow-origin")


def route_paths(admin: AppClient) -> list[tuple[str, frozenset[str]]]:
    """One concrete path for each HTTP route of the app, with the methods its route takes."""
    routes = create_litestar(admin.services).routes
    paths = []
    for route in routes:
        methods = getattr(route, "methods", None)
        if methods is None:
            continue
        path = re.sub(r"\{(\w+):\w+\}", lambda m: PATH_VALUES[m.group(1)], route.path)
        paths.append((path, frozenset(methods)))
    return paths


def _get_paths(admin: AppClient) -> list[str]:
    """One concrete path for each route of the app that answers GET."""
    return [path for path, methods in route_paths(admin) if "GET" in methods]


async def test_every_get_route_answers_head_like_get_without_content(admin: AppClient) -> None:
    paths = _get_paths(admin)
    assert len(paths) > 30  # the route table was read, not an empty list
    for path in paths:
        get = await admin.get(path, headers={"Accept-Encoding": "identity"})
        head = await admin.head(path, headers={"Accept-Encoding": "identity"})
        assert head.status_code == get.status_code != 405, path
        assert head.content == b"", path
        for name in SAME_AS_GET:
            assert head.headers.get(name) == get.headers.get(name), (path, name)
        if path != "/metrics":  # its counters move between the two requests
            assert head.headers.get("content-length") == get.headers.get("content-length"), path


async def test_head_on_a_route_that_takes_no_get_is_still_405(admin: AppClient) -> None:
    answer = await admin.head("/v1/validate")
    assert answer.status_code == 405
    assert answer.content == b""
