"""Relations over HTTP on both databases (issue 18): the seed's fravaer_kontaktgruppe read on
dates before, on and after its rows' and values' changes, the dependent drop-down, validation
rules, the matrix, the ConceptMap, caching, and publishing relations through the admin API."""

from __future__ import annotations

import csv
import io

from tests.conftest import AppClient

R = "/v1/relations/fravaer_kontaktgruppe"


async def test_the_index_and_the_relation_with_row_states(client: AppClient) -> None:
    index = (await client.get("/v1/relations")).json()["relations"]
    assert [(r["key"], r["source_list"], r["target_list"], r["qualifier_list"], r["version"])
            for r in index] == [("fravaer_kontaktgruppe", "fravaer", "kontaktgruppe",
                                 "personkategori", 2)]  # fmt: skip
    assert index[0]["row_count"] == 56
    body = (await client.get(R, params={"at": "2025-07-01"})).json()
    rows = {(r["source"], r["target"]): r for r in body["rows"]}
    assert rows[("10", "26")]["state"] == "ended"
    assert rows[("10", "26")]["valid_to"] == "2025-07-01"
    assert rows[("10", "13")]["state"] == "in_effect"
    assert rows[("3", "1")]["qualifiers"] == ["none", "9", "10", "11"]
    before = (await client.get(R, params={"at": "2022-09-30"})).json()
    assert {r["state"] for r in before["rows"]} == {"not_yet_valid"}
    first = (await client.get(R, params={"version": 1, "at": "2025-08-01"})).json()
    assert {r["valid_to"] for r in first["rows"]} == {None}
    assert (await client.get("/v1/relations/nope")).status_code == 404
    assert (await client.get(R, params={"version": 3})).status_code == 404


