"""Hostile input to the admin API: every case a 4xx problem answer, never a 500, nothing stored."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.documents import MAX_DOCUMENT_BYTES, MAX_OPERATIONS
from app.store.tables import metadata
from tests.conftest import AppClient

URL = "/v1/admin/changesets?publish=true"


# Bookkeeping that any request may touch without storing anything: when a token was last used
# and which publish each service process has seen (heartbeats).
_BOOKKEEPING = {"api_token": {"last_used_at"}, "service_process": None}


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but bookkeeping: "nothing stored" means this is unchanged."""
    rows = {}
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in _BOOKKEEPING and _BOOKKEEPING[table.name] is None:
                continue
            skipped = _BOOKKEEPING.get(table.name) or set()
            columns = [column for column in table.c if column.name not in skipped]
            result = await connection.execute(sa.select(*columns))
            rows[table.name] = sorted(map(tuple, result.all()), key=repr)
    return rows


def upserts(count: int) -> dict[str, object]:
    return {
        "id": f"many-{count}",
        "reason": "many operations",
        "changes": [
            {
                "op": "upsert",
                "list": "fravaer",
                "values": [{"code": f"x{i}", "name": f"Værdi {i}", "valid_from": "2026-01-01"}],
            }
            for i in range(count)
        ],
    }


