"""The admin API of api.md: submit, plan, publish, list; tokens and scopes; every status code."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.identity import tokens
from app.store.tables import metadata
from tests.conftest import SEED, AppClient, FixedClock, app_client

REFORM_2025_4 = (SEED / "0006-2025-4-kontanthjaelpsreform.yaml").read_bytes()
YAML = {"Content-Type": "application/yaml"}


def rename(
    changeset_id: str, code: str = "10", name: str = "Ferie og fridage"
) -> dict[str, object]:
    return {
        "id": changeset_id,
        "release": "2026-1",
        "reason": "Nyt navn",
        "reference": "test",
        "changes": [{"op": "set", "list": "fravaer", "codes": [code], "fields": {"name": name}}],
    }


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            t.name: int(await connection.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
            for t in metadata.sorted_tables
        }


async def test_submit_plans_then_publish_publishes(admin: AppClient) -> None:
    created = await admin.post("/v1/admin/changesets", json=rename("r1"))
    assert created.status_code == 201
    body = created.json()
    assert (body["id"], body["status"], body["author"]) == ("r1", "planned", "ops")
    plan = body["plan"]["lists"]["fravaer"]
    assert (plan["base_version"], plan["new_version"]) == (3, 4)
    assert plan["changed"] == [
        {
            "code": "10",
            "name": "Ferie og fridage",
            "fields": {"name": {"from": "Ferie", "to": "Ferie og fridage"}},
        }
    ]
    assert plan["added"] == plan["deactivated"] == plan["reactivated"] == []
    # Nothing is visible before publishing.
    assert (await admin.get("/v1/codelists/fravaer")).json()["version"] == 3

    published = await admin.post("/v1/admin/changesets/r1/publish")
    assert published.status_code == 200
    assert published.json() == {
        "id": "r1",
        "status": "published",
        "versions": {"fravaer": 4},
        "seq": 62,
    }
    assert (await admin.get("/v1/codelists/fravaer/values/10")).json()["name"] == "Ferie og fridage"
    again = await admin.post("/v1/admin/changesets/r1/publish")
    assert (again.status_code, again.json()) == (200, published.json())

    detail = (await admin.get("/v1/admin/changesets/r1")).json()
    assert detail["status"] == "published"
    assert detail["published_at"] is not None
    assert (detail["release"], detail["reason"], detail["reference"]) == (
        "2026-1",
        "Nyt navn",
        "test",
    )
    versions = (await admin.get("/v1/codelists/fravaer/versions")).json()["versions"]
    assert versions[-1]["changeset"] == "r1" and versions[-1]["release"] == "2026-1"


async def test_yaml_and_publish_in_one_go(admin: AppClient) -> None:
    document = REFORM_2025_4.replace(b"id: 2025-4-kontanthjaelpsreform", b"id: 2025-4-again")
    document = document.replace(b"active: false", b"active: true")
    response = await admin.post("/v1/admin/changesets?publish=true", content=document, headers=YAML)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "published"
    assert body["versions"] == {"fravaer": 4, "kontaktgruppe": 4, "tilmeldekategori": 4}
    assert [c["code"] for c in body["plan"]["lists"]["fravaer"]["reactivated"]] == [
        "59",
        "60",
        "62",
    ]
    options = (await admin.get("/v1/codelists/fravaer/options?at=2025-06-30")).json()
    assert {"59", "60", "62"} <= {o["code"] for o in options["options"]}


async def test_same_id_same_content_is_200_other_content_409(admin: AppClient) -> None:
    first = await admin.post("/v1/admin/changesets", json=rename("r2"))
    assert first.status_code == 201
    same = await admin.post(
        "/v1/admin/changesets",
        content=json.dumps(rename("r2")).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert same.status_code == 200
    assert same.json()["id"] == "r2"
    as_yaml = (
        b"id: r2\nrelease: '2026-1'\nreason: Nyt navn\nreference: test\nchanges:\n"
        b"  - {op: set, list: fravaer, codes: ['10'], fields: {name: Ferie og fridage}}\n"
    )
    assert (
        await admin.post("/v1/admin/changesets", content=as_yaml, headers=YAML)
    ).status_code == 200
    other = await admin.post("/v1/admin/changesets", json=rename("r2", name="Noget andet"))
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    published = await admin.post("/v1/admin/changesets/r2/publish")
    assert published.status_code == 200
    assert (
        await admin.post("/v1/admin/changesets?publish=true", json=rename("r2"))
    ).status_code == 200
    assert (
        await admin.post("/v1/admin/changesets", json=rename("r2", name="x"))
    ).status_code == 409


async def test_publishing_a_stale_plan_is_409_and_writes_nothing(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    assert (
        await admin.post("/v1/admin/changesets", json=rename("a", "10", "A"))
    ).status_code == 201
    assert (
        await admin.post("/v1/admin/changesets", json=rename("b", "11", "B"))
    ).status_code == 201
    assert (await admin.post("/v1/admin/changesets/b/publish")).status_code == 200
    before = await counts(seeded)
    stale = await admin.post("/v1/admin/changesets/a/publish")
    assert stale.status_code == 409
    assert "fravaer" in stale.json()["detail"]
    assert await counts(seeded) == before
    # Planning again (the same document again) brings the plan up to date; then it publishes.
    replanned = await admin.post("/v1/admin/changesets", json=rename("a", "10", "A"))
    assert replanned.status_code == 200
    assert replanned.json()["plan"]["lists"]["fravaer"]["base_version"] == 4
    assert (await admin.post("/v1/admin/changesets/a/publish")).json()["versions"] == {"fravaer": 5}


async def test_invalid_document_is_422_with_every_error_and_stores_nothing(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    before = await counts(seeded)
    document = {
        "id": "bad",
        "reason": "x",
        "changes": [
            {
                "op": "set",
                "list": "kontaktgruppe",
                "codes": ["26", "28", "27"],
                "fields": {"active": False},
            },
            {"op": "set", "list": "fravaer", "codes": ["59"], "fields": {"valid_to": "2000-01-01"}},
            {
                "op": "upsert",
                "list": "slettepolitik",
                "values": [
                    {
                        "code": "10",
                        "name": "Ny",
                        "valid_from": "2026-01-01",
                        "attributes": {"retention_period": "6 år"},
                    }
                ],
            },
        ],
    }
    response = await admin.post("/v1/admin/changesets?publish=true", json=document)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["title"]) == (422, "Invalid change set")
    assert body["errors"] == [
        {
            "path": "changes[0].codes[2]",
            "message": "code '27' does not exist in list 'kontaktgruppe'",
        },
        {
            "path": "changes[2].values[0].attributes.retention_period",
            "message": "attribute 'retention_period' must be an ISO 8601 duration such as P6Y, P6M or P1Y6M",
        },
        {
            "path": "changes[1].fields.valid_to",
            "message": "valid_to 2000-01-01 of code '59' must be after valid_from 2014-01-01",
        },
    ]
    assert await counts(seeded) == before


async def test_unknown_change_set_is_404(admin: AppClient) -> None:
    assert (await admin.get("/v1/admin/changesets/nope")).status_code == 404
    assert (await admin.post("/v1/admin/changesets/nope/publish")).status_code == 404


async def test_list_newest_first(admin: AppClient, clock: FixedClock) -> None:
    from datetime import timedelta

    for changeset_id in ("first", "second"):
        clock.moment += timedelta(minutes=1)
        await admin.post("/v1/admin/changesets", json=rename(changeset_id, name=changeset_id))
    listed = (await admin.get("/v1/admin/changesets")).json()["changesets"]
    assert [c["id"] for c in listed[:2]] == ["second", "first"]
    assert len(listed) == 8  # the 6 of the seed too
    assert [
        c["id"] for c in (await admin.get("/v1/admin/changesets?limit=1")).json()["changesets"]
    ] == ["second"]


async def test_admin_needs_a_token_with_scope_admin(seeded: AsyncEngine, clock: FixedClock) -> None:
    async with seeded.begin() as connection:
        reader = await tokens.create(
            connection, name="reader", scopes=["read", "sync"], now=clock.now()
        )
    async with app_client(seeded, clock) as client:
        for method, path in [
            ("POST", "/v1/admin/changesets"),
            ("GET", "/v1/admin/changesets"),
            ("GET", "/v1/admin/changesets/x"),
            ("POST", "/v1/admin/changesets/x/publish"),
        ]:
            anonymous = await client.request(method, path, json=rename("x"))
            assert anonymous.status_code == 401, path
            assert anonymous.headers["content-type"] == "application/problem+json"
            wrong = await client.request(
                method, path, json=rename("x"), headers={"Authorization": f"Bearer {reader}"}
            )
            assert wrong.status_code == 403, path
            garbage = await client.request(method, path, headers={"Authorization": "Basic abc"})
            assert garbage.status_code == 401


async def test_unsupported_media_type(admin: AppClient) -> None:
    response = await admin.post(
        "/v1/admin/changesets",
        content=b"id=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


async def test_fhir_code_system(admin: AppClient) -> None:
    response = await admin.get("/v1/codelists/fravaer/fhir?version=2&at=2025-07-01")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    resource = response.json()
    assert resource["resourceType"] == "CodeSystem"
    assert (resource["id"], resource["version"], resource["count"]) == ("fravaer", "2", 13)
    assert {p["code"] for p in resource["property"]} >= {
        "status",
        "inactive",
        "notSelectable",
        "effectiveDate",
    }
    concept = {
        c["code"]: {
            p["code"]: next(v for k, v in p.items() if k.startswith("value")) for p in c["property"]
        }
        for c in resource["concept"]
    }
    assert concept["59"]["status"] == "retired"
    assert concept["59"]["inactive"] is True
    assert concept["59"]["notSelectable"] is True
    assert concept["59"]["retirementDate"] == "2025-07-01"
    assert concept["1"] == {
        "status": "active",
        "inactive": False,
        "notSelectable": False,
        "effectiveDate": "2014-01-01",
    }
    revalidated = await admin.get(
        "/v1/codelists/fravaer/fhir?version=2&at=2025-07-01",
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert revalidated.status_code == 304


async def test_fhir_ids_of_keys_outside_the_fhir_alphabet(admin: AppClient) -> None:
    keys = ["a_b", "a-b", "k" * 64]
    created = await admin.post(
        "/v1/admin/changesets?publish=true",
        json={
            "id": "fhir-ids",
            "reason": "FHIR ids",
            "changes": [{"op": "create_list", "list": key, "name": f"Liste {key}"} for key in keys],
        },
    )
    assert created.status_code == 201, created.text
    resources = [(await admin.get(f"/v1/codelists/{key}/fhir")).json() for key in keys]
    ids = [resource["id"] for resource in resources]
    assert all(re.fullmatch(r"[A-Za-z0-9\-\.]{1,64}", i) for i in ids)
    assert len(set(ids)) == 3
    assert ids[1:] == ["a-b", "k" * 64]
    assert [r["url"] for r in resources] == [f"urn:codelists:{key}" for key in keys]
    assert [r["name"] for r in resources] == ["AB", "AB", "K" + "k" * 63]


async def test_a_201_names_what_it_created_and_a_repeat_names_nothing(admin: AppClient) -> None:
    created = await admin.post("/v1/admin/changesets", json=rename("2026-1.r1"))
    assert created.status_code == 201
    location = created.headers["location"]
    assert location == "/v1/admin/changesets/2026-1.r1"
    assert (await admin.get(location)).json()["id"] == "2026-1.r1"
    again = await admin.post("/v1/admin/changesets", json=rename("2026-1.r1"))
    assert again.status_code == 200 and "location" not in again.headers

    # A public address as a literal: accepted without a name to resolve.
    hook = "https://93.184.215.14/hook"
    subscribed = await admin.post("/v1/admin/subscriptions", json={"url": hook})
    assert subscribed.status_code == 201
    location = subscribed.headers["location"]
    assert location == f"/v1/admin/subscriptions/{subscribed.json()['id']}"
    assert (await admin.delete(location)).status_code == 204


async def test_no_administration_answer_may_be_stored_by_a_cache(admin: AppClient) -> None:
    answers = [
        await admin.get("/v1/admin/whoami"),
        await admin.get("/v1/admin/audit"),
        await admin.get("/v1/admin/changesets"),
        await admin.get("/v1/admin/changesets/2025-4-kontanthjaelpsreform"),
        await admin.get("/v1/admin/subscriptions"),
        await admin.post("/v1/admin/changesets", json=rename("no-store")),
        await admin.post("/v1/admin/subscriptions", json={"url": "https://93.184.215.14/hook"}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert answer.headers["cache-control"] == "no-store", answer.request.url