async def check(client: AppClient, **params: str) -> dict[str, object]:
    response = await client.get(f"{R}/check", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_check_on_dates_before_on_and_after_the_changes(client: AppClient) -> None:
    # Relation version 2 (release 2025-2) reads contact group 26 as 2025-2 left it: valid to
    # 2025-07-01, still active (2025-4 deactivated it later).
    ok = await check(client, source="10", target="26", qualifier="5", at="2025-06-30", version="2")
    assert (ok["allowed"], ok["reasons"]) == (True, [])
    ended = await check(
        client, source="10", target="26", qualifier="5", at="2025-07-01", version="2"
    )
    assert ended["reasons"] == ["row_ended", "target_not_selectable"]
    latest = await check(client, source="10", target="26", qualifier="5", at="2025-06-30")
    assert latest["reasons"] == ["target_not_selectable"]  # deactivated in the latest list
    early = await check(client, source="10", target="13", at="2022-09-30")
    assert early["reasons"] == ["row_not_yet_valid"]
    assert (await check(client, source="10", target="2", qualifier="none", at="2024-01-01"))[
        "reasons"
    ] == ["qualifier_not_allowed"]
    assert (await check(client, source="10", target="2", qualifier="4", at="2024-01-01"))["allowed"]
    missing = await check(client, source="1", target="13", at="2024-01-01")
    assert (missing["allowed"], missing["reasons"], missing["row"]) == (False, ["not_listed"], None)
    # Version 1 of the relation reads the lists as they were then: 26 open-ended.
    old = await check(client, source="10", target="26", at="2025-08-01", version="1")
    assert old["reasons"] == []
    # Today (2026-11-27) 26 is deactivated (2025-4).
    today = await check(client, source="10", target="26")
    assert today["reasons"] == ["row_ended", "target_not_selectable"]
    bad = await client.get(f"{R}/check", params={"source": "10", "target": "13", "qualifier": "99"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "qualifier"
    strict = await client.get(f"{R}/check", params={"source": "10", "target": "13", "x": "1"})
    assert strict.status_code == 400


async def test_reads_are_cached_with_relation_and_list_keys(client: AppClient) -> None:
    first = await client.get(f"{R}/check", params={"source": "10", "target": "13"})
    keys = first.headers["surrogate-key"].split()
    assert {"relation:fravaer_kontaktgruppe", "list:fravaer", "list:kontaktgruppe"} <= set(keys)
    again = await client.get(
        f"{R}/check",
        params={"source": "10", "target": "13"},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    # Before 2025-07-01 the answer changes on that day: max-age runs to it at most.
    assert "max-age" in first.headers["cache-control"]


async def test_options_related_gives_a_dependent_drop_down(client: AppClient) -> None:
    def codes(response: object) -> list[str]:
        return [o["code"] for o in response.json()["options"]]  # type: ignore[attr-defined]

    url = "/v1/codelists/fravaer/options"
    kg1 = await client.get(url, params={"related": "kontaktgruppe:1", "at": "2024-01-01"})
    assert codes(kg1) == ["3", "10"]
    assert all(o["related_allowed"] for o in kg1.json()["options"])
    assert "relation:fravaer_kontaktgruppe" in kg1.headers["surrogate-key"]
    with_q = await client.get(
        url, params={"related": "kontaktgruppe:2", "qualifier": "none", "at": "2024-01-01"}
    )
    assert codes(with_q) == []
    kept = await client.get(
        url, params={"related": "kontaktgruppe:2", "qualifier": "none", "include": "10",
                     "at": "2024-01-01"},
    )  # fmt: skip
    assert kept.json()["options"] == [
        {"code": "10", "name": "Ferie", "selectable": True, "related_allowed": False}
    ]
    reverse = await client.get(
        "/v1/codelists/kontaktgruppe/options",
        params={"related": "fravaer:10", "qualifier": "9", "at": "2024-01-01"},
    )
    assert set(codes(reverse)) == {"1", "6", "13", "24", "25"}
    plain = await client.get(url, params={"at": "2024-01-01"})
    assert "related_allowed" not in plain.json()["options"][0]
    for params, path in (
        ({"related": "nope:1"}, "related"),
        ({"related": "kontaktgruppe:99"}, "related"),
        ({"related": "slettepolitik:1"}, "related"),
        ({"related": "kontaktgruppe"}, "related"),
        ({"related": "kontaktgruppe:1", "relation": "nope"}, "relation"),
        ({"related": "kontaktgruppe:1", "qualifier": "99"}, "qualifier"),
        ({"qualifier": "5"}, "qualifier"),
    ):
        response = await client.get(url, params=params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["path"] == path


async def test_validate_gains_rules(client: AppClient) -> None:
    response = await client.post(
        "/v1/validate",
        json={"items": [
            {"list": "fravaer", "code": "10", "at": "2024-01-01",
             "related": {"kontaktgruppe": "2", "personkategori": "9"}},
            {"list": "fravaer", "code": "10", "at": "2024-01-01",
             "related": {"kontaktgruppe": "2", "personkategori": "5"}},
            {"list": "fravaer", "code": "10", "at": "2024-01-01"},
        ]},
    )  # fmt: skip
    first, second, third = response.json()["results"]
    assert first["valid"] is False
    assert first["rules"] == [
        {"relation": "fravaer_kontaktgruppe", "allowed": False,
         "reasons": ["qualifier_not_allowed"]}
    ]  # fmt: skip
    assert second["valid"] is True
    assert second["rules"][0]["allowed"] is True
    assert "rules" not in third


async def test_matrix_as_json_and_csv(client: AppClient) -> None:
    body = (await client.get(f"{R}/matrix", params={"at": "2025-07-01"})).json()
    sources = [c["code"] for c in body["sources"]]
    targets = [c["code"] for c in body["targets"]]
    assert sources[:3] == ["1", "2", "3"]
    cells = body["cells"]
    assert cells[sources.index("3")][targets.index("1")] == ["none", "9", "10", "11"]
    assert cells[sources.index("3")][targets.index("26")] is None  # ended that day
    assert cells[sources.index("1")][targets.index("1")] is None
    marked = {c["code"]: c["selectable"] for c in body["targets"]}
    assert (marked["26"], marked["13"]) == (False, True)
    response = await client.get(
        f"{R}/matrix", params={"at": "2024-01-01", "format": "csv", "dialect": "excel"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = table[0]
    row3 = next(line for line in table if line[0] == "3")
    assert row3[header.index("1")] == "none 9 10 11"
    assert row3[header.index("26")] == "4 5 8"
    bad = await client.get(f"{R}/matrix", params={"dialect": "excel"})
    assert bad.status_code == 400


async def test_fhir_concept_map(client: AppClient) -> None:
    response = await client.get(f"{R}/fhir", params={"at": "2024-01-01"})
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "ConceptMap"
    group = body["group"][0]
    assert (group["source"], group["target"]) == (
        "urn:codelists:fravaer",
        "urn:codelists:kontaktgruppe",
    )
    element = next(e for e in group["element"] if e["code"] == "3")
    kg1 = [t for t in element["target"] if t["code"] == "1"]
    assert [t.get("dependsOn", [{}])[0].get("value") for t in kg1] == [None, "9", "10", "11"]
    assert {t["equivalence"] for t in kg1} == {"relatedto"}


async def test_publishing_relations_through_the_api(admin: AppClient) -> None:
    document = {
        "id": "rel-1",
        "reason": "test",
        "changes": [
            {"op": "create_relation", "relation": "fk2", "name": "Uden kvalifikator",
             "source_list": "fravaer", "target_list": "tilmeldekategori"},
            {"op": "upsert_rows", "relation": "fk2", "rows": [
                {"source": "1", "target": "1", "valid_from": "2020-01-01"}]},
        ],
    }  # fmt: skip
    invalid = {
        "id": "rel-bad",
        "reason": "test",
        "changes": [
            {"op": "upsert_rows", "relation": "fravaer_kontaktgruppe", "rows": [
                {"source": "10", "target": "13", "valid_from": "2022-01-01"},
                {"source": "10", "target": "13", "valid_from": "2022-01-01"},
                {"source": "10", "target": "1", "qualifiers": ["99"], "valid_from": "2022-01-01"},
            ]},
            {"op": "set_rows", "relation": "fravaer_kontaktgruppe",
             "pairs": [{"source": "1", "target": "1"}], "fields": {"active": False}},
            {"op": "upsert_rows", "relation": "fk2", "rows": [
                {"source": "1", "target": "1", "qualifiers": ["none"], "valid_from": "2020-01-01"}]},
        ],
    }  # fmt: skip
    refused = await admin.post("/v1/admin/changesets", json=invalid)
    assert refused.status_code == 422
    assert [e["path"] for e in refused.json()["errors"]] == [
        "changes[0].rows[1]",
        "changes[0].rows[2].qualifiers[0]",
        "changes[1].pairs[0]",
        "changes[2].relation",
    ]
    published = await admin.post("/v1/admin/changesets?publish=true", json=document)
    assert published.status_code == 201, published.text
    assert published.json()["plan"]["relations"]["fk2"]["added"][0]["source"] == "1"
    allowed = await admin.get("/v1/relations/fk2/check", params={"source": "1", "target": "1"})
    assert allowed.json()["allowed"] is True
    refused_q = await admin.get(
        "/v1/relations/fk2/check", params={"source": "1", "target": "1", "qualifier": "none"}
    )
    assert refused_q.status_code == 400
    # Two relations now join fravaer and kontaktgruppe? No: fk2 joins tilmeldekategori.
    feed = (await admin.get("/v1/changes", params={"relation": "fk2"})).json()["changes"]
    assert [(c["list"], c["code"], c["target"], c["kind"]) for c in feed] == [
        ("fravaer", "1", "1", "created")
    ]
    closing = {
        "id": "rel-2",
        "reason": "test",
        "changes": [
            {"op": "set_rows", "relation": "fk2", "pairs": [{"source": "1", "target": "1"}],
             "fields": {"active": False}},
            {"op": "update_relation", "relation": "fk2", "name": "Nyt navn"},
        ],
    }  # fmt: skip
    second = await admin.post("/v1/admin/changesets?publish=true", json=closing)
    plan = second.json()["plan"]["relations"]["fk2"]
    assert plan["changed"] == [
        {"source": "1", "target": "1", "fields": {"active": {"from": True, "to": False}}}
    ]
    assert plan["relation_fields"] == {"name": {"from": "Uden kvalifikator", "to": "Nyt navn"}}
    now = await admin.get("/v1/relations/fk2/check", params={"source": "1", "target": "1"})
    assert now.json()["reasons"] == ["row_inactive"]
    before = await admin.get(
        "/v1/relations/fk2/check", params={"source": "1", "target": "1", "version": "1"}
    )
    assert before.json()["allowed"] is True
