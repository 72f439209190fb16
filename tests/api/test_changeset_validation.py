"""An invalid change set through the admin API (changesets.md, "Validation"), on both databases:
keys given twice, unquoted impossible dates and limits are 422 with every error at its path,
and nothing is stored."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_hostile import snapshot
from tests.conftest import AppClient

URL = "/v1/admin/changesets?publish=true"
YAML = {"Content-Type": "application/yaml"}
JSON = {"Content-Type": "application/json"}


async def error_paths(
    admin: AppClient, engine: AsyncEngine, body: str, headers: dict[str, str]
) -> list[str]:
    before = await snapshot(engine)
    response = await admin.post(URL, content=body.encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await snapshot(engine) == before
    return [error["path"] for error in response.json()["errors"]]


async def test_valid_from_given_twice_is_refused_in_yaml(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    body = """
id: twice
reason: r
changes:
  - op: upsert
    list: fravaer
    values:
      - {code: "63", name: Ny, valid_from: 2026-01-01, valid_from: 2027-01-01}
"""
    assert await error_paths(admin, seeded, body, YAML) == ["changes[0].values[0].valid_from"]


async def test_valid_from_given_twice_is_refused_in_json(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    body = (
        '{"id": "twice", "reason": "r", "changes": [{"op": "upsert", "list": "fravaer", '
        '"values": [{"code": "63", "name": "Ny", "valid_from": "2026-01-01", '
        '"valid_from": "2027-01-01"}]}]}'
    )
    assert await error_paths(admin, seeded, body, JSON) == ["changes[0].values[0].valid_from"]


async def test_an_unquoted_impossible_date_hides_no_other_structural_error(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    body = """
id: dates
reason: r
changes:
  - {op: set, list: fravaer, codes: ["1"], fields: {valid_from: 2026-02-30}}
  - {op: set, list: fravaer, codes: [59], fields: {active: false}}
  - {op: upsert, list: fravaer, values: [{code: "63", name: Ny, valid_from: "2026-02-30"}]}
"""
    assert await error_paths(admin, seeded, body, YAML) == [
        "changes[0].fields.valid_from",
        "changes[1].codes[0]",
        "changes[2].values[0].valid_from",
    ]


async def test_a_long_name_hides_no_unknown_list(admin: AppClient, seeded: AsyncEngine) -> None:
    body = json.dumps(
        {
            "id": "limits",
            "reason": "r",
            "changes": [
                {
                    "op": "upsert",
                    "list": "fravaer",
                    "values": [{"code": "63", "name": "n" * 501, "valid_from": "2026-01-01"}],
                },
                {"op": "set", "list": "nosuchlist", "codes": ["1"], "fields": {"active": False}},
                {"op": "set", "list": "fravaer", "codes": ["x" * 65], "fields": {"active": False}},
            ],
        }
    )
    assert await error_paths(admin, seeded, body, JSON) == [
        "changes[0].values[0].name",  # the limits first
        "changes[2].codes[0]",
        "changes[1].list",  # then the other rules
        "changes[2].codes[0]",
    ]


async def test_header_errors_hide_no_operation_error(admin: AppClient, seeded: AsyncEngine) -> None:
    """api.md: "422 listing every error with its path"; an unknown top-level key, a wrong
    reason, a missing id and a publish_at without offset all come with the operations' errors."""
    body = json.dumps(
        {
            "reason": 5,
            "extra": 1,
            "publish_at": "2026-12-08T06:00:00",
            "changes": [
                {"op": "set", "list": "fravaer", "codes": ["59"], "fields": {"active": "no"}},
                {"op": "set", "list": "fravaer", "codes": [59], "fields": {"active": False}},
            ],
        }
    )
    assert await error_paths(admin, seeded, body, JSON) == [
        "reason",
        "extra",
        "publish_at",
        "id",
        "changes[0].fields.active",
        "changes[1].codes[0]",
    ]
