"""Every endpoint that reads a body answers any nesting depth with a 4xx (issue 9 item 19)."""

from __future__ import annotations

import pytest

from tests.conftest import AppClient

LEVELS = 10_000
BRACKETS = b"[" * LEVELS + b"]" * LEVELS
OBJECTS = b'{"a":' * LEVELS + b"1" + b"}" * LEVELS
JSON = "application/json"
YAML = "application/yaml"

CASES = [
    ("/v1/validate", BRACKETS, JSON),
    ("/v1/validate", OBJECTS, JSON),
    ("/v1/validate", b'{"items": [{"list": "fravaer", "code": ' + BRACKETS + b"}]}", JSON),
    ("/v1/admin/subscriptions", BRACKETS, JSON),
    (
        "/v1/admin/subscriptions",
        b'{"url": "https://example.org", "lists": ' + BRACKETS + b"}",
        JSON,
    ),
    ("/v1/admin/changesets", BRACKETS, JSON),
    ("/v1/admin/changesets", OBJECTS, JSON),
    ("/v1/admin/changesets", BRACKETS, YAML),
    ("/v1/admin/changesets", b"id: x\nreason: r\nchanges:\n" + b"- " * LEVELS + b"x\n", YAML),
]


@pytest.mark.parametrize(("path", "body", "media_type"), CASES)
async def test_deep_nesting_is_a_client_error(
    admin: AppClient, path: str, body: bytes, media_type: str
) -> None:
    response = await admin.post(path, content=body, headers={"Content-Type": media_type})
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"] == [{"path": "", "message": "nested deeper than 64 levels"}]
    expected = 422 if path == "/v1/admin/changesets" else 400
    assert response.status_code == expected


async def test_ordinary_bodies_still_pass(admin: AppClient) -> None:
    response = await admin.post("/v1/validate", json={"items": [{"list": "fravaer", "code": "1"}]})
    assert response.status_code == 200
    assert response.json()["results"][0]["state"] == "selectable"
