"""Operator logging of a real ``codelists serve``: JSON lines, one per request, no secrets."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from app.server.logs import redact
from tests.conftest import PostgresCopies, _postgres_url
from tests.servers import SEED, codelists, free_port, running_service

DOCUMENT = {
    "id": "log-test",
    "reason": "a publish that a webhook subscription hears of",
    "changes": [{"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": "Skole"}}],
}


def test_requests_are_logged_and_secrets_never_are(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'log.db'}",
        "CODELISTS_LOG_LEVEL": "debug",
        "CODELISTS_SECRET_KEY": "a key for the test",
        "CODELISTS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "CODELISTS_WEBHOOK_RETRY_SECONDS": "0.1",
    }
    codelists("seed", str(SEED), env=env)
    token = codelists("token", "create", "--scope", "admin", "--name", "ops", env=env)
    token = token.strip().splitlines()[-1]
    wrong_token = "nottherighttoken" + "x" * 30
    basic = "dXNlcjpwYXNzd29yZA=="
    with (
        running_service(env, tmp_path / "serve.log") as service,
        httpx.Client(base_url=service.url, timeout=10) as http,
    ):
        for _ in range(2):  # the second is answered by the fast path
            assert http.get("/v1/codelists/fravaer/options").status_code == 200
        answered = http.get("/health/live", headers={"X-Request-ID": "trace-42"})
        assert answered.headers["x-request-id"] == "trace-42"
        bearer = {"Authorization": f"Bearer {token}"}
        assert http.get("/v1/admin/changesets", headers=bearer).status_code == 200
        wrong = {"Authorization": f"Bearer {wrong_token}"}
        assert http.get("/v1/admin/changesets", headers=wrong).status_code == 401
        assert (
            http.get(
                "/v1/admin/changesets", headers={"Authorization": f"Basic {basic}"}
            ).status_code
            == 401
        )
        # A receiver that is not there: deliveries fail and are retried (and logged).
        hook = f"http://127.0.0.1:{free_port()}/hook"
        created = http.post("/v1/admin/subscriptions", json={"url": hook}, headers=bearer)
        assert created.status_code == 201
        secret = created.json()["secret"]
        published = http.post("/v1/admin/changesets?publish=true", json=DOCUMENT, headers=bearer)
        assert published.status_code == 201
        time.sleep(1.5)  # a few delivery attempts
    output = service.output()
    for value in (token, wrong_token, basic, secret):
        assert value not in output
    lines = [json.loads(line) for line in output.splitlines()]  # granian's lines too
    assert {"codelists.serve", "_granian"} <= {line["logger"] for line in lines}
    access = [line for line in lines if line["logger"] == "codelists.access"]
    options = [line for line in access if line["path"] == "/v1/codelists/fravaer/options"]
    assert len(options) == 2  # the fast path's answer is logged too
    for line in access:
        assert line["method"] in {"GET", "POST", "HEAD"}
        assert isinstance(line["status"], int)
        assert line["duration_ms"] >= 0
        assert line["request_id"]
    assert any(line["request_id"] == "trace-42" for line in access)
    admin_reads = [
        a for a in access if a["path"] == "/v1/admin/changesets" and a["method"] == "GET"
    ]
    assert sorted(line["status"] for line in admin_reads) == [
        200,
        401,
        401,
    ]


def test_the_database_password_never_reaches_a_log_line(
    postgres_copies: PostgresCopies, tmp_path: Path
) -> None:
    name = postgres_copies.take()
    url = make_url(_postgres_url(name))
    if url.password is None:  # trust authentication takes any password
        url = url.set(password="not-the-password-4711")
    password = str(url.password)
    env = {"DATABASE_URL": url.render_as_string(hide_password=False)}
    try:
        with running_service(env, tmp_path / "serve.log") as service:
            assert httpx.get(f"{service.url}/v1/codelists", timeout=10).status_code == 200
    finally:
        postgres_copies.drop(name)
    output = service.output()
    assert password not in output
    (serving,) = [json.loads(line) for line in output.splitlines() if "serving" in line]
    assert "***" in serving["message"]


def test_redact_hides_tokens_authorization_values_and_secrets() -> None:
    assert redact("Authorization: Bearer abc.DEF-123") == "Authorization: Bearer ***"
    assert redact("headers {'authorization': 'Basic dXNlcg=='}") == (
        "headers {'authorization': 'Basic ***'}"
    )
    assert redact('{"secret": "s3cr3t-value"}') == '{"secret": "***"}'
    assert redact("nothing to hide here") == "nothing to hide here"
