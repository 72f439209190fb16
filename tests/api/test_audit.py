"""The audit log (api.md "Audit"): every action and refusal, paged by seq, append-only, never a
token; a flood of refusals coalesced; on both databases."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain import storable
from app.store import audit
from app.store.database import create_engine
from app.store.tables import audit_log
from app.workers.denials import DeniedAccessLog
from app.workers.stopping import Stopping
from tests.api.conftest import People, bearer, token
from tests.api.test_admin import rename
from tests.api.test_review import scheduled
from tests.conftest import AppClient, FixedClock

Entry = dict[str, Any]


def moment(at: datetime) -> str:
    """``at`` in the form the audit log answers every time in: RFC 3339 in UTC."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def entries(client: AppClient, headers: dict[str, str]) -> list[Entry]:
    found: list[Entry] = []
    after = 0
    while True:
        page = (
            await client.get(f"/v1/admin/audit?after={after}&limit=1000", headers=headers)
        ).json()
        found += [e for e in page["entries"] if e["actor"] != "seed"]  # the fixture's
        after = page["next_after"]
        if not page["has_more"]:
            return found


async def test_every_review_action_is_recorded_with_its_actor(
    strict: AppClient, people: People, clock: FixedClock
) -> None:
    await strict.post("/v1/admin/changesets", json=rename("r"), headers=people.anna)
    await strict.post("/v1/admin/changesets/r/approve", json={"comment": "OK"}, headers=people.bo)
    await strict.post("/v1/admin/changesets/r/publish", headers=people.anna)
    await strict.post(
        "/v1/admin/changesets",
        json=scheduled(rename("s", "11", "S"), clock, 30),
        headers=people.anna,
    )
    await strict.post("/v1/admin/changesets/s/approve", headers=people.carl)
    await strict.post("/v1/admin/changesets", json=rename("x", "9", "X"), headers=people.anna)
    await strict.post(
        "/v1/admin/changesets/x/reject", json={"comment": "Nej tak"}, headers=people.bo
    )

    log = [e for e in await entries(strict, people.anna) if e["action"] != "access.denied"]
    assert [(e["actor"], e["action"], e["target"]) for e in log] == [
        ("anna", "changeset.submitted", "changeset:r"),
        ("bo", "changeset.approved", "changeset:r"),
        ("anna", "changeset.published", "changeset:r"),
        ("anna", "changeset.submitted", "changeset:s"),
        ("carl", "changeset.approved", "changeset:s"),
        ("carl", "changeset.scheduled", "changeset:s"),
        ("anna", "changeset.submitted", "changeset:x"),
        ("bo", "changeset.rejected", "changeset:x"),
    ]
    assert log[1]["detail"]["comment"] == "OK"
    # A time in the detail has the form of ``at``: RFC 3339 in UTC.
    assert log[5]["detail"]["publish_at"] == moment(clock.now() + timedelta(minutes=30))
    assert log[2]["detail"] == {"versions": {"fravaer": 4}, "seq": 62}
    assert log[7]["detail"]["comment"] == "Nej tak"
    seqs = [e["seq"] for e in log]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(e["at"].endswith("Z") or "+" in e["at"] for e in log)


async def test_refusals_are_recorded_with_method_path_status_and_address(
    strict: AppClient, people: People
) -> None:
    assert (await strict.get("/v1/admin/changesets")).status_code == 401
    assert (
        await strict.post("/v1/admin/changesets", json=rename("t"), headers=people.bo)
    ).status_code == 403
    await strict.post("/v1/admin/changesets", json=rename("own"), headers=people.carl)
    assert (
        await strict.post("/v1/admin/changesets/own/approve", headers=people.carl)
    ).status_code == 403
    denied = [e for e in await entries(strict, people.anna) if e["action"] == "access.denied"]
    assert [
        (e["actor"], e["target"], e["detail"]["method"], e["detail"]["status"]) for e in denied
    ] == [
        ("anonymous", "/v1/admin/changesets", "GET", 401),
        ("bo", "/v1/admin/changesets", "POST", 403),
        ("carl", "/v1/admin/changesets/own/approve", "POST", 403),
    ]
    assert all(e["detail"]["remote_address"] == "127.0.0.1" for e in denied)
    assert all(e["detail"]["path"] == e["target"] for e in denied)


async def test_a_flood_of_refusals_is_counted_not_written_one_by_one(
    strict: AppClient, people: People, seeded: AsyncEngine
) -> None:
    async with seeded.connect() as connection:
        before = await audit.count(connection)
    for _ in range(200):
        assert (await strict.get("/v1/admin/audit", headers=bearer("cl_guess"))).status_code == 401
    async with seeded.connect() as connection:
        assert await audit.count(connection) == before + 1  # the first; the rest are counted
    await strict.services.denials.flush_expired(everything=True)
    denied = [e for e in await entries(strict, people.anna) if e["action"] == "access.denied"]
    assert [e["detail"]["count"] for e in denied] == [1, 199]
    assert {e["target"] for e in denied} == {"/v1/admin/audit"}


