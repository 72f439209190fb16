"""The `codelists` command line, on both databases."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli.main import main
from tests.conftest import SEED, _admin, _asyncpg_url, _run_apart


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """DATABASE_URL for a fresh, empty database (the commands migrate it themselves)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
        monkeypatch.setenv("DATABASE_URL", url)
        yield url
        return
    name = f"codelists_cli_{uuid.uuid4().hex[:12]}"
    _run_apart(_admin(f'CREATE DATABASE "{name}"'))
    url = "postgresql+asyncpg" + _asyncpg_url(name).removeprefix("postgresql")
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    _run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_seed_then_seed_again_changes_nothing(database: str) -> None:
    code, out, _ = run("seed", str(SEED))
    assert code == 0
    assert (
        "2025-4-kontanthjaelpsreform published: fravaer v3, kontaktgruppe v3, tilmeldekategori v3"
        in out
    )
    code, out, _ = run("seed", str(SEED))
    assert code == 0
    assert out.count("already published; nothing changed") == len(list(SEED.glob("*.yaml")))


def test_plan_prints_the_diff_and_apply_publishes(database: str, tmp_path: Path) -> None:
    run("seed", str(SEED))
    change = tmp_path / "rename.yaml"
    change.write_text(
        "id: rename-1\nreason: Nyt navn\nchanges:\n"
        "  - {op: set, list: fravaer, codes: ['10'], fields: {name: Ferie og feriefridage}}\n"
        "  - op: upsert\n    list: fravaer\n    values: [{code: '12', name: Orlov, valid_from: 2026-01-01}]\n",
        encoding="utf-8",
    )
    code, out, _ = run("changeset", "plan", str(change))
    assert code == 0
    assert "fravaer: version 3 -> 4" in out
    assert "name: Ferie -> Ferie og feriefridage" in out
    assert "+ 12  Orlov" in out
    assert "\x1b[" not in out  # no colours when not on a terminal
    code, out, _ = run("changeset", "apply", str(change))
    assert (code, out.strip()) == (0, "rename.yaml: rename-1 published: fravaer v4")


def test_invalid_change_set_exits_1_with_every_error(database: str, tmp_path: Path) -> None:
    run("seed", str(SEED))
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "id": "bad",
                "reason": "x",
                "changes": [
                    {"op": "set", "list": "fravaer", "codes": ["27"], "fields": {"active": False}},
                    {"op": "set", "list": "nope", "codes": ["1"], "fields": {"active": False}},
                ],
            }
        )
    )
    for command in ("plan", "apply"):
        code, _, err = run("changeset", command, str(bad))
        assert code == 1
        assert "changes[0].codes[0]: code '27' does not exist in list 'fravaer'" in err
        assert "changes[1].list: list 'nope' does not exist" in err


def test_token_create_prints_the_token_last(database: str) -> None:
    code, out, _ = run("token", "create", "--scope", "admin", "--scope", "read", "--name", "ops")
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("cl_")
    assert len(token) > 40
    assert run("token", "create", "--scope", "root", "--name", "x")[0] == 2


def test_export_json_and_csv(database: str) -> None:
    run("seed", str(SEED))
    code, out, _ = run("export")
    assert code == 0
    data = json.loads(out)
    assert data["seq"] == 61
    lists = {item["key"]: item for item in data["codelists"]}
    value = next(v for v in lists["fravaer"]["values"] if v["code"] == "59")
    assert [h["active"] for h in value["history"]] == [True, True, False]
    code, out, _ = run("export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 13 + 7 + 8 + 9
    assert {r["list"] for r in rows} == set(lists)
    assert next(r for r in rows if r["list"] == "slettepolitik" and r["code"] == "3")[
        "attributes"
    ] == (
        '{"counted_from":"slutdato","data_area":"municipal person-group markings","retention_period":"P6M"}'
    )
