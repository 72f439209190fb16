"""Deliveries go to the very address that was checked (issue 21, item 6): the name is resolved
once, the connection is made to that address, and the host name is kept for ``Host`` and for
TLS (SNI and the certificate's name check). Real receivers on 127.0.0.1, plain and TLS with a
certificate of a test authority; names answered by a resolver the test controls."""

from __future__ import annotations

import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.destinations import parse_networks
from app.store import subscriptions
from app.workers.webhooks import UNREACHABLE, DeliveryPolicy, DeliveryWorker
from tests.conftest import AppClient, FixedClock, app_client

# Only 127.0.0.1 may be delivered to: 127.0.0.2 is as reachable on Linux, but not allowed.
ALLOWED = parse_networks(["127.0.0.1/32"])


class Receiver:
    """A webhook receiver on 127.0.0.1 (TLS when given a context) noting Host and SNI."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.hosts: list[str] = []
        self.server_names: list[str | None] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hosts.append(self.headers["Host"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if context is not None:
            context.sni_callback = lambda _sock, name, _ctx: receiver.server_names.append(name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Authority:
    """A test certificate authority issuing server certificates for host names."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "codelists test CA")])
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.bundle = directory / "ca.pem"
        self.bundle.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def server_context(self, host: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        chain = self.directory / f"{host}.pem"
        chain.write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain)
        return context


class Rebinding:
    """A resolver whose answer changes after its first: 127.0.0.1, then 127.0.0.2."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return ["127.0.0.1"] if len(self.asked) == 1 else ["127.0.0.2"]


@pytest.fixture
async def app(seeded: AsyncEngine, clock: FixedClock) -> AsyncIterator[AppClient]:
    """The app with its background work stopped: the test's own worker delivers."""
    async with app_client(seeded, clock, secret_key="test key") as client:
        await client.services.stop_background_work()
        yield client


@pytest.fixture
def plain() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


async def one_delivery(app: AppClient, url: str, worker: DeliveryWorker) -> str | None:
    """Subscribe ``url`` (stored directly: the API would resolve the test's names for real),
    publish one change, let ``worker`` attempt it; the error recorded, or None."""
    services = app.services
    async with services.engine.begin() as connection:
        made = await subscriptions.create(
            connection,
            url=url,
            lists=None,
            sealed=services.secrets.seal("s"),
            now=datetime.now(UTC),
        )
    await app.publish(
        "p-1", {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": "N"}}
    )
    try:
        assert await worker.deliver_one(worker.http())
    finally:
        if worker._http is not None:
            await worker._http.aclose()
            worker._http = None
    log = (await app.get(f"/v1/admin/subscriptions/{made.id}/deliveries")).json()
    (delivery,) = log["deliveries"]
    return delivery["last_error"]


def worker(app: AppClient, resolver: Any) -> DeliveryWorker:
    policy = DeliveryPolicy(allowed_networks=ALLOWED, timeout_seconds=10)
    services = app.services
    return DeliveryWorker(services.engine, services.catalog, services.secrets, policy, resolver)


async def test_a_delivery_goes_to_the_address_that_was_checked(
    app: AppClient, plain: Receiver, seeded: AsyncEngine, clock: FixedClock
) -> None:
    """DNS rebinding: the name answers 127.0.0.1 (allowed) to the check and 127.0.0.2 (not
    allowed) to any later question. The receiver on 127.0.0.1 gets the POST, with the name in
    Host, and the name is resolved once."""
    resolver = Rebinding()
    admin_token = await _admin_token(seeded, clock)
    app.headers["Authorization"] = f"Bearer {admin_token}"
    error = await one_delivery(app, f"http://hook.test:{plain.port}/x", worker(app, resolver))
    assert error is None
    assert plain.hosts == [f"hook.test:{plain.port}"]
    assert resolver.asked == ["hook.test"]  # once: the client asked nobody else


@pytest.fixture
def authority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Authority:
    made = Authority(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(made.bundle))  # httpx trusts the test CA
    return made


async def test_tls_keeps_the_host_name_for_sni_and_the_certificate_check(
    app: AppClient, seeded: AsyncEngine, clock: FixedClock, authority: Authority
) -> None:
    app.headers["Authorization"] = f"Bearer {await _admin_token(seeded, clock)}"
    right = Receiver(authority.server_context("hook.test"))
    try:
        url = f"https://hook.test:{right.port}/x"
        assert await one_delivery(app, url, worker(app, Rebinding())) is None
        assert right.server_names == ["hook.test"]
        assert right.hosts == [f"hook.test:{right.port}"]
    finally:
        right.close()


async def test_tls_refuses_a_certificate_for_another_name_at_the_checked_address(
    app: AppClient, seeded: AsyncEngine, clock: FixedClock, authority: Authority
) -> None:
    app.headers["Authorization"] = f"Bearer {await _admin_token(seeded, clock)}"
    wrong = Receiver(authority.server_context("other.test"))
    try:
        url = f"https://hook.test:{wrong.port}/x"
        assert await one_delivery(app, url, worker(app, Rebinding())) == UNREACHABLE
        assert wrong.hosts == []
    finally:
        wrong.close()


async def _admin_token(engine: AsyncEngine, clock: FixedClock) -> str:
    from app.identity import tokens

    async with engine.begin() as connection:
        return await tokens.create(connection, name="ops", scopes=["admin"], now=clock.now())
