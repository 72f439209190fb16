"""Signed webhooks against a real local HTTP receiver that fails at first, then accepts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.destinations import parse_networks
from app.identity import tokens
from app.store.database import create_engine
from app.store.secrets import SecretBox
from app.store.tables import subscription
from app.workers.webhooks import (
    KEY_MISMATCH,
    MAX_DELAY_SECONDS,
    DeliveryPolicy,
    DeliveryWorker,
    retry_delay,
)
from tests.conftest import AppClient, FixedClock, app_client
from tests.servers import free_port

LOOPBACK = parse_networks(["127.0.0.0/8"])  # the receivers of these tests


class Receiver:
    """A webhook receiver on 127.0.0.1 answering 503 to the first ``failures`` requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[int, dict[str, str], bytes]] = []
        self.arrivals: list[float] = []  # time.monotonic() as each request came in
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.arrivals.append(time.monotonic())
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 503 if len(receiver.requests) < receiver.failures else 200
                receiver.requests.append((status, dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def accepted(self) -> list[tuple[dict[str, str], bytes]]:
        return [(headers, body) for status, headers, body in self.requests if status == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=3)
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
async def admin(seeded: AsyncEngine, clock: FixedClock, tmp_path: Any) -> AsyncIterator[AppClient]:
    async with seeded.begin() as connection:
        token = await tokens.create(connection, name="ops", scopes=["admin"], now=clock.now())
    async with app_client(
        seeded,
        clock,
        webhook_retry_seconds=0.05,
        poll_seconds=0.2,
        secret_key="test key",
        webhook_allowed_networks=("127.0.0.0/8",),
    ) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


async def delivered(client: AppClient, subscription_id: str, batches: int) -> list[dict[str, Any]]:
    """The delivery log once ``batches`` deliveries are done (waits up to 20 s)."""
    for _ in range(400):
        log = (await client.get(f"/v1/admin/subscriptions/{subscription_id}/deliveries")).json()
        done = [d for d in log["deliveries"] if d["status"] == "delivered"]
        if len(done) >= batches and len(done) == len(log["deliveries"]):
            return list(log["deliveries"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"not delivered in time: {log}")


def rename(changeset_id: str, code: str, name: str) -> dict[str, Any]:
    return {"op": "set", "list": "fravaer", "codes": [code], "fields": {"name": name}}


async def test_every_change_arrives_signed_in_order_despite_failures(
    admin: AppClient, receiver: Receiver
) -> None:
    created = await admin.post("/v1/admin/subscriptions", json={"url": receiver.url})
    assert created.status_code == 201
    subscription = created.json()
    assert set(subscription) == {"id", "url", "secret", "lists"}
    assert subscription["lists"] is None
    secret = subscription["secret"]

    await admin.publish("w1", rename("w1", "1", "Uddannelse og kurser"))
    await admin.publish(
        "w2",
        {"op": "set", "list": "kontaktgruppe", "codes": ["1", "2"], "fields": {"active": False}},
        rename("w2", "2", "Vikararbejde"),
    )
    await admin.publish("w3", rename("w3", "1", "Uddannelse"))
    log = await delivered(admin, subscription["id"], batches=3)

    assert log[0]["attempts"] == 4  # three 503s, then accepted
    assert log[0]["last_error"] == "HTTP 503"
    assert [d["attempts"] for d in log[1:]] == [1, 1]
    accepted = receiver.accepted()
    assert [headers["X-Codelists-Delivery"] for headers, _ in accepted] == [d["id"] for d in log]
    seqs = []
    for headers, body in accepted:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Codelists-Signature"] == expected
        seqs += [change["seq"] for change in json.loads(body)["changes"]]
    assert seqs == [62, 63, 64, 65, 66]  # every change once, in order
    kinds = [c["kind"] for _, body in accepted for c in json.loads(body)["changes"]]
    assert kinds == ["updated", "updated", "deactivated", "deactivated", "updated"]
    feed = (await admin.get("/v1/changes?after=61")).json()["changes"]
    assert [c for _, body in accepted for c in json.loads(body)["changes"]] == feed


async def test_a_subscription_to_some_lists_gets_only_theirs(
    admin: AppClient, receiver: Receiver
) -> None:
    receiver.failures = 0
    created = await admin.post(
        "/v1/admin/subscriptions", json={"url": receiver.url, "lists": ["kontaktgruppe"]}
    )
    subscription = created.json()
    assert subscription["lists"] == ["kontaktgruppe"]
    await admin.publish("only-fravaer", rename("x", "1", "A"))
    await admin.publish(
        "both",
        rename("y", "1", "B"),
        {"op": "set", "list": "kontaktgruppe", "codes": ["3"], "fields": {"name": "C"}},
    )
    await delivered(admin, subscription["id"], batches=1)
    ((_, body),) = receiver.accepted()
    assert [(c["list"], c["code"]) for c in json.loads(body)["changes"]] == [("kontaktgruppe", "3")]


async def test_subscription_input_is_checked(admin: AppClient) -> None:
    for body, path, status in [
        ({"url": "ftp://example.org/x"}, "url", 422),
        ({"url": "not a url"}, "url", 422),
        ({"url": "http://user:pw@127.0.0.1/x"}, "url", 422),
        ({"url": "http://127.0.0.1/x", "lists": ["nope"]}, "lists[0]", 400),
        ({"url": "http://127.0.0.1/x", "extra": 1}, None, 400),
    ]:
        response = await admin.post("/v1/admin/subscriptions", json=body)
        assert response.status_code == status, body
        assert response.headers["content-type"] == "application/problem+json"
        if path:
            assert response.json()["errors"][0]["path"] == path
    assert (await admin.get("/v1/admin/subscriptions/nope/deliveries")).status_code == 404


async def test_secrets_are_encrypted_at_rest_and_never_listed(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    created = (
        await admin.post("/v1/admin/subscriptions", json={"url": "http://127.0.0.1:9/x"})
    ).json()
    async with seeded.connect() as connection:
        stored = await connection.scalar(sa.select(subscription.c.secret_encrypted))
    assert created["secret"] not in stored
    assert admin.services.secrets.open(stored) == created["secret"]
    listed = (await admin.get("/v1/admin/subscriptions")).json()["subscriptions"]
    assert [s["id"] for s in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert (await admin.delete(f"/v1/admin/subscriptions/{created['id']}")).status_code == 204
    assert (await admin.get("/v1/admin/subscriptions")).json()["subscriptions"] == []


async def test_subscriptions_need_admin(client: AppClient) -> None:
    assert (
        await client.post("/v1/admin/subscriptions", json={"url": "http://x/"})
    ).status_code == 401
    assert (await client.get("/v1/admin/subscriptions/x/deliveries")).status_code == 401


async def test_two_replicas_never_send_the_same_batch_at_once(
    admin: AppClient, database_url: str, receiver: Receiver
) -> None:
    """Two delivery workers on their own engines (as two replicas would be) drain one outbox."""

    receiver.failures = 0
    in_flight = most_at_once = 0
    counting = threading.Lock()
    original = receiver.server.RequestHandlerClass.do_POST  # type: ignore[attr-defined]

    def slow_post(handler: Any) -> None:
        nonlocal in_flight, most_at_once
        with counting:
            in_flight += 1
            most_at_once = max(most_at_once, in_flight)
        threading.Event().wait(0.1)  # a slow receiver: the other worker gets every chance
        original(handler)
        with counting:
            in_flight -= 1

    receiver.server.RequestHandlerClass.do_POST = slow_post  # type: ignore[attr-defined]
    subscription = (await admin.post("/v1/admin/subscriptions", json={"url": receiver.url})).json()
    await admin.services.stop_background_work()  # only the two workers below deliver
    for index in range(6):
        await admin.publish(f"p{index}", rename("p", "1", f"Navn {index}"))

    policy = DeliveryPolicy(retry_seconds=0.05, allowed_networks=LOOPBACK)
    engines = [create_engine(database_url) for _ in range(2)]
    workers = [
        DeliveryWorker(e, admin.services.catalog, admin.services.secrets, policy) for e in engines
    ]

    async def drain(worker: DeliveryWorker) -> int:
        sent = 0
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(200):
                if await worker.deliver_one(http):
                    sent += 1
                else:
                    await asyncio.sleep(0.02)
                    if len(receiver.accepted()) >= 6:
                        return sent
        return sent

    try:
        sent = await asyncio.gather(*(drain(w) for w in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(sent) == 6
    assert most_at_once == 1  # one subscription: one batch in flight at a time
    ids = [headers["X-Codelists-Delivery"] for headers, _ in receiver.accepted()]
    assert len(ids) == len(set(ids)) == 6
    log = (await admin.get(f"/v1/admin/subscriptions/{subscription['id']}/deliveries")).json()
    assert [d["id"] for d in log["deliveries"]] == ids  # in seq order
    assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in log["deliveries"])


def test_retry_delays_double_with_jitter_up_to_ten_minutes() -> None:
    for attempts in range(1, 30):
        step = min(MAX_DELAY_SECONDS, 2.0 * 2 ** (attempts - 1))
        delays = [retry_delay(attempts, 2.0) for _ in range(50)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert retry_delay(100, 2.0) <= MAX_DELAY_SECONDS  # down for an hour: tried every <= 10 min


async def test_two_replicas_keep_the_back_off_of_a_failing_receiver(
    admin: AppClient, database_url: str, receiver: Receiver
) -> None:
    """Every attempt waits at least half its back-off step after the previous one, however
    many workers (replicas) race for the batch."""
    receiver.failures = 10**6  # always 503
    await admin.post("/v1/admin/subscriptions", json={"url": receiver.url})
    await admin.services.stop_background_work()
    await admin.publish("p-back-off", rename("p", "1", "Navn"))
    first = 0.3
    policy = DeliveryPolicy(retry_seconds=first, allowed_networks=LOOPBACK)
    engines = [create_engine(database_url) for _ in range(2)]
    workers = [
        DeliveryWorker(e, admin.services.catalog, admin.services.secrets, policy) for e in engines
    ]
    loop = asyncio.get_running_loop()

    async def race(worker: DeliveryWorker) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            deadline = loop.time() + 2.5
            while loop.time() < deadline:
                if not await worker.deliver_one(http):
                    await asyncio.sleep(0.005)

    try:
        await asyncio.gather(*(race(w) for w in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    # Measured where the attempts arrive: when a worker returned says nothing of when it sent
    # (a worker slowed after sending returns late, and the next attempt seems early).
    arrivals = sorted(receiver.arrivals)
    assert len(arrivals) >= 2
    for number, (earlier, later) in enumerate(itertools.pairwise(arrivals), start=1):
        least = min(MAX_DELAY_SECONDS, first * 2 ** (number - 1)) / 2
        assert later - earlier >= least * 0.9, (number, later - earlier, arrivals)


async def test_internal_receivers_are_refused_without_an_allowed_network(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    async with seeded.begin() as connection:
        token = await tokens.create(connection, name="ops", scopes=["admin"], now=clock.now())
    async with app_client(seeded, clock, secret_key="k") as client:
        client.headers["Authorization"] = f"Bearer {token}"
        for url in ("http://127.0.0.1:9/x", "http://localhost:9/x", "http://0x7f.1/x"):
            response = await client.post("/v1/admin/subscriptions", json={"url": url})
            assert response.status_code == 422, url
            assert response.json()["errors"][0]["path"] == "url"
        listed = (await client.get("/v1/admin/subscriptions")).json()["subscriptions"]
        assert listed == []  # nothing stored


async def test_delivery_errors_do_not_tell_closed_ports_from_silent_ones(
    admin: AppClient, receiver: Receiver
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/hook"
    subscription = (await admin.post("/v1/admin/subscriptions", json={"url": closed})).json()
    await admin.publish("p-closed", rename("p", "1", "Navn"))
    for _ in range(200):
        log = (await admin.get(f"/v1/admin/subscriptions/{subscription['id']}/deliveries")).json()
        if log["deliveries"] and log["deliveries"][0]["attempts"]:
            break
        await asyncio.sleep(0.05)
    assert log["deliveries"][0]["last_error"] == "no answer from the receiver"


async def test_a_secret_sealed_with_another_key_is_a_recorded_failure_retried_later(
    admin: AppClient, receiver: Receiver
) -> None:
    """The key changed since the subscription was made: the attempt is logged as failed, with
    its reason, and retried with back-off; with the right key again it is sent."""
    receiver.failures = 0
    created = (await admin.post("/v1/admin/subscriptions", json={"url": receiver.url})).json()
    await admin.services.stop_background_work()  # only the workers below deliver
    await admin.publish("p-key", rename("p", "1", "Navn"))
    policy = DeliveryPolicy(retry_seconds=0.01, allowed_networks=LOOPBACK)
    services = admin.services
    other_key = DeliveryWorker(
        services.engine, services.catalog, SecretBox("another key", "unused"), policy
    )
    async with httpx.AsyncClient(timeout=5) as http:
        assert await other_key.deliver_one(http)
        path = f"/v1/admin/subscriptions/{created['id']}/deliveries"
        (failed,) = (await admin.get(path)).json()["deliveries"]
        assert (failed["status"], failed["attempts"]) == ("pending", 1)
        assert failed["last_error"] == KEY_MISMATCH
        assert receiver.requests == []

        right_key = DeliveryWorker(services.engine, services.catalog, services.secrets, policy)
        for _ in range(200):  # until its back-off has passed
            if await right_key.deliver_one(http):
                break
            await asyncio.sleep(0.01)
    (delivered_once,) = (await admin.get(path)).json()["deliveries"]
    assert (delivered_once["status"], delivered_once["attempts"]) == ("delivered", 2)
    assert len(receiver.accepted()) == 1