async def test_paging_by_seq(strict: AppClient, people: People) -> None:
    for index in range(5):
        await strict.get(f"/v1/admin/nothing-{index}")  # five different refusals
    first = (await strict.get("/v1/admin/audit?limit=2", headers=people.anna)).json()
    assert len(first["entries"]) == 2 and first["has_more"] is True
    assert first["next_after"] == first["entries"][-1]["seq"]
    rest = (
        await strict.get(f"/v1/admin/audit?after={first['next_after']}", headers=people.anna)
    ).json()
    assert rest["has_more"] is False and len(rest["entries"]) >= 3
    assert rest["entries"][0]["seq"] > first["next_after"]
    empty = (await strict.get("/v1/admin/audit?after=999999", headers=people.anna)).json()
    assert empty == {"entries": [], "next_after": 999999, "has_more": False}
    for bad in ("limit=0", "limit=1001", "after=-1", "after=x"):
        assert (await strict.get(f"/v1/admin/audit?{bad}", headers=people.anna)).status_code == 400
    assert (await strict.get("/v1/admin/audit", headers=people.bo)).status_code == 403


async def test_no_token_or_secret_is_ever_in_the_log(
    strict: AppClient, seeded: AsyncEngine, clock: FixedClock, people: People
) -> None:
    secret_token = await token(seeded, clock, "dora", "read")
    await strict.get("/v1/admin/changesets", headers=bearer(secret_token))  # 403
    await strict.get("/v1/admin/changesets", headers=bearer(secret_token + "x"))  # 401
    await strict.get(f"/v1/admin/changesets?token={secret_token}")  # 401, token in the query
    subscription = await strict.post(
        "/v1/admin/subscriptions",
        json={"url": "https://93.184.215.14/hook?key=hemmelig"},
        headers=people.anna,
    )
    log = await entries(strict, people.anna)
    text = msgspec.json.encode(log).decode()
    for secret in (
        secret_token,
        "hemmelig",
        *[h.split()[1] for h in vars(people).values() if isinstance(h, dict) for h in h.values()],
    ):
        assert secret not in text
    if subscription.status_code == 201:
        assert subscription.json()["secret"] not in text
        assert any(e["action"] == "subscription.created" for e in log)


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
async def test_the_table_refuses_update_and_delete(
    strict: AppClient, seeded: AsyncEngine, statement: str
) -> None:
    await strict.get("/v1/admin/changesets")  # one more entry
    async with seeded.connect() as connection:
        before = (await connection.execute(sa.select(audit_log))).all()
    with pytest.raises(DBAPIError, match="append-only"):
        async with seeded.begin() as connection:
            await connection.execute(sa.text(statement))
    async with seeded.connect() as connection:
        assert (await connection.execute(sa.select(audit_log))).all() == before
    if seeded.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            async with seeded.begin() as connection:
                await connection.execute(sa.text("TRUNCATE audit_log"))


async def test_entries_are_ordered_like_time(
    strict: AppClient, people: People, clock: FixedClock
) -> None:
    for _ in range(3):
        clock.moment += timedelta(seconds=1)
        await strict.get("/v1/admin/x")
    log = await entries(strict, people.anna)
    assert [e["at"] for e in log] == sorted(e["at"] for e in log)


async def test_at_never_decreases_along_seq_with_coalesced_entries(
    strict: AppClient, people: People, clock: FixedClock
) -> None:
    """api.md: "the audit log, oldest first". Repeated refusals are counted and written when
    their minute is over; that entry is dated when it is written, and says when the refusals it
    counts were made (first_at, last_at) in the form of ``at``."""
    first = clock.now()
    for _ in range(3):
        await strict.get("/v1/admin/changesets")  # one entry now, two counted
        clock.moment += timedelta(seconds=1)
    last = clock.now() - timedelta(seconds=1)
    clock.moment += timedelta(seconds=30)
    await strict.post("/v1/admin/changesets", json=rename("between"), headers=people.anna)
    clock.moment += timedelta(seconds=60)
    flushed_at = clock.now()
    await strict.services.denials.flush_expired(everything=True)

    log = await entries(strict, people.anna)
    coalesced = [e for e in log if e["action"] == "access.denied" and e["detail"]["count"] == 2]
    assert len(coalesced) == 1
    assert coalesced[0]["at"] == moment(flushed_at)
    assert (coalesced[0]["detail"]["first_at"], coalesced[0]["detail"]["last_at"]) == (
        moment(first + timedelta(seconds=1)),
        moment(last),
    )
    assert [e["at"] for e in log] == sorted(e["at"] for e in log)  # in seq order already
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)


