"""Review, approval and scheduling (api.md): statuses, scopes, four eyes, approval bound to the
plan it saw, rejection; on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.conftest import People, bearer, token
from tests.api.test_admin import counts, rename
from tests.conftest import AppClient, FixedClock


def scheduled(document: dict[str, Any], clock: FixedClock, minutes: int) -> dict[str, Any]:
    return {**document, "publish_at": (clock.now() + timedelta(minutes=minutes)).isoformat()}


async def test_four_eyes_with_approval_required(
    strict: AppClient, people: People, seeded: AsyncEngine
) -> None:
    created = await strict.post("/v1/admin/changesets", json=rename("r"), headers=people.anna)
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["author"]) == ("planned", "anna")
    assert body["approved_by"] is None and body["publish_at"] is None and body["failure"] is None

    # Publishing what nobody approved: 409 "needs approval", and nothing is written.
    before = await counts(seeded)
    refused = await strict.post("/v1/admin/changesets/r/publish", headers=people.anna)
    assert refused.status_code == 409
    assert "needs approval" in refused.json()["detail"]
    assert await counts(seeded) == before

    # An admin token cannot approve; the author cannot approve (not even with another token).
    assert (
        await strict.post("/v1/admin/changesets/r/approve", headers=people.anna)
    ).status_code == 403
    author = await strict.post("/v1/admin/changesets", json=rename("c"), headers=people.carl)
    assert author.json()["author"] == "carl"
    own = await strict.post("/v1/admin/changesets/c/approve", headers=people.carl)
    assert own.status_code == 403
    assert "four eyes" in own.json()["detail"]

    approved = await strict.post(
        "/v1/admin/changesets/r/approve", json={"comment": "Ser fint ud"}, headers=people.bo
    )
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("approved", "bo")
    again = await strict.post("/v1/admin/changesets/r/approve", headers=people.carl)
    assert again.status_code == 409  # not planned any more

    # An approve-only token reads change sets but cannot publish.
    assert (await strict.get("/v1/admin/changesets/r", headers=people.bo)).status_code == 200
    assert (
        await strict.post("/v1/admin/changesets/r/publish", headers=people.bo)
    ).status_code == 403
    published = await strict.post("/v1/admin/changesets/r/publish", headers=people.anna)
    assert published.status_code == 200
    assert published.json()["versions"] == {"fravaer": 4}
    detail = (await strict.get("/v1/admin/changesets/r", headers=people.anna)).json()
    assert (detail["status"], detail["approved_by"]) == ("published", "bo")


async def test_publish_true_on_submit_is_409_and_stores_nothing_when_approval_is_required(
    strict: AppClient, people: People, seeded: AsyncEngine
) -> None:
    before = await counts(seeded)
    response = await strict.post(
        "/v1/admin/changesets?publish=true", json=rename("now"), headers=people.anna
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert await counts(seeded) == {**before, "audit_log": before["audit_log"]}
    assert (await strict.get("/v1/admin/changesets/now", headers=people.anna)).status_code == 404


async def test_without_approval_required_admins_publish_and_approving_is_optional(
    lax: AppClient, people: People
) -> None:
    assert (
        await lax.post("/v1/admin/changesets?publish=true", json=rename("x"), headers=people.anna)
    ).json()["status"] == "published"
    await lax.post("/v1/admin/changesets", json=rename("y", "11", "B"), headers=people.anna)
    approved = await lax.post("/v1/admin/changesets/y/approve", headers=people.bo)
    assert approved.json()["status"] == "approved"


async def test_reject_needs_a_comment_and_is_final(
    strict: AppClient, people: People, seeded: AsyncEngine
) -> None:
    await strict.post("/v1/admin/changesets", json=rename("no"), headers=people.anna)
    for body in (None, {}, {"comment": "  "}, {"comment": None}):
        missing = await strict.post("/v1/admin/changesets/no/reject", json=body, headers=people.bo)
        assert missing.status_code == 422, body
        assert missing.json()["errors"][0]["path"] == "comment"
    assert (
        await strict.post(
            "/v1/admin/changesets/no/reject", json={"comment": "nej"}, headers=people.anna
        )
    ).status_code == 403  # scope approve
    rejected = await strict.post(
        "/v1/admin/changesets/no/reject", json={"comment": "Forkert kode"}, headers=people.bo
    )
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    before = await counts(seeded)
    for path in ("publish", "approve"):
        refused = await strict.post(f"/v1/admin/changesets/no/{path}", headers=people.carl)
        assert refused.status_code == 409, path
    # Its id stays taken: the same document answers the rejected one, another is a conflict.
    same = await strict.post("/v1/admin/changesets", json=rename("no"), headers=people.anna)
    assert (same.status_code, same.json()["status"]) == (200, "rejected")
    other = await strict.post(
        "/v1/admin/changesets", json=rename("no", name="Andet"), headers=people.anna
    )
    assert other.status_code == 409
    assert await counts(seeded) == before


async def test_an_approval_holds_for_the_plan_it_saw(strict: AppClient, people: People) -> None:
    # Two change sets on fravaer; "same" renames 10, "moves" renames 11.
    await strict.post("/v1/admin/changesets", json=rename("same", "10", "A"), headers=people.anna)
    await strict.post("/v1/admin/changesets", json=rename("moves", "11", "B"), headers=people.anna)
    await strict.post("/v1/admin/changesets", json=rename("first", "1", "C"), headers=people.anna)
    for changeset_id in ("same", "moves", "first"):
        await strict.post(f"/v1/admin/changesets/{changeset_id}/approve", headers=people.bo)
    assert (
        await strict.post("/v1/admin/changesets/first/publish", headers=people.anna)
    ).status_code == 200
    # A new base version alone keeps the approval...
    assert (
        await strict.post("/v1/admin/changesets/same/publish", headers=people.anna)
    ).status_code == 409
    replanned = await strict.post(
        "/v1/admin/changesets", json=rename("same", "10", "A"), headers=people.anna
    )
    assert replanned.json()["status"] == "approved"
    assert replanned.json()["plan"]["lists"]["fravaer"]["base_version"] == 4
    assert (
        await strict.post("/v1/admin/changesets/same/publish", headers=people.anna)
    ).status_code == 200
    # ...but a re-plan that changes what the plan does (11's "from" is now different) voids it.
    await strict.publish(
        "rename-11",
        {"op": "set", "list": "fravaer", "codes": ["11"], "fields": {"name": "Noget helt andet"}},
    )
    voided = await strict.post(
        "/v1/admin/changesets", json=rename("moves", "11", "B"), headers=people.anna
    )
    assert (voided.json()["status"], voided.json()["approved_by"]) == ("planned", None)
    assert (
        await strict.post("/v1/admin/changesets/moves/publish", headers=people.anna)
    ).status_code == 409
    assert (await strict.post("/v1/admin/changesets/moves/approve", headers=people.bo)).json()[
        "status"
    ] == "approved"


async def test_listing_newest_first_and_by_status(
    lax: AppClient, people: People, clock: FixedClock
) -> None:
    for code, changeset_id in zip(("9", "10", "11"), ("a", "b", "c"), strict=True):
        clock.moment += timedelta(minutes=1)
        document = rename(changeset_id, code, changeset_id.upper())
        await lax.post("/v1/admin/changesets", json=document, headers=people.anna)
    await lax.post("/v1/admin/changesets/b/reject", json={"comment": "nej"}, headers=people.bo)
    listed = (await lax.get("/v1/admin/changesets", headers=people.anna)).json()["changesets"]
    assert [c["id"] for c in listed][:3] == ["c", "b", "a"]
    planned = await lax.get("/v1/admin/changesets?status=planned", headers=people.bo)
    assert [c["id"] for c in planned.json()["changesets"]] == ["c", "a"]
    assert all({"approved_by", "publish_at", "failure"} <= set(c) for c in listed)
    rejected = await lax.get("/v1/admin/changesets?status=rejected", headers=people.anna)
    assert [c["id"] for c in rejected.json()["changesets"]] == ["b"]
    assert (
        await lax.get("/v1/admin/changesets?status=nonsense", headers=people.anna)
    ).status_code == 400


async def test_scopes_nest_and_approve_stands_apart(
    lax: AppClient, seeded: AsyncEngine, clock: FixedClock, people: People
) -> None:
    reader = bearer(await token(seeded, clock, "reader", "read"))
    syncer = bearer(await token(seeded, clock, "syncer", "sync"))
    assert (await lax.get("/v1/admin/changesets", headers=reader)).status_code == 403
    assert (await lax.get("/v1/admin/changesets")).status_code == 401
    assert (await lax.get("/v1/changes", headers=syncer)).status_code == 200
    assert (
        await lax.post("/v1/admin/changesets", json=rename("z"), headers=people.bo)
    ).status_code == 403
    whoami = await lax.get("/v1/admin/whoami", headers=people.carl)
    assert whoami.json() == {"name": "carl", "scopes": ["admin", "approve"]}
    assert (await lax.get("/v1/admin/whoami", headers=reader)).json() == {
        "name": "reader",
        "scopes": ["read"],
    }
    assert (await lax.get("/v1/admin/whoami")).status_code == 401
    assert (await lax.get("/v1/admin/whoami", headers=bearer("cl_not-a-token"))).status_code == 401


async def test_scheduled_on_submit_or_on_approval(
    lax: AppClient, strict: AppClient, people: People, clock: FixedClock
) -> None:
    later = scheduled(rename("later"), clock, 60)
    created = await lax.post("/v1/admin/changesets", json=later, headers=people.anna)
    assert created.json()["status"] == "scheduled"
    assert created.json()["publish_at"].startswith(
        (clock.now() + timedelta(hours=1)).astimezone().strftime("%Y-")
    )
    # An explicit publish publishes a scheduled one at once.
    published = await lax.post("/v1/admin/changesets/later/publish", headers=people.anna)
    assert published.json()["status"] == "published"

    held = scheduled(rename("held", "11", "B"), clock, 60)
    assert (await strict.post("/v1/admin/changesets", json=held, headers=people.anna)).json()[
        "status"
    ] == "planned"
    approved = await strict.post("/v1/admin/changesets/held/approve", headers=people.bo)
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("scheduled", "bo")
    bad = await strict.post(
        "/v1/admin/changesets",
        json={**rename("naive"), "publish_at": "2026-12-01T06:00:00"},
        headers=people.anna,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "publish_at"
