"""Operator logging of a real ``codelists serve``: JSON lines, one per request, no secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from app.server.logs import redact
from tests.conftest import PostgresCopies, _postgres_url
from tests.servers import (
    SEED,
    codelists,
    free_port,
    running_service,
    spawn_service,
    wait_until_ready,
)

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


def _serve(env: dict[str, str], stdout: Any) -> tuple[subprocess.Popen[bytes], str]:
    process, url = spawn_service(env, stdout)
    wait_until_ready(process, url)
    return process, url


def _access_lines(output: bytes) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    return [line for line in lines if line["logger"] == "codelists.access"]


def test_a_clean_stop_right_after_requests_loses_no_access_line(tmp_path: Path) -> None:
    """SIGTERM right after N requests: N access lines, each once, although lines are written
    in batches (at the latest every 100 ms) and the stop comes sooner than that."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'stop.db'}"}
    codelists("seed", str(SEED), env=env)
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process, url = _serve(env, sink)
    try:
        sent = 0
        with httpx.Client(base_url=url, timeout=10) as http:
            for number in range(300):
                # Repeats answered by the fast path, and answers built by the framework.
                path = "/v1/codelists/fravaer/options" if number % 3 else "/v1/codelists/nope"
                answer = http.get(path, headers={"X-Request-ID": f"stop-{number}"})
                assert answer.status_code in {200, 404}
                sent += 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    ids = [line["request_id"] for line in _access_lines(log.read_bytes())]
    ours = [i for i in ids if i.startswith("stop-")]
    assert sorted(ours) == sorted(f"stop-{n}" for n in range(sent))


def test_stdout_that_blocks_drops_lines_counts_them_and_never_holds_a_request(
    tmp_path: Path,
) -> None:
    """A pipe nobody reads fills up; requests are still answered, the lines that found no room
    are counted in /metrics, and every line is either written or counted."""
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'blocked.db'}",
        "CODELISTS_LOG_BUFFER_LINES": "50",
    }
    codelists("seed", str(SEED), env=env)
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, True)
    process, url = _serve(env, write_end)
    os.close(write_end)
    chunks: list[bytes] = []
    try:
        # What start-up wrote fits in the pipe; from here on nobody reads it until the end.
        requests = 2000  # about 200 bytes a line: far more than a 64 KiB pipe and 50 lines
        with httpx.Client(base_url=url, timeout=10) as http:
            for number in range(requests):
                answer = http.get(
                    "/v1/codelists/fravaer/options", headers={"X-Request-ID": f"b-{number}"}
                )
                assert answer.status_code == 200
            metrics = http.get("/metrics").text
        dropped = _metric(metrics, "codelists_log_lines_dropped_total")
        assert dropped > 0
        # Reading again unblocks the writer; a clean stop then writes what is left.
        reader = threading.Thread(target=_read_all, args=(read_end, chunks), daemon=True)
        reader.start()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        reader.join(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    ids = {line["request_id"] for line in _access_lines(b"".join(chunks))}
    written = sum(1 for number in range(requests) if f"b-{number}" in ids)
    # Every line of ours was written or dropped (the /metrics request's line may be either).
    assert written + dropped in {requests, requests + 1}
    assert written < requests


def _read_all(fd: int, chunks: list[bytes]) -> None:
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")