async def test_an_entry_is_never_dated_before_the_one_before_it(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    """Two actions whose times were taken in one order may be written in the other (a request
    waits for a lock, processes' clocks differ): the later entry takes the earlier's time."""
    later, earlier = clock.now(), clock.now() - timedelta(seconds=5)
    for at in (later, earlier):
        async with seeded.begin() as connection:
            await audit.append(connection, actor="t", action="token.created", target="x", now=at)
    async with seeded.connect() as connection:
        log, _ = await audit.page(connection, after=0, limit=1000)
    assert [e.at for e in log[-2:]] == [later, later]


async def test_a_refused_path_holding_a_nul_is_audited(strict: AppClient, people: People) -> None:
    """Issue 21, item 4: on PostgreSQL the insert failed on the NUL and the entry was dropped,
    so token guessing through such paths left no trace."""
    for path in ("/v1/admin/changesets/probe%00", "/v1/admin/changesets/p%00%5Cx00"):
        response = await strict.get(path, headers=bearer("cl_wrong"))
        assert response.status_code == 401
    denied = [e for e in await entries(strict, people.anna) if e["action"] == "access.denied"]
    assert [(e["target"], e["detail"]["path"]) for e in denied] == [
        ("/v1/admin/changesets/probe\\x00",) * 2,
        # A backslash that would read as an escape is doubled: the path is kept exactly.
        ("/v1/admin/changesets/p\\x00\\\\x00",) * 2,
    ]
    assert [storable.original(e["target"]) for e in denied] == [
        "/v1/admin/changesets/probe\x00",
        "/v1/admin/changesets/p\x00\\x00",
    ]


async def test_every_text_of_an_entry_is_kept_whatever_it_holds(seeded: AsyncEngine) -> None:
    """What a database refuses (U+0000, lone surrogates as percent-decoding may leave them for
    bytes that are not UTF-8), in any string of any entry, is stored escaped and read back."""
    texts = ["nul\x00", "surrogate\udc80\ud800", "back\\slash \\x00 C:\\temp", "plain æøå"]
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    async with seeded.begin() as connection:
        for text in texts:
            await audit.append(
                connection,
                actor=text,
                action="access.denied",
                target=text,
                now=now,
                detail={"path": text, text: [text]},
            )
    async with seeded.connect() as connection:
        found, _ = await audit.page(connection, after=0, limit=1000)
    kept = [e for e in found if e.action == "access.denied"]
    assert [storable.original(e.actor) for e in kept] == texts
    assert [storable.original(e.target) for e in kept] == texts
    for entry in kept:
        assert entry.detail == {entry.target: [entry.target], "path": entry.target}
        msgspec.json.encode(entry)  # answerable as JSON
    assert kept[3].target == "plain æøå"  # nothing to escape: unchanged


def _metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_a_refusal_the_database_does_not_take_is_retried_not_dropped(
    database_url: str, seeded: AsyncEngine, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """While the database is down an entry waits (counted in /metrics); once it is back the
    entry is written, dated by when the refusal was made."""
    down_url = (
        "sqlite+aiosqlite:////nonexistent-directory/codelists.db"
        if database_url.startswith("sqlite")
        else "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    )
    down = create_engine(down_url)
    denials = DeniedAccessLog(down, clock)
    failures = _metric("codelists_audit_write_failures_total")
    try:
        await denials.record(
            method="GET", path="/v1/admin/audit\x00", status=401, address="192.0.2.1"
        )
        await denials.record(method="POST", path="/v1/admin/changesets", status=403, address="x")
        assert _metric("codelists_audit_write_failures_total") == failures + 1
        assert _metric("codelists_audit_entries_unwritten") >= 2
        assert await denials.write_unwritten() == 0  # still down
        assert _metric("codelists_audit_write_failures_total") == failures + 2
    finally:
        await down.dispose()
    denials.engine = seeded  # the database is back
    assert await denials.write_unwritten() == 2
    async with seeded.connect() as connection:
        found, _ = await audit.page(connection, after=0, limit=1000)
    denied = [e for e in found if e.action == "access.denied"]
    assert [(e.target, e.detail["status"], e.detail["count"]) for e in denied] == [
        ("/v1/admin/audit\\x00", 401, 1),
        ("/v1/admin/changesets", 403, 1),
    ]
    assert denied[0].detail["first_at"] == moment(clock.now())


async def test_entries_given_up_on_are_counted_and_logged(
    clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry still unwritten when the process stops is lost: counted and logged, never
    silently."""
    down = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    denials = DeniedAccessLog(down, clock)
    lost = _metric("codelists_audit_entries_lost_total")
    stopping = Stopping()
    try:
        await denials.record(method="GET", path="/v1/admin/x", status=401, address="192.0.2.9")
        stopping.request()
        with caplog.at_level(logging.ERROR):
            await denials.run(stopping, every=0.01)
    finally:
        await down.dispose()
    assert _metric("codelists_audit_entries_lost_total") == lost + 1
    assert any(
        "lost (the process stopped)" in r.getMessage() and "/v1/admin/x" in r.getMessage()
        for r in caplog.records
    )
