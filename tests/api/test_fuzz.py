"""A schema fuzz run: schemathesis against ``codelists serve`` on each database (issue 9 item 14).

Every operation of /schema/openapi.json is called with examples, boundary values and random
valid and invalid data (fixed seed, bounded examples), as an admin, and every answer is checked:
no 5xx, only documented statuses and media types, bodies matching their schemas, and invalid
data refused. A failure prints schemathesis' report with a curl line to reproduce it.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.identity import tokens
from tests.conftest import FixedClock
from tests.servers import ROOT, running_service

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)
SEED = 20261129
MAX_EXAMPLES = 8


def fuzz(url: str, token: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """One schemathesis run against the service at ``url``, as the admin ``token``; its caches
    and reports stay in ``workdir``."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{url}/schema/openapi.json",
            f"--checks={CHECKS}",
            f"--seed={SEED}",
            f"--max-examples={MAX_EXAMPLES}",
            "--phases=examples,coverage,fuzzing",
            "--workers=1",
            "--generation-database=none",
            "--no-shrink",
            "--request-timeout=20",
            "--no-color",
            f"--header=Authorization: Bearer {token}",
        ],
        cwd=workdir,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz_hooks", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


# Every operation of the document is fuzzed: minutes on a busy machine, more than the suite's
# default per-test timeout.
@pytest.mark.timeout(600)
async def test_schema_fuzz_finds_nothing(
    seeded: AsyncEngine, database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    async with seeded.begin() as connection:
        token = await tokens.create(connection, name="fuzz", scopes=["admin"], now=clock.now())
    await seeded.dispose()
    env = {"DATABASE_URL": database_url, "CODELISTS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}
    with running_service(env, tmp_path / "serve.log") as service:
        run = await asyncio.to_thread(fuzz, service.url, token, tmp_path)
    report = run.stdout[-20000:] + run.stderr[-5000:]
    assert run.returncode == 0, report
    assert re.search(r"Test cases:\s+\d+ generated, [1-9]\d* passed", report), report
