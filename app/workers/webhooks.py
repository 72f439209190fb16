"""Webhook delivery: a background task in every service process, draining the outbox.

Each batch is POSTed as ``{"changes": [...]}`` with ``X-Codelists-Delivery`` and
``X-Codelists-Signature: sha256=<HMAC-SHA256 of the body>``; anything but a 2xx is retried
with exponential back-off and jitter. Only the oldest pending batch of a subscription is ever
attempted, so receivers get changes in ``seq`` order, at least once.

Each POST goes to the address its destination check resolved and allowed (``pinned``), with
the URL's host name kept where it matters: in ``Host`` and, for https, in TLS (SNI and the
certificate's name check). Connections are not kept alive between deliveries, so none made for
one host name or check is reused for another.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.destinations import Network, literal_address
from app.reads.catalog import Catalog
from app.store import feed, subscriptions
from app.store.secrets import SecretBox, SecretUnreadable
from app.store.subscriptions import Claimed
from app.workers.destinations import Destination, Resolver, check_destination, resolve
from app.workers.outage import Outage
from app.workers.stopping import Stopping

log = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 600.0  # a receiver back after an outage waits at most this long
MAX_POLL_BACK_OFF = 30.0  # while the database is down, look again at most this often
SIGNATURE_HEADER = "X-Codelists-Signature"
UNREACHABLE = "no answer from the receiver"  # refused, reset or timed out: all the same
KEY_MISMATCH = "not sent: the subscription's secret cannot be decrypted with this key"
DELIVERY_HEADER = "X-Codelists-Delivery"


class ChangesPayload(msgspec.Struct):
    changes: list[feed.Change]


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(attempts: int, first: float) -> float:
    """Seconds before the next try after ``attempts`` failures: doubling, capped, jittered
    (between half and all of the step) so failed receivers are not hit in lockstep."""
    step = min(MAX_DELAY_SECONDS, first * 2.0 ** max(0, attempts - 1))
    return step / 2 + random.uniform(0, step / 2)


class DeliveryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How deliveries are paced (seconds): CODELISTS_WEBHOOK_RETRY_SECONDS (first retry delay,
    doubling per attempt), CODELISTS_WEBHOOK_TIMEOUT_SECONDS (one POST), and the poll of the
    outbox between publishes (CODELISTS_POLL_SECONDS)."""

    retry_seconds: float = 2.0
    timeout_seconds: float = 10.0
    poll_seconds: float = 0.25
    allowed_networks: tuple[Network, ...] = ()  # CODELISTS_WEBHOOK_ALLOWED_NETWORKS


