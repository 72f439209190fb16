"""OPTIONS and Allow from the route table (RFC 9110 sections 9.3.7 and 10.2.1): every path
answers OPTIONS without a token with the methods it takes, HEAD named wherever GET is, and a
405 names the same methods."""

from __future__ import annotations

from app.http.allow import RouteMethods, allow_value
from tests.api.test_head import route_paths
from tests.conftest import AppClient


def _listed(value: str) -> set[str]:
    return {method.strip() for method in value.split(",")}


async def test_every_route_answers_options_without_a_token_with_its_methods(
    admin: AppClient,
) -> None:
    paths = route_paths(admin)
    assert len(paths) > 30  # the route table was read
    anonymous = {"Authorization": ""}
    for path, methods in paths:
        expected = set(methods) | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        answer = await admin.options(path, headers=anonymous)
        assert answer.status_code == 204, path
        assert _listed(answer.headers["allow"]) == expected, path
        assert answer.content == b""
        refused = await admin.request("PATCH", path)
        assert refused.status_code == 405, path
        assert _listed(refused.headers["allow"]) == expected, path
    audit = (await admin.get("/v1/admin/audit?limit=1000")).json()["entries"]
    assert not [entry for entry in audit if entry["detail"].get("method") == "OPTIONS"]


async def test_options_on_a_path_no_route_takes_is_404(client: AppClient) -> None:
    answer = await client.options("/v1/nothing-here")
    assert answer.status_code == 404


async def test_a_cors_preflight_is_still_answered_as_one(client: AppClient) -> None:
    answer = await client.options(
        "/v1/codelists",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert answer.status_code == 204
    assert "access-control-allow-methods" in answer.headers
    assert "allow" not in answer.headers


def test_literal_segments_beat_parameters_and_path_parameters_take_slashes() -> None:
    methods = RouteMethods(
        [
            ("/schema/{path:str}", ["GET"]),
            ("/schema/openapi.json", ["GET", "POST"]),
            ("/docs/assets/{file_path:path}", ["GET"]),
            ("/console", ["GET"]),
        ]
    )
    assert methods.allow("/schema/openapi.json") == b"GET, HEAD, POST, OPTIONS"
    assert methods.allow("/schema/other") == b"GET, HEAD, OPTIONS"
    assert methods.allow("/schema/a/b") is None
    assert methods.allow("/docs/assets/a/b.css") == b"GET, HEAD, OPTIONS"
    assert methods.allow("/console/") == b"GET, HEAD, OPTIONS"
    assert methods.allow("/") is None


def test_allow_values_name_head_with_get_and_always_options() -> None:
    assert allow_value([" POST", "GET "]) == b"GET, HEAD, POST, OPTIONS"
    assert allow_value(["DELETE"]) == b"DELETE, OPTIONS"
