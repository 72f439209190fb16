"""The OpenAPI document declares every status with problem details, types every field and
carries real examples (issue 9 item 14)."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema_rs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.params import MAX_REQUEST_TARGET
from app.domain.destinations import URL_PATTERN, url_problem
from tests.api.conftest import People
from tests.api.test_admin import rename
from tests.conftest import AppClient, FixedClock, app_client
from tests.servers import running_service

PROBLEM = "application/problem+json"


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


async def test_every_operation_declares_every_error_as_problem_details(
    client: AppClient,
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["components"]["schemas"]["Problem"]["required"] == ["status", "title", "detail"]
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        expected = {"400", "500", "503"}
        if path.startswith("/v1/"):
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if method == "post":
            expected.add("413")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status, response in responses.items():
            if status >= "400":
                assert list(response["content"]) == [PROBLEM], (method, path, status)
                schema_ref = response["content"][PROBLEM]["schema"]["$ref"]
                assert schema_ref == "#/components/schemas/Problem"
        if method in ("get", "head") and path.startswith("/v1/codelists"):
            assert "304" in responses and "content" not in responses["304"]
    submit = schema["paths"]["/v1/admin/changesets"]["post"]["responses"]
    assert {"200", "201", "409", "415", "422"} <= set(submit)
    assert (
        "409" in schema["paths"]["/v1/admin/changesets/{changeset_id}/publish"]["post"]["responses"]
    )
    assert "422" in schema["paths"]["/v1/admin/subscriptions"]["post"]["responses"]
    assert (
        "content"
        not in (
            schema["paths"]["/v1/admin/subscriptions/{subscription_id}"]["delete"]["responses"][
                "204"
            ]
        )
    )
    fhir = schema["paths"]["/v1/codelists/{key}/fhir"]["get"]["responses"]["200"]["content"]
    assert list(fhir) == ["application/fhir+json"]
    export = schema["paths"]["/v1/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"application/json", "text/csv"}


def untyped(node: Any, path: str = "") -> list[str]:
    """Paths of schemas that say nothing about their type (examples and defaults are values)."""
    found = []
    if isinstance(node, dict):
        if node == {} and not path.endswith(("/example", "/properties", "/content", "/headers")):
            found.append(path)
        for key, value in node.items():
            if key not in ("example", "examples", "default"):
                found += untyped(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += untyped(value, f"{path}/{index}")
    return found


async def test_every_field_is_typed_and_examples_are_real(client: AppClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert untyped(schema) == []
    change = schema["components"]["schemas"]["Change"]["properties"]
    assert change["value"] == {"$ref": "#/components/schemas/Value"}
    assert {"type": "null"} in change["previous"]["oneOf"]
    # No random strings: every example is one of ours, from the seed.
    text = json.dumps(schema, ensure_ascii=False)
    assert "6 måneders bonus for danskkundskaber" in text
    options = schema["paths"]["/v1/codelists/{key}/options"]["get"]
    examples = {p["name"]: p.get("example") for p in options["parameters"]}
    assert examples["key"] == "fravaer"
    assert examples["include"] == "59"
    for name, component in schema["components"]["schemas"].items():
        for field in component.get("properties", {}).values():
            assert "examples" not in field, name
    assert schema["components"]["schemas"]["OptionsOut"]["example"]["key"] == "fravaer"
    # The examples are answers the service really gives.
    answer = await client.get("/v1/codelists/fravaer/validate?code=59&at=2025-07-01&version=2")
    assert answer.json() == schema["components"]["schemas"]["ValidationOut"]["example"]


# The largest integer every JSON reader (JavaScript's Number.MAX_SAFE_INTEGER) holds exactly.
SAFE_INTEGER = 2**53 - 1
BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def is_integer_schema(node: dict[str, Any]) -> bool:
    kinds = node.get("type")
    arms = [arm.get("type") for arm in node.get("oneOf", []) if isinstance(arm, dict)]
    return "integer" in (kinds if isinstance(kinds, list) else [kinds]) or "integer" in arms


def integer_bounds(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, value) of every bound written on a schema of integers, anywhere in ``node``."""
    found = []
    if isinstance(node, dict):
        if is_integer_schema(node):
            found += [(f"{path}/{key}", node[key]) for key in BOUNDS if key in node]
        for key, value in node.items():
            found += integer_bounds(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += integer_bounds(value, f"{path}/{index}")
    return found


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` itself, or the component its ``$ref`` names."""
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].removeprefix(REF)]
    return node


REF = "#/components/schemas/"


def request_example(schema: dict[str, Any], operation: dict[str, Any]) -> Any:
    """The example of an operation's JSON request body (its schema's), or None."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    return content.get("example", resolve(schema, content["schema"]).get("example"))


async def test_integer_bounds_are_exact_integers_and_the_server_agrees(admin: AppClient) -> None:
    schema = (await admin.get("/schema/openapi.json")).json()
    bounds = integer_bounds(schema)
    assert bounds, "no integer bound found: the walk is wrong"
    for where, value in bounds:
        assert type(value) is int, (where, value)  # 9.223372036854776e+18 is no integer
        assert -SAFE_INTEGER <= value <= SAFE_INTEGER, (where, value)

    # Each integer query parameter is taken at its bounds and refused (400, naming it) one
    # step beyond. The operation's other integer parameters stand at the same end, so that
    # rules between them (diff: from <= to) hold.
    checked = set()
    for path, method, operation in operations(schema):
        parameters = operation.get("parameters", [])
        integers = [p for p in parameters if p["in"] == "query" and is_integer_schema(p["schema"])]
        url = path
        for parameter in parameters:
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", str(parameter["example"]))
        required = {
            p["name"]: p["example"]
            for p in parameters
            if p["in"] == "query" and p.get("required") and p not in integers
        }
        body = request_example(schema, operation)
        for parameter in integers:
            name, bounds_of = parameter["name"], parameter["schema"]
            assert {"minimum", "maximum"} <= set(bounds_of), (path, name)
            for end, step in (("minimum", -1), ("maximum", 1)):
                at_end = {**required, **{p["name"]: p["schema"][end] for p in integers}}
                inside = await admin.request(method, url, params=at_end, json=body)
                assert inside.status_code != 400, (method, path, at_end, inside.text)
                past = {**at_end, name: bounds_of[end] + step}
                beyond = await admin.request(method, url, params=past, json=body)
                assert beyond.status_code == 400, (method, path, past, beyond.text)
                assert [e["path"] for e in beyond.json()["errors"]] == [name], beyond.text
            checked.add((path, name))
    assert ("/v1/changes", "after") in checked
    assert ("/v1/admin/audit", "after") in checked
    assert ("/v1/codelists/{key}/diff", "from") in checked


NO_BODY = object()
# Comments blank to one regex engine or another (Python's re counts \x1c and \x85 as white
# space, ECMAScript \ufeff), comments that say something, one too long; and an unknown field.
REVIEW_BODIES: list[Any] = [
    NO_BODY,
    {},
    *({"comment": comment} for comment in (None, "", " ", "\t\n", "\x1c", "\x85", "\u3000")),
    *({"comment": comment} for comment in ("\ufeff", "nej", " nej ", "\u00a0ok", "x" * 5001)),
    {"comment": "ok", "note": "unknown"},
]


async def test_review_bodies_are_described_as_the_server_reads_them(
    strict: AppClient, people: People
) -> None:
    schema = (await strict.get("/schema/openapi.json")).json()
    for action in ("approve", "reject"):
        request_body = schema["paths"][f"/v1/admin/changesets/{{changeset_id}}/{action}"]["post"][
            "requestBody"
        ]
        body_schema = resolve(schema, request_body["content"]["application/json"]["schema"])
        assert body_schema["additionalProperties"] is False
        validator = jsonschema_rs.validator_for(body_schema)
        await strict.post("/v1/admin/changesets", json=rename(action), headers=people.anna)
        url = f"/v1/admin/changesets/{action}/{action}"
        accepted = 0
        for body in REVIEW_BODIES:
            if body is NO_BODY:
                valid = not request_body["required"]
                answer = await strict.post(url, headers=people.bo)
            else:
                valid = validator.is_valid(body)
                answer = await strict.post(url, json=body, headers=people.bo)
            # A valid body is taken (the first decides, the rest find it decided: 409).
            expected = {200, 409} if valid else {422}
            assert answer.status_code in expected, (action, body, valid, answer.text)
            accepted += valid
        assert accepted >= 3, action


def open_objects(schema: dict[str, Any], node: Any, path: str, seen: set[str]) -> list[str]:
    """Paths of the object schemas in ``node`` (following references) that name properties
    but do not say ``additionalProperties: false``."""
    found = []
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str):
            if reference in seen:
                return []
            seen.add(reference)
            return open_objects(schema, resolve(schema, node), reference, seen)
        if "properties" in node and node.get("additionalProperties") is not False:
            found.append(path)
        for key, value in node.items():
            if key not in ("example", "examples"):
                found += open_objects(schema, value, f"{path}/{key}", seen)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += open_objects(schema, value, f"{path}/{index}", seen)
    return found


def body_examples(schema: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(method, URL, media type, example) of every request-body example in the document, the
    path filled in with its parameters' examples."""
    found = []
    for path, method, operation in operations(schema):
        url = path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", str(parameter["example"]))
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            examples = [content["example"]] if "example" in content else []
            examples += [example["value"] for example in content.get("examples", {}).values()]
            component = resolve(schema, content["schema"])
            examples += [component["example"]] if "example" in component else []
            found += [(method, url, media_type, example) for example in examples]
    return found


def with_unknown_field(example: Any) -> list[Any]:
    """``example`` once for each object in it, that object with a field nobody knows."""
    variants = []
    if isinstance(example, dict):
        variants.append({**example, "unknown_field": 1})
        for key, value in example.items():
            variants += [{**example, key: inner} for inner in with_unknown_field(value)]
    elif isinstance(example, list):
        for index, value in enumerate(example):
            variants += [
                [*example[:index], inner, *example[index + 1 :]]
                for inner in with_unknown_field(value)
            ]
    return variants


async def test_every_request_body_refuses_unknown_fields_and_says_so(admin: AppClient) -> None:
    schema = (await admin.get("/schema/openapi.json")).json()
    bodies = [
        (method, path, media_type, body)
        for path, method, operation in operations(schema)
        for media_type, body in operation.get("requestBody", {}).get("content", {}).items()
    ]
    assert len(bodies) >= 6  # validate, change sets (JSON, YAML), approve, reject, subscriptions
    for method, path, media_type, body in bodies:
        assert open_objects(schema, body["schema"], "", set()) == [], (method, path, media_type)
    # And the server does refuse them: an unknown field anywhere in an example is a 400 or 422.
    examples = [example for example in body_examples(schema) if example[2] == "application/json"]
    assert {url for _, url, _, _ in examples} >= {
        "/v1/validate",
        "/v1/admin/changesets",
        "/v1/admin/subscriptions",
    }
    for method, url, _, example in examples:
        for variant in with_unknown_field(example):
            answer = await admin.request(method, url, json=variant)
            assert answer.status_code in (400, 422), (url, variant, answer.text)
            assert "unknown_field" in answer.text, (url, variant, answer.text)


async def test_every_request_body_example_is_accepted(admin: AppClient) -> None:
    """With default settings (no CODELISTS_WEBHOOK_ALLOWED_NETWORKS), each example is taken:
    2xx, or 409 where sending it again meets the first."""
    schema = (await admin.get("/schema/openapi.json")).json()
    examples = body_examples(schema)
    assert {url for _, url, _, _ in examples} >= {
        "/v1/validate",
        "/v1/admin/changesets",
        "/v1/admin/subscriptions",
    }
    for method, url, media_type, example in examples:
        content = json.dumps(example).encode()  # JSON is YAML too
        first = await admin.request(
            method, url, content=content, headers={"Content-Type": media_type}
        )
        assert 200 <= first.status_code < 300, (url, media_type, example, first.text)
        again = await admin.request(
            method, url, content=content, headers={"Content-Type": media_type}
        )
        assert 200 <= again.status_code < 300 or again.status_code == 409, (url, again.text)


async def needs_a_token(client: AppClient) -> dict[tuple[str, str], bool]:
    """Per operation (method, path): whether the document says it needs a bearer token; the
    server is asked each one without a token and must answer 401 exactly when it does."""
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        **schema["components"]["securitySchemes"]["bearer"],
        "type": "http",
        "scheme": "bearer",
    }
    found = {}
    for path, method, operation in operations(schema):
        security = operation.get("security")
        assert security in (None, [{"bearer": []}]), (method, path, security)
        url = path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", str(parameter["example"]))
        answer = await client.request(method, url)
        assert (answer.status_code == 401) == (security is not None), (method, path, answer.text)
        found[(method, path)] = security is not None
    return found


async def test_operations_that_need_a_token_say_so(
    client: AppClient, seeded: AsyncEngine, clock: FixedClock
) -> None:
    public = await needs_a_token(client)
    admin = {operation for operation, needed in public.items() if needed}
    assert {path for _, path in admin} == {path for _, path in public if "/admin/" in path}
    assert ("get", "/v1/codelists/{key}/options") not in admin
    assert ("get", "/v1/changes") not in admin
    async with app_client(seeded, clock, public_read=False) as private_client:
        private = await needs_a_token(private_client)
    reads = {operation for operation, needed in private.items() if needed} - admin
    assert ("get", "/v1/codelists/{key}/options") in reads
    assert ("post", "/v1/validate") in reads
    assert ("get", "/v1/changes") in reads
    assert ("get", "/health/live") not in reads


async def test_the_document_is_json_and_cached_like_every_answer(client: AppClient) -> None:
    first = await client.get("/schema/openapi.json")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"  # api.md: JSON unless said
    assert first.json()["openapi"].startswith("3.1")
    etag = first.headers["etag"]
    assert etag.startswith('"')  # strong
    assert first.headers["cache-control"].startswith("public, max-age=")
    revalidated = await client.get("/schema/openapi.json", headers={"If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == etag
    other = await client.get("/schema/openapi.json", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200
    assert other.content == first.content
    head = await client.head("/schema/openapi.json")
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)


# The most bytes a character of a query or path takes on the wire: 4 UTF-8 bytes, each
# percent-encoded.
BYTES_PER_CHAR = 12
URL_MARGIN = 2048


def longest_value(schema: dict[str, Any]) -> int:
    """The bytes, on the wire, of the longest value a parameter's schema allows."""
    if "enum" in schema:
        return max(len(quote(str(value))) for value in schema["enum"] if value is not None)
    arms = [schema, *schema.get("oneOf", [])]
    kinds = {arm.get("type") for arm in arms} - {None, "null"}
    if kinds == {"string"}:
        if any(arm.get("format") == "date" for arm in arms):
            return len("2025-06-30")
        lengths = [arm["maxLength"] for arm in arms if "maxLength" in arm]
        assert lengths, f"a string without maxLength: {schema}"
        return max(lengths) * BYTES_PER_CHAR
    if kinds == {"integer"}:
        return max(len(str(schema["minimum"])), len(str(schema["maximum"])))
    if kinds == {"number"}:
        return len(repr(-2.2250738585072014e-308))  # the longest repr of a float
    assert kinds == {"boolean"}, schema
    return len("false")


def longest_target(operation: dict[str, Any], path: str) -> int:
    """The bytes of the longest request target (path and query) the operation's parameters allow."""
    length = len(path)
    for parameter in operation.get("parameters", []):
        value = longest_value(parameter["schema"])
        if parameter["in"] == "path":
            length += value - len("{" + parameter["name"] + "}")
        elif parameter["in"] == "query":
            length += len(f"&{quote(parameter['name'])}=") + value
    return length


async def test_the_longest_valid_url_fits_the_http_server(client: AppClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    longest = {
        (method, path): longest_target(operation, path)
        for path, method, operation in operations(schema)
    }
    for operation, length in longest.items():
        assert length <= MAX_REQUEST_TARGET - URL_MARGIN, (operation, length)
    # The options read, with include, is the longest; the measure above is not vacuous.
    assert max(longest.values()) == longest[("get", "/v1/codelists/{key}/options")] > 60000


def status_of(url: str, target: str) -> int:
    """The status ``GET target`` gets from the server at ``url`` (byte for byte as given)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("GET", target)
        return connection.getresponse().status
    finally:
        connection.close()


def test_granian_refuses_longer_targets_than_max_request_target(tmp_path: Path) -> None:
    """MAX_REQUEST_TARGET is the HTTP server's real limit, and the longest URL the document
    allows (every character four UTF-8 bytes) reaches the app."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'codelists.db'}"}
    with running_service(env, tmp_path / "serve.log") as service:
        at_limit = "/v1/codelists?at=" + "x" * (MAX_REQUEST_TARGET - len("/v1/codelists?at="))
        assert status_of(service.url, at_limit) == 400  # the app's answer: not a date
        assert status_of(service.url, at_limit + "x") == 414
        four_bytes = quote("\U0001f600")  # 12 bytes
        longest = (
            f"/v1/codelists/{'k' * 64}/options?at=2025-06-30&version=2147483647"
            f"&include={four_bytes * 5000}&q={four_bytes * 200}"
        )
        assert status_of(service.url, longest) == 404  # the app's: no such list


async def test_the_subscription_url_is_described_by_the_form_the_server_checks(
    client: AppClient,
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    url = schema["components"]["schemas"]["NewSubscription"]["properties"]["url"]
    assert url["pattern"] == URL_PATTERN


# JSON Schema's $ is the end of the text (ECMAScript), Python's may stand before a last newline.
@given(st.from_regex(URL_PATTERN.removesuffix("$") + r"\Z"))
@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_url_the_pattern_takes_has_the_form_the_server_takes(url: str) -> None:
    assert url_problem(url) is None, url