class DeliveryWorker:
    def __init__(
        self,
        engine: AsyncEngine,
        catalog: Catalog,
        secrets: SecretBox,
        policy: DeliveryPolicy,
        resolver: Resolver = resolve,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.secrets = secrets
        self.policy = policy
        self.resolver = resolver
        self.lease = timedelta(seconds=policy.timeout_seconds + 30)
        self._http: httpx.AsyncClient | None = None

    def http(self) -> httpx.AsyncClient:
        """The HTTP client for deliveries, made for the first one: making it loads the CA
        bundle (tens of milliseconds), which a process with no subscription need not pay."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self.policy.timeout_seconds,
                follow_redirects=False,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return self._http

    async def run(self, stopping: Stopping) -> None:
        """Deliver until ``stopping`` is requested; a database outage is logged once when it
        starts and once when it ends, and retried with back-off."""
        outage = Outage("database for webhook delivery")
        failures = 0
        try:
            while not stopping.requested:
                published = self.catalog.next_publish()
                try:
                    pause = await self.deliver_due(stopping)
                    outage.ended()
                    failures = 0
                except Exception as exc:  # noqa: BLE001 - logged once per outage, retried
                    outage.started(exc)
                    failures += 1
                    pause = min(MAX_POLL_BACK_OFF, self.policy.poll_seconds * 2.0**failures)
                await stopping.pause(pause, published)
        finally:
            if self._http is not None:
                await self._http.aclose()
                self._http = None

    async def deliver_due(self, stopping: Stopping) -> float:
        """Send every due batch (until ``stopping`` is requested); the seconds until the
        next one may be due.

        Without an active subscription the outbox is not even looked at.
        """
        async with self.engine.connect() as connection:
            if not await subscriptions.any_active(connection):
                return self.policy.poll_seconds
        client = self.http()
        while not stopping.requested and await self.deliver_one(client):
            pass
        return await self._seconds_until_due()

    async def _seconds_until_due(self) -> float:
        async with self.engine.connect() as connection:
            due = await subscriptions.next_due(connection)
        if due is None:
            return self.policy.poll_seconds
        seconds = (due - datetime.now(UTC)).total_seconds()
        return min(self.policy.poll_seconds, max(0.01, seconds))

    async def deliver_one(self, client: httpx.AsyncClient) -> bool:
        """Attempt the next due batch; False when none is due."""
        async with self.engine.begin() as connection:
            claimed = await subscriptions.claim(connection, datetime.now(UTC), self.lease)
            if claimed is None:
                return False
            batch = await feed.between(
                connection,
                claimed.delivery.first_seq,
                claimed.delivery.last_seq,
                claimed.subscription.lists,
            )
        error = await self._send(client, claimed, batch)
        now = datetime.now(UTC)
        retry_at = now + timedelta(
            seconds=retry_delay(claimed.delivery.attempts + 1, self.policy.retry_seconds)
        )
        async with self.engine.begin() as connection:
            await subscriptions.finish(connection, claimed, now=now, error=error, retry_at=retry_at)
        return True

    async def _send(
        self, client: httpx.AsyncClient, claimed: Claimed, batch: list[feed.Change]
    ) -> str | None:
        """POST one batch; the error to record, or None when the receiver took it.

        The destination is checked again first (a name may now resolve elsewhere). Errors are
        recorded coarsely: the delivery log must not tell open ports from closed ones.
        """
        url = claimed.subscription.url
        checked = await check_destination(url, self.policy.allowed_networks, self.resolver)
        if isinstance(checked, str):
            return f"not sent: the URL {checked}"
        body = msgspec.json.encode(ChangesPayload(batch))
        try:
            secret = self.secrets.open(claimed.subscription.secret_encrypted)
        except SecretUnreadable:
            # Retried with back-off like any failure: it is sent once the right key is back.
            log.error(
                "webhook subscription %s: its secret cannot be decrypted with this key; was "
                "CODELISTS_SECRET_KEY (or its key file) changed?",
                claimed.subscription.id,
            )
            return KEY_MISMATCH
        target, host, extensions = pinned(checked)
        headers = {
            "Host": host,
            "Content-Type": "application/json",
            DELIVERY_HEADER: claimed.delivery.id,
            SIGNATURE_HEADER: signature(secret, body),
        }
        try:
            response = await client.post(
                target, content=body, headers=headers, extensions=extensions
            )
        except (httpx.HTTPError, httpx.InvalidURL):
            return UNREACHABLE
        if response.is_success:
            return None
        return f"HTTP {response.status_code}"


def pinned(destination: Destination) -> tuple[httpx.URL, str, dict[str, str]]:
    """The request for ``destination`` that connects to its checked address: the URL with that
    address as host, the ``Host`` header (the URL's host and port, IDNA-encoded), and the
    request extensions naming the host for TLS.

    httpcore uses ``sni_hostname`` both as the TLS server name and for the certificate check
    (``ssl.SSLContext.check_hostname``), so the certificate must still be valid for the URL's
    host name, not for the address.
    """
    url = httpx.URL(destination.url)
    extensions: dict[str, str] = {}
    if url.scheme == "https" and literal_address(destination.host) is None:
        extensions["sni_hostname"] = url.raw_host.decode("ascii")
    target = url.copy_with(host=str(destination.address))
    return target, url.netloc.decode("ascii"), extensions
