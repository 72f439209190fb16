"""Every parameter error names the parameter as the client sent it (api.md: "errors array of
{"path", ...}"), also where the handler declares it under another name."""

from __future__ import annotations

from litestar.routes import HTTPRoute

from app.api.errors import QUERY_NAMES
from app.server.app import create_litestar
from tests.conftest import AppClient


def test_every_parameter_declared_under_another_name_is_mapped_back(client: AppClient) -> None:
    renamed = {}
    for route in create_litestar(client.services).routes:
        if isinstance(route, HTTPRoute):
            for _, kwargs_model in route.route_handler_map.values():
                for parameter in kwargs_model.expected_query_params:
                    if parameter.field_alias != parameter.field_name:
                        renamed[parameter.field_name] = parameter.field_alias
    assert renamed  # the route table was read
    assert {name: QUERY_NAMES.get(name) for name in renamed} == renamed


async def test_a_bad_value_of_a_renamed_parameter_names_it_as_sent(admin: AppClient) -> None:
    feed = await admin.get("/v1/changes?list=FRAVAER")
    assert feed.status_code == 400
    assert [error["path"] for error in feed.json()["errors"]] == ["list"]
    submit = await admin.post("/v1/admin/changesets?publish=maybe", json={})
    assert submit.status_code == 400
    assert [error["path"] for error in submit.json()["errors"]] == ["publish"]
    diff = await admin.get("/v1/codelists/fravaer/diff?from=x&to=2")
    assert [error["path"] for error in diff.json()["errors"]] == ["from"]


async def test_a_missing_body_is_named_as_missing(admin: AppClient) -> None:
    for path in ("/v1/validate", "/v1/admin/subscriptions"):
        answer = await admin.post(path, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, path
        assert answer.json()["errors"] == [{"path": "", "message": "a request body is required"}]
