"""The OpenAPI document declares every status with problem details, types every field and
carries real examples (issue 9 item 14)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import AppClient

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
    """Paths of schemas that say nothing about their type."""
    found = []
    if isinstance(node, dict):
        if node == {} and not path.endswith(("/example", "/properties", "/content", "/headers")):
            found.append(path)
        for key, value in node.items():
            if key not in ("example", "examples"):
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
