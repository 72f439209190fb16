"""The read endpoints of api.md on the seeded store, on both databases."""

from __future__ import annotations

import httpx
import pytest

Client = httpx.AsyncClient
RETIRED_FRAVAER = {"59", "60", "62"}


async def test_index_lists_every_list(client: Client) -> None:
    response = await client.get("/v1/codelists")
    assert response.status_code == 200
    lists = {item["key"]: item for item in response.json()["codelists"]}
    assert set(lists) == {"fravaer", "kontaktgruppe", "tilmeldekategori", "slettepolitik"}
    assert lists["fravaer"]["version"] == 3
    assert lists["fravaer"]["value_count"] == 13
    assert set(lists["fravaer"]) == {
        "key",
        "name",
        "description",
        "source",
        "attributes",
        "version",
        "published_at",
        "value_count",
    }


async def test_list_has_every_value_whatever_its_state(client: Client) -> None:
    body = (await client.get("/v1/codelists/fravaer")).json()
    assert body["key"] == "fravaer"
    assert body["version"] == 3
    assert body["at"] == "2026-11-27"
    values = {v["code"]: v for v in body["values"]}
    assert len(values) == 13
    assert values["59"] == {
        "code": "59",
        "name": "6 måneders bonus for danskkundskaber",
        "description": None,
        "valid_from": "2014-01-01",
        "valid_to": "2025-07-01",
        "active": False,
        "state": "deactivated",
        "selectable": False,
        "sort_order": 59,
        "parent": None,
        "replaced_by": [],
        "attributes": {},
    }
    assert [v["code"] for v in body["values"]][:3] == ["1", "2", "3"]


async def test_options_hide_the_retired_values_today(client: Client) -> None:
    body = (await client.get("/v1/codelists/fravaer/options")).json()
    assert set(body) == {"key", "version", "at", "options"}
    codes = [o["code"] for o in body["options"]]
    assert not RETIRED_FRAVAER & set(codes)
    assert codes == ["1", "2", "3", "4", "6", "7", "8", "9", "10", "11"]
    assert all(
        set(o) == {"code", "name", "selectable"} and o["selectable"] for o in body["options"]
    )


async def test_version_before_2025_4_shows_59_selectable_then_expired(client: Client) -> None:
    versions = (await client.get("/v1/codelists/fravaer/versions")).json()["versions"]
    before = next(v["version"] for v in versions if v["release"] == "2025-4") - 1
    on_30_june = (await client.get(f"/v1/codelists/fravaer?version={before}&at=2025-06-30")).json()
    on_1_july = (await client.get(f"/v1/codelists/fravaer?version={before}&at=2025-07-01")).json()
    state = {v["code"]: v["state"] for v in on_30_june["values"]}
    assert state["59"] == "selectable"
    assert {v["code"]: v["state"] for v in on_1_july["values"]}["59"] == "expired"
    options = (
        await client.get(f"/v1/codelists/fravaer/options?version={before}&at=2025-06-30")
    ).json()
    assert "59" in {o["code"] for o in options["options"]}


async def test_options_in_danish_alphabetical_order(client: Client) -> None:
    names = [
        o["name"]
        for o in (
            await client.get("/v1/codelists/kontaktgruppe/options?version=2&at=2025-06-30")
        ).json()["options"]
    ]
    assert names == [
        "Dagpengemodtager",
        "Jobafklaring",
        "Jobparat kontanthjælpsmodtager",
        "Overgangsydelsesmodtager efter INL (udgår 1.7.2025)",
        "Overgangsydelsesmodtager efter LAB (udgår 1.7.2025)",
        "Sygedagpengemodtager",
        "Uddannelsespålæg - Overgangsydelsesmodtager efter LAB (udgår 1.7.2025)",
    ]


async def test_include_shows_a_stored_value_that_is_not_selectable(client: Client) -> None:
    body = (await client.get("/v1/codelists/fravaer/options?include=59,404")).json()
    options = {o["code"]: o for o in body["options"]}
    assert options["59"] == {
        "code": "59",
        "name": "6 måneders bonus for danskkundskaber",
        "selectable": False,
    }
    assert "404" not in options
    assert [o["code"] for o in body["options"]][-1] == "59"  # ordered like the others


async def test_q_filters_by_code_or_name_case_insensitively(client: Client) -> None:
    by_name = (await client.get("/v1/codelists/fravaer/options?q=BARSEL")).json()["options"]
    assert [o["code"] for o in by_name] == ["4", "8"]
    by_code = (await client.get("/v1/codelists/fravaer/options?q=11")).json()["options"]
    assert [o["code"] for o in by_code] == ["11"]


