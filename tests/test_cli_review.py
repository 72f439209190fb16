"""The command line as the operator (api.md "Review, approval and scheduling" and "Running"):
never held back by approval, audited as ``cli:<user>``; `token list` and `token revoke`."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.store.database import create_engine
from app.store.tables import audit_log
from tests.conftest import SEED
from tests.test_cli import database, run  # noqa: F401 - the fixture

OPERATOR = f"cli:{getpass.getuser()}"


def audit_entries(url: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(sa.select(audit_log).order_by(audit_log.c.seq))
                return [dict(row._mapping) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_seed_and_apply_act_as_the_operator_even_when_approval_is_required(
    database: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODELISTS_REQUIRE_APPROVAL", "true")
    assert run("seed", str(SEED))[0] == 0
    change = tmp_path / "rename.yaml"
    change.write_text(
        "id: rename-1\nreason: Nyt navn\npublish_at: 2099-01-01T06:00:00+01:00\nchanges:\n"
        "  - {op: set, list: fravaer, codes: ['10'], fields: {name: Ferie og feriefridage}}\n",
        encoding="utf-8",
    )
    code, out, _ = run("changeset", "apply", str(change))
    assert (code, out.strip()) == (0, "rename.yaml: rename-1 published: fravaer v4")
    entries = audit_entries(database)
    assert {entry["actor"] for entry in entries} == {OPERATOR}
    assert [(e["action"], e["target"]) for e in entries[-2:]] == [
        ("changeset.submitted", "changeset:rename-1"),
        ("changeset.published", "changeset:rename-1"),
    ]
    assert entries[-1]["detail"]["versions"] == {"fravaer": 4}


def test_token_list_and_revoke(database: str) -> None:  # noqa: F811
    code, out, _ = run("token", "create", "--scope", "admin", "--scope", "approve", "--name", "ops")
    secret = out.strip().splitlines()[-1]
    run("token", "create", "--scope", "read", "--name", "ops")
    run("token", "create", "--scope", "sync", "--name", "mirror")
    code, out, _ = run("token", "list")
    assert code == 0
    assert secret not in out
    rows = [line.split() for line in out.strip().splitlines()]
    assert rows[0] == ["NAME", "SCOPES", "CREATED", "LAST", "USED", "REVOKED"]
    assert [(row[0], row[1], row[3], row[4]) for row in rows[1:]] == [
        ("mirror", "sync", "-", "-"),
        ("ops", "admin,approve", "-", "-"),
        ("ops", "read", "-", "-"),
    ]
    code, out, _ = run("token", "revoke", "ops")
    assert (code, out.strip()) == (0, "revoked 2 token(s) named ops")
    code, out, _ = run("token", "revoke", "ops")
    assert (code, out.strip()) == (0, "every token named ops was revoked already")
    code, _, err = run("token", "revoke", "nobody")
    assert code == 1 and "no token named 'nobody'" in err and "Traceback" not in err
    revoked = [line.split() for line in run("token", "list")[1].splitlines()[1:]]
    assert [row[-1] != "-" for row in revoked] == [False, True, True]
    entries = audit_entries(database)
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        (OPERATOR, "token.created", "token:ops"),
        (OPERATOR, "token.created", "token:ops"),
        (OPERATOR, "token.created", "token:mirror"),
        (OPERATOR, "token.revoked", "token:ops"),
    ]
    assert entries[0]["detail"] == {"scopes": ["admin", "approve"]}
    assert secret not in str(entries)