JSON_CASES: list[tuple[str, bytes]] = [
    ("not json", b"{id: "),
    ("not an object", b"[1, 2, 3]"),
    ("wrong types", json.dumps({"id": 5, "reason": ["x"], "changes": "all"}).encode()),
    (
        "unknown top-level field",
        json.dumps({"id": "x", "reason": "r", "changes": [], "drop": "table"}).encode(),
    ),
    (
        "unknown op field",
        json.dumps(
            {
                "id": "x",
                "reason": "r",
                "changes": [
                    {
                        "op": "set",
                        "list": "fravaer",
                        "codes": ["1"],
                        "fields": {"active": False},
                        "sql": "1=1",
                    }
                ],
            }
        ).encode(),
    ),
    (
        "NUL in a name",
        json.dumps(
            {
                "id": "x",
                "reason": "r",
                "changes": [
                    {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": "a\u0000b"}}
                ],
            }
        ).encode(),
    ),
    (
        "lone surrogate",
        b'{"id": "x", "reason": "\\ud800", "changes": [{"op": "update_list", "list": "fravaer", "name": "x"}]}',
    ),
    ("invalid utf-8", b'{"id": "x", "reason": "\xff\xfe", "changes": []}'),
    (
        "SQL in a list key",
        json.dumps(
            {
                "id": "x",
                "reason": "r",
                "changes": [
                    {"op": "create_list", "list": "a'; DROP TABLE change; --", "name": "x"}
                ],
            }
        ).encode(),
    ),
    (
        "SQL in an id",
        json.dumps(
            {
                "id": "x'; DELETE FROM changeset; --",
                "reason": "r",
                "changes": [{"op": "update_list", "list": "fravaer", "name": "x"}],
            }
        ).encode(),
    ),
    (
        "huge number",
        json.dumps(
            {
                "id": "x",
                "reason": "r",
                "changes": [
                    {
                        "op": "set",
                        "list": "fravaer",
                        "codes": ["1"],
                        "fields": {"sort_order": 10**30},
                    }
                ],
            }
        ).encode(),
    ),
    ("nested too deep", b"[" * 100_000 + b"]" * 100_000),
]

YAML_CASES: list[tuple[str, bytes]] = [
    ("malformed yaml", b"id: [unclosed\nreason: {"),
    ("yaml tabs", b"id: x\n\treason: r"),
    (
        "yaml with a python tag",
        b"id: !!python/object/apply:os.system ['true']\nreason: r\nchanges: []",
    ),
    (
        "yaml alias bomb",
        b"a: &a ['x','x','x','x','x','x','x','x','x']\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nid: x\nreason: r\nchanges: [*d]",
    ),
    (
        "impossible date",
        b"id: x\nreason: r\nchanges:\n  - {op: set, list: fravaer, codes: ['1'], fields: {valid_to: 2025-02-30}}",
    ),
    (
        "unquoted numeric code",
        b"id: x\nreason: r\nchanges:\n  - {op: set, list: fravaer, codes: [59], fields: {active: false}}",
    ),
]


@pytest.mark.parametrize(("case", "body"), JSON_CASES, ids=[c for c, _ in JSON_CASES])
async def test_hostile_json(admin: AppClient, seeded: AsyncEngine, case: str, body: bytes) -> None:
    before = await snapshot(seeded)
    response = await admin.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, (case, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == response.status_code
    assert await snapshot(seeded) == before


@pytest.mark.parametrize(("case", "body"), YAML_CASES, ids=[c for c, _ in YAML_CASES])
async def test_hostile_yaml(admin: AppClient, seeded: AsyncEngine, case: str, body: bytes) -> None:
    before = await snapshot(seeded)
    response = await admin.post(URL, content=body, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 422, (case, response.text)
    assert response.json()["errors"], case
    assert await snapshot(seeded) == before


async def test_six_mib_document_is_refused_with_its_reason(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    before = await snapshot(seeded)
    # The size is a rule error (changesets.md, "Validation"): reported with the other rules.
    body = json.dumps(
        {
            "id": "big",
            "reason": "x" * (6 * 1024 * 1024),
            "changes": [{"op": "update_list", "list": "nosuchlist", "name": "x"}],
        }
    ).encode()
    assert len(body) > MAX_DOCUMENT_BYTES
    response = await admin.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert "limit is 5 MiB" in errors[0]["message"]
    assert [e["path"] for e in errors] == ["", "reason", "changes[0].list"]
    far_too_big = await admin.post(
        URL, content=b" " * (12 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert far_too_big.status_code == 413
    assert far_too_big.headers["content-type"] == "application/problem+json"
    assert await snapshot(seeded) == before


async def test_ten_thousand_operations_are_accepted_one_more_is_not(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    before = await snapshot(seeded)
    too_many = await admin.post(URL, json=upserts(MAX_OPERATIONS + 1))
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["path"] == "changes"
    assert await snapshot(seeded) == before
    most = await admin.post(URL, json=upserts(MAX_OPERATIONS))
    assert most.status_code == 201
    assert most.json()["versions"] == {"fravaer": 4}
    listed = (await admin.get("/v1/codelists")).json()["codelists"]
    assert next(c for c in listed if c["key"] == "fravaer")["value_count"] == 13 + MAX_OPERATIONS


async def test_unicode_and_sql_looking_names_are_stored_verbatim(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    names = {
        "u1": "Ærø, Øresund & Åbenrå — „citat“ 🇩🇰",
        "u2": "Robert'); DROP TABLE value_revision;--",
        "u3": "ﬁ ligatur, e\u0301 kombineret, ‮omvendt",
    }
    document = {
        "id": "unicode",
        "reason": "Ünïcödé ✓",
        "changes": [
            {
                "op": "upsert",
                "list": "fravaer",
                "values": [
                    {"code": code, "name": name, "valid_from": "2020-01-01"}
                    for code, name in names.items()
                ],
            }
        ],
    }
    response = await admin.post(URL, json=document)
    assert response.status_code == 201
    for code, name in names.items():
        assert (await admin.get(f"/v1/codelists/fravaer/values/{code}")).json()["name"] == name
    counts = {name: len(rows) for name, rows in (await snapshot(seeded)).items()}
    assert counts["value_revision"] == 37 + 12 + 12 + 3


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/changes?list=a%00b", None),
        ("GET", "/v1/changes?after=9223372036854775808", None),
        ("GET", "/v1/admin/changesets/a%00b", None),
        ("POST", "/v1/admin/changesets/a%00b/publish", None),
        ("GET", "/v1/admin/subscriptions/a%00b/deliveries", None),
        ("POST", "/v1/admin/subscriptions", {"url": "http://127.0.0.1/\u0000x"}),
        ("GET", "/v1/codelists/fravaer/values/a%00b", None),
        ("GET", "/v1/codelists/fravaer/validate?code=a%00b", None),
        ("GET", "/v1/codelists/fravaer/options?q=%00&include=%00", None),
        ("GET", "/v1/codelists/fr%00aer", None),
        ("POST", "/v1/validate", {"items": [{"list": "a\u0000b", "code": "\u0000"}]}),
    ],
)
async def test_nul_and_out_of_range_input_never_reaches_the_database(
    admin: AppClient, method: str, path: str, body: object
) -> None:
    response = await admin.request(method, path, json=body)
    assert response.status_code < 500, response.text


async def test_dates_at_the_ends_of_the_calendar(admin: AppClient) -> None:
    document = {
        "id": "calendar",
        "reason": "extremes",
        "changes": [
            {
                "op": "upsert",
                "list": "fravaer",
                "values": [
                    {"code": "first", "name": "Altid", "valid_from": "0001-01-01"},
                    {
                        "code": "last",
                        "name": "Aldrig",
                        "valid_from": "9999-12-30",
                        "valid_to": "9999-12-31",
                    },
                ],
            }
        ],
    }
    assert (await admin.post(URL, json=document)).status_code == 201
    for path in [
        "/v1/codelists/fravaer",
        "/v1/codelists/fravaer/options",
        "/v1/codelists/fravaer/values/first",
        "/v1/codelists/fravaer/values/last",
        "/v1/codelists/fravaer/fhir",
        "/v1/codelists/fravaer?at=0001-01-01",
        "/v1/codelists/fravaer?at=9999-12-31",
    ]:
        assert (await admin.get(path)).status_code == 200, path