async def test_value_with_history_oldest_first(client: Client) -> None:
    body = (await client.get("/v1/codelists/fravaer/values/59")).json()
    assert body["code"] == "59"
    assert body["state"] == "deactivated"
    assert [(h["version"], h["valid_to"], h["active"]) for h in body["history"]] == [
        (1, None, True),
        (2, "2025-07-01", True),
        (3, "2025-07-01", False),
    ]
    assert body["history"][2]["changeset"] == "2025-4-kontanthjaelpsreform"
    assert set(body["history"][0]) == {
        "version",
        "changeset",
        "published_at",
        "name",
        "valid_from",
        "valid_to",
        "active",
    }
    old = (await client.get("/v1/codelists/fravaer/values/59?version=1")).json()
    assert len(old["history"]) == 1


async def test_unknown_code_is_404(client: Client) -> None:
    response = await client.get("/v1/codelists/fravaer/values/4242")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "valid", "state"),
    [
        ("code=1", True, "selectable"),
        ("code=59", False, "deactivated"),
        ("code=59&at=2025-06-30&version=2", True, "selectable"),
        ("code=59&at=2025-07-01&version=2", False, "expired"),
        ("code=1&at=2013-12-31", False, "not_yet_valid"),
        ("code=4242", False, "unknown"),
    ],
)
async def test_validate(client: Client, query: str, valid: bool, state: str) -> None:
    response = await client.get(f"/v1/codelists/fravaer/validate?{query}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"key", "code", "at", "valid", "state", "name", "replaced_by", "message"}
    assert (body["valid"], body["state"]) == (valid, state)
    assert body["message"].endswith(".")
    assert (body["name"] is None) == (state == "unknown")


async def test_validate_needs_a_code(client: Client) -> None:
    response = await client.get("/v1/codelists/fravaer/validate")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "code"


async def test_batch_validate_in_order_with_unknown_list(client: Client) -> None:
    items = [
        {"list": "fravaer", "code": "1"},
        {"list": "kontaktgruppe", "code": "26", "at": "2025-06-30"},
        {"list": "nope", "code": "1"},
        {"list": "fravaer", "code": "59"},
    ]
    response = await client.post("/v1/validate", json={"items": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["key"], r["state"], r["valid"]) for r in results] == [
        ("fravaer", "selectable", True),
        ("kontaktgruppe", "deactivated", False),
        ("nope", "unknown_list", False),
        ("fravaer", "deactivated", False),
    ]
    assert results[1]["at"] == "2025-06-30"


async def test_batch_validate_takes_at_and_version_from_the_query_as_defaults(
    client: Client,
) -> None:
    items = [
        {"list": "fravaer", "code": "59"},  # the query's version 2 on the query's 2025-06-30
        {"list": "fravaer", "code": "59", "at": "2025-07-01"},  # own date
        {"list": "fravaer", "code": "59", "version": 3},  # own version: deactivated
        {"list": "fravaer", "code": "59", "version": 99},
        {"list": "nope", "code": "1", "version": 99},
        {"list": "fravaer", "code": "59", "at": "2025-06-30", "version": 1},
    ]
    response = await client.post("/v1/validate?at=2025-06-30&version=2", json={"items": items})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["state"], r["valid"], r["at"]) for r in results] == [
        ("selectable", True, "2025-06-30"),
        ("expired", False, "2025-07-01"),
        ("deactivated", False, "2025-06-30"),
        ("unknown_version", False, "2025-06-30"),
        ("unknown_list", False, "2025-06-30"),
        ("selectable", True, "2025-06-30"),
    ]
    assert "99" in results[3]["message"]
    # Without the query: today and the latest version.
    plain = await client.post("/v1/validate", json={"items": items[:1]})
    assert plain.json()["results"][0]["state"] == "deactivated"
    # A version no list has, as the default: every item says so.
    unknown = await client.post("/v1/validate?version=4", json={"items": items[:1]})
    assert unknown.json()["results"][0]["state"] == "unknown_version"


