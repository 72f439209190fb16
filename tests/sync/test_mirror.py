"""The reference sync client: export, then the feed, into a local SQLite copy, on both databases.

The copy must equal ``GET /v1/export`` value for value after every run, whatever was published
in between and however the run was interrupted.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncEngine

import app.mirror.client as mirror_module
import app.mirror.local_copy as local_copy_module
from app.cli.main import main
from app.mirror.client import MirrorError, Retry, local_path, mirror
from app.mirror.local_copy import read_copy
from tests.conftest import AppClient, FixedClock, app_client

NO_DELAY = Retry(attempts=3, first_delay=0)

# Creates, updates, a deactivation and a reactivation, a new list with typed attributes, and
# publishes that change only list metadata (which the feed does not carry).
MORE: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "more-1",
        [
            {
                "op": "upsert",
                "list": "fravaer",
                "values": [
                    {"code": "90", "name": "Ny fraværsårsag", "valid_from": "2026-12-01"},
                    {"code": "91", "name": "Endnu en", "valid_from": "2026-12-01"},
                ],
            },
            {
                "op": "set",
                "list": "kontaktgruppe",
                "codes": ["1"],
                "fields": {"name": "Dagpengemodtager (ny)"},
            },
        ],
    ),
    (
        "more-2",
        [
            {"op": "set", "list": "fravaer", "codes": ["10"], "fields": {"active": False}},
            {"op": "set", "list": "fravaer", "codes": ["59"], "fields": {"active": True}},
            {
                "op": "set",
                "list": "kontaktgruppe",
                "codes": ["2"],
                "fields": {"valid_to": "2027-01-01"},
            },
        ],
    ),
    (
        "more-3",
        [
            {
                "op": "create_list",
                "list": "arbejdstid",
                "name": "Arbejdstid",
                "description": "Testliste",
                "source": "Illustrativ",
                "attributes": {"hours": "integer", "since": "date"},
            },
            {
                "op": "upsert",
                "list": "arbejdstid",
                "values": [
                    {
                        "code": "F",
                        "name": "Fuld tid",
                        "valid_from": "2026-01-01",
                        "attributes": {"hours": 37, "since": "2020-01-01"},
                    },
                    {
                        "code": "D",
                        "name": "Deltid",
                        "valid_from": "2026-01-01",
                        "sort_order": 2,
                        "replaced_by": ["F"],
                        "attributes": {"hours": 20},
                    },
                ],
            },
            {"op": "set", "list": "fravaer", "codes": ["90"], "fields": {"description": "Ændret"}},
        ],
    ),
    (
        "more-4",
        [
            {"op": "update_list", "list": "fravaer", "name": "Fraværsårsager (omdøbt)"},
            {"op": "create_list", "list": "tom", "name": "Tom liste"},
        ],
    ),
]


def normalised(export: dict[str, Any]) -> dict[str, Any]:
    """Lists by key, values by code (the export orders codes by the database's collation)."""
    lists = [
        {**item, "values": sorted(item["values"], key=lambda value: value["code"])}
        for item in export["codelists"]
    ]
    return {"seq": export["seq"], "codelists": sorted(lists, key=lambda item: item["key"])}


async def export_of(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/v1/export")
    assert response.status_code == 200
    return normalised(response.json())


async def assert_copy_equals_export(client: httpx.AsyncClient, copy: Path) -> None:
    expected, actual = await export_of(client), read_copy(copy)
    assert actual["seq"] == expected["seq"]
    assert [item["key"] for item in actual["codelists"]] == [
        item["key"] for item in expected["codelists"]
    ]
    for mine, theirs in zip(actual["codelists"], expected["codelists"], strict=True):
        assert {k: v for k, v in mine.items() if k != "values"} == {
            k: v for k, v in theirs.items() if k != "values"
        }
        assert mine["values"] == theirs["values"], mine["key"]
    assert actual == expected


def dump(copy: Path) -> list[str]:
    with closing(sqlite3.connect(copy)) as db:
        return list(db.iterdump())


def history_rows(copy: Path) -> int:
    with closing(sqlite3.connect(copy)) as db:
        return int(db.execute("SELECT count(*) FROM value_history").fetchone()[0])


async def publish_more(
    client: AppClient, changesets: list[tuple[str, list[dict[str, Any]]]]
) -> None:
    for changeset_id, changes in changesets:
        await client.publish(changeset_id, *changes)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    return tmp_path / "copy.db"


async def test_first_run_copies_the_export_then_follows_the_feed(
    seeded: AsyncEngine, clock: FixedClock, copy: Path
) -> None:
    async with app_client(seeded, clock) as client:
        first = await mirror(client, copy, once=True)
        assert first.exported
        assert (first.cursor, first.applied) == (61, 0)
        await assert_copy_equals_export(client, copy)

        await publish_more(client, MORE[:2])
        second = await mirror(client, copy, once=True, limit=2)  # restarts from its cursor
        assert not second.exported
        assert second.applied == 2 + 1 + 3
        assert second.pages >= 3
        await assert_copy_equals_export(client, copy)

        await publish_more(client, MORE[2:])
        third = await mirror(client, copy, once=True)
        assert third.applied == 3
        await assert_copy_equals_export(client, copy)
        lists = {item["key"]: item for item in read_copy(copy)["codelists"]}
        assert lists["fravaer"]["name"] == "Fraværsårsager (omdøbt)"  # a metadata-only version
        assert lists["fravaer"]["version"] == 7
        assert (lists["tom"]["version"], lists["tom"]["values"]) == (1, [])
        assert lists["arbejdstid"]["attributes"] == {"hours": "integer", "since": "date"}
        value_59 = next(v for v in lists["fravaer"]["values"] if v["code"] == "59")
        assert [h["active"] for h in value_59["history"]] == [True, True, False, True]


async def test_a_run_with_nothing_new_changes_nothing(
    seeded: AsyncEngine, clock: FixedClock, copy: Path
) -> None:
    async with app_client(seeded, clock) as client:
        await mirror(client, copy, once=True)
        await publish_more(client, MORE)
        await mirror(client, copy, once=True)
        before = dump(copy)
        again = await mirror(client, copy, once=True)
        assert (again.exported, again.applied, again.lists_refreshed) == (False, 0, 0)
        assert dump(copy) == before
        await assert_copy_equals_export(client, copy)


async def test_a_failed_request_leaves_the_copy_at_a_page_boundary(
    seeded: AsyncEngine, clock: FixedClock, copy: Path
) -> None:
    async with app_client(seeded, clock) as client:
        await mirror(client, copy, once=True)
        start_rows = history_rows(copy)
        await publish_more(client, MORE)

        feed_requests = 0

        async def fail_on_second_page(request: httpx.Request) -> None:
            nonlocal feed_requests
            if request.url.path == "/v1/changes":
                feed_requests += 1
                if feed_requests == 2:
                    raise RuntimeError("the process dies here")

        client.event_hooks["request"].append(fail_on_second_page)
        with pytest.raises(RuntimeError, match="dies"):
            await mirror(client, copy, once=True, limit=3)
        client.event_hooks["request"].clear()

        stopped = read_copy(copy)
        assert stopped["seq"] == 61 + 3  # the first page, and nothing of the second
        assert history_rows(copy) == start_rows + 3  # one history row per applied entry

        resumed = await mirror(client, copy, once=True, limit=3)
        assert resumed.applied == 9 - 3
        await assert_copy_equals_export(client, copy)


async def test_a_crash_while_writing_a_page_rolls_the_whole_page_back(
    seeded: AsyncEngine, clock: FixedClock, copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app_client(seeded, clock) as client:
        await mirror(client, copy, once=True)
        await publish_more(client, MORE)
        before = dump(copy)

        real_apply = local_copy_module._apply_change
        calls = 0

        def crash_on_third(db: sqlite3.Connection, change: dict[str, Any]) -> None:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise KeyboardInterrupt  # Ctrl-C in the middle of a page
            real_apply(db, change)

        monkeypatch.setattr(local_copy_module, "_apply_change", crash_on_third)
        with pytest.raises(KeyboardInterrupt):
            await mirror(client, copy, once=True)
        assert calls == 3
        assert dump(copy) == before  # two entries were written, and rolled back

        monkeypatch.setattr(local_copy_module, "_apply_change", real_apply)
        assert (await mirror(client, copy, once=True)).applied == 9
        await assert_copy_equals_export(client, copy)


async def test_following_long_polls_and_stops_cleanly_when_cancelled(
    seeded: AsyncEngine, clock: FixedClock, copy: Path
) -> None:
    async with app_client(seeded, clock) as client:
        progress = asyncio.Event()  # set by every line the mirror logs, after its commit

        def note(_: str) -> None:
            progress.set()

        async def until(condition: Callable[[], bool]) -> None:
            while not condition():
                await asyncio.wait_for(progress.wait(), timeout=10)
                progress.clear()

        def cursor_at(seq: int) -> Callable[[], bool]:
            return lambda: copy.exists() and read_copy(copy)["seq"] >= seq

        follower = asyncio.create_task(mirror(client, copy, once=False, wait=2, log=note))
        await until(cursor_at(61))
        await publish_more(client, MORE[:1])
        await until(cursor_at(64))
        await publish_more(client, MORE[1:])
        await until(cursor_at(70))
        await until(lambda: "tom" in {item["key"] for item in read_copy(copy)["codelists"]})
        follower.cancel()
        with pytest.raises(asyncio.CancelledError):
            await follower
        await assert_copy_equals_export(client, copy)


async def test_a_copy_of_one_service_refuses_another(
    seeded: AsyncEngine, clock: FixedClock, copy: Path
) -> None:
    async with app_client(seeded, clock) as client:
        await mirror(client, copy, once=True)
        transport = httpx.MockTransport(lambda request: httpx.Response(500))
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as other:
            with pytest.raises(MirrorError, match="is a copy of http://testserver"):
                await mirror(other, copy, once=True)


# HTTP failures, against a stand-in service ---------------------------------------------------

EMPTY_EXPORT = {"seq": 0, "codelists": []}
CAUGHT_UP = {"changes": [], "next_after": 0, "has_more": False}


def stand_in(answers: Iterator[httpx.Response]) -> httpx.AsyncClient:
    """A client whose export answers come from ``answers``; the feed and index are empty."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/export":
            return next(answers)
        if request.url.path == "/v1/changes":
            return httpx.Response(200, json=CAUGHT_UP)
        return httpx.Response(200, json={"codelists": []})

    return httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://stand-in")


async def test_transient_failures_are_retried(copy: Path) -> None:
    answers = iter(
        [
            httpx.Response(503, headers={"Retry-After": "0"}),
            httpx.Response(429),
            httpx.Response(200, json=EMPTY_EXPORT),
        ]
    )
    messages: list[str] = []
    async with stand_in(answers) as client:
        result = await mirror(client, copy, once=True, retry=NO_DELAY, log=messages.append)
    assert result.exported
    assert sum("retrying" in message for message in messages) == 2


async def test_transport_errors_are_retried_until_the_attempts_run_out(copy: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = httpx.MockTransport(refuse)
    async with httpx.AsyncClient(transport=transport, base_url="http://down") as client:
        with pytest.raises(MirrorError, match=r"ConnectError.*gave up after 3 attempts"):
            await mirror(client, copy, once=True, retry=NO_DELAY)


async def test_other_errors_stop_at_once_with_the_services_reason(copy: Path) -> None:
    problem = {"status": 401, "title": "Unauthorized", "detail": "A bearer token is required."}
    answers = iter([httpx.Response(401, json=problem)])
    async with stand_in(answers) as client:
        with pytest.raises(MirrorError, match=r"answered 401 Unauthorized: A bearer token"):
            await mirror(client, copy, once=True, retry=NO_DELAY)
    assert read_copy(copy) == EMPTY_EXPORT  # nothing stored, a later run starts afresh


@pytest.mark.parametrize(
    ("into", "path"),
    [
        ("sqlite:///copy.db", Path("copy.db")),
        ("sqlite:///data/copy.db", Path("data/copy.db")),
        ("sqlite:////abs/copy.db", Path("/abs/copy.db")),
        ("sqlite+pysqlite:////abs/copy.db", Path("/abs/copy.db")),
        ("copy.db", Path("copy.db")),
    ],
)
def test_into_accepts_sqlite_urls_and_paths(into: str, path: Path) -> None:
    assert local_path(into) == path


@pytest.mark.parametrize("into", ["postgresql://x/y", "sqlite://", "sqlite:///:memory:"])
def test_into_refuses_anything_but_a_file(into: str) -> None:
    with pytest.raises(MirrorError):
        local_path(into)


# The command line ----------------------------------------------------------------------------


def bridged(app: AppClient, loop: asyncio.AbstractEventLoop) -> httpx.AsyncBaseTransport:
    """A transport for a client on another thread's loop, handing requests to the app's loop."""

    class Bridge(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            body = await request.aread()

            async def forward() -> httpx.Response:
                return await app.request(
                    request.method, str(request.url), headers=request.headers, content=body
                )

            answer = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(forward(), loop))
            headers = [
                (name, value)
                for name, value in answer.headers.items()
                if name not in {"content-encoding", "content-length", "transfer-encoding"}
            ]
            return httpx.Response(answer.status_code, headers=headers, content=answer.content)

    return Bridge()


async def test_the_mirror_command(
    seeded: AsyncEngine,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with app_client(seeded, clock) as client:
        loop = asyncio.get_running_loop()

        def make_client(source: str, token: str | None) -> httpx.AsyncClient:
            assert token == "t0k"
            return httpx.AsyncClient(base_url=source, transport=bridged(client, loop))

        monkeypatch.setattr(mirror_module, "make_client", make_client)
        monkeypatch.chdir(tmp_path)

        def invoke(source: str, into: str = "sqlite:///copy.db") -> Any:
            arguments = ["mirror", "--token", "t0k", "--source", source, "--into", into, "--once"]
            return CliRunner().invoke(main, arguments)

        result = await asyncio.to_thread(invoke, "http://testserver")
        assert result.exit_code == 0, result.output
        assert "copy.db is at seq 61" in result.stdout
        assert "copied 4 lists" in result.stderr
        await assert_copy_equals_export(client, tmp_path / "copy.db")

        await publish_more(client, MORE[:1])
        result = await asyncio.to_thread(invoke, "http://testserver")
        assert (result.exit_code, result.stdout.strip()) == (
            0,
            "copy.db is at seq 64 (3 changes applied)",
        )

        result = await asyncio.to_thread(invoke, "http://testserver/nope")
        assert result.exit_code == 1
        assert "Error:" in result.stderr
        assert "is a copy of http://testserver, not of http://testserver/nope" in result.stderr
        result = await asyncio.to_thread(
            invoke, "http://testserver/nope", f"sqlite:///{tmp_path}/new.db"
        )
        assert result.exit_code == 1
        assert "GET http://testserver/nope/v1/export answered 404 Not Found" in result.stderr