async def test_batch_validate_refuses_bad_query_and_item_versions(client: Client) -> None:
    for query in ("version=0", "version=x", "at=2025-02-30", "list=fravaer"):
        response = await client.post(
            f"/v1/validate?{query}", json={"items": [{"list": "fravaer", "code": "1"}]}
        )
        assert response.status_code == 400, query
        assert response.headers["content-type"] == "application/problem+json"
    response = await client.post(
        "/v1/validate", json={"items": [{"list": "fravaer", "code": "1", "version": 0}]}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "items[0].version"


async def test_batch_validate_rejects_bad_bodies_with_paths(client: Client) -> None:
    too_many = {"items": [{"list": "fravaer", "code": "1"}] * 1001}
    for body, path in [
        (too_many, "items"),
        ({"items": [{"list": "fravaer", "code": "1", "at": "2025-13-01"}]}, "items[0].at"),
        ({"items": [{"list": "fravaer"}]}, "items[0].code"),
        ({"things": []}, "things"),
    ]:
        response = await client.post("/v1/validate", json=body)
        assert response.status_code == 400, body
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["path"] == path
    assert (await client.post("/v1/validate", content=b"{not json")).status_code == 400


async def test_versions_oldest_first(client: Client) -> None:
    versions = (await client.get("/v1/codelists/fravaer/versions")).json()["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[2]["changeset"] == "2025-4-kontanthjaelpsreform"
    assert versions[2]["reason"].startswith("Kodelisteværdier sat inaktive")
    assert (versions[2]["added"], versions[2]["changed"], versions[2]["deactivated"]) == (0, 0, 3)
    assert versions[1]["changed"] == 3


async def test_diff_between_versions(client: Client) -> None:
    body = (await client.get("/v1/codelists/fravaer/diff?from=2&to=3")).json()
    assert (body["from"], body["to"], body["added"]) == (2, 3, [])
    assert body["changed"] == [
        {"code": code, "fields": {"active": {"from": True, "to": False}}}
        for code in ["59", "60", "62"]
    ]
    default = (await client.get("/v1/codelists/fravaer/diff")).json()
    assert (default["from"], default["to"]) == (2, 3)


async def test_a_diff_names_only_versions_that_exist(client: Client) -> None:
    """api.md: a ``from`` that does not exist is refused, 0 included; the default ``from`` of
    the first version is that version itself, not a version 0."""
    refused = await client.get("/v1/codelists/fravaer/diff?from=0&to=2")
    assert refused.status_code == 400
    assert [e["path"] for e in refused.json()["errors"]] == ["from"]
    first = (await client.get("/v1/codelists/fravaer/diff?to=1")).json()
    assert (first["from"], first["to"], first["added"], first["changed"]) == (1, 1, [], [])


@pytest.mark.parametrize(
    ("path", "status", "error_path"),
    [
        ("/v1/codelists/nope", 404, None),
        ("/v1/codelists/nope/options", 404, None),
        ("/v1/codelists/nope/validate?code=1", 404, None),
        ("/v1/codelists/fravaer?at=2025-02-30", 400, "at"),
        ("/v1/codelists/fravaer?at=yesterday", 400, "at"),
        ("/v1/codelists/fravaer?version=abc", 400, "version"),
        ("/v1/codelists/fravaer?version=0", 400, "version"),
        ("/v1/codelists/fravaer?version=4", 404, None),
        ("/v1/codelists/fravaer?version=99999999999999999999999", 400, "version"),
        ("/v1/codelists/fravaer/options?version=-1", 400, "version"),
        ("/v1/codelists/fravaer/diff?from=3&to=2", 400, "from"),
        ("/v1/codelists/fravaer/diff?from=0&to=2", 400, "from"),
        ("/v1/codelists/fravaer/diff?from=-1", 400, "from"),
        ("/v1/codelists/fravaer/diff?to=9", 404, None),
        ("/v1/codelists/fravaer/diff?from=x", 400, "from"),
        ("/v1/codelists/fravaer/values/59?version=7", 404, None),
        ("/v1/codelists/fravaer/versions?version=7", 404, None),
    ],
)
async def test_bad_parameters_are_problems_never_500(
    client: Client, path: str, status: int, error_path: str | None
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if error_path is not None:
        assert [e["path"] for e in body["errors"]] == [error_path]


async def test_slettepolitik_has_typed_attributes(client: Client) -> None:
    body = (await client.get("/v1/codelists/slettepolitik")).json()
    assert body["attributes"] == {
        "counted_from": "string",
        "data_area": "string",
        "retention_period": "duration",
    }
    periods = {v["code"]: v["attributes"]["retention_period"] for v in body["values"]}
    assert periods["1"] == "P4Y"
    assert periods["3"] == "P6M"


async def test_index_takes_at_only(client: Client) -> None:
    # api.md "Time and validity": the index takes `at` only; a version is a 400, not ignored.
    response = await client.get("/v1/codelists?version=2")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["path"] for e in response.json()["errors"]] == ["version"]
    assert (await client.get("/v1/codelists?at=2025-06-30")).status_code == 200


async def test_problems_are_not_cached(client: Client) -> None:
    response = await client.get("/v1/codelists/nope")
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
