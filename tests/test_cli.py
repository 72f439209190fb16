"""The `codelists` command line, on both databases."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import CompletedProcess

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


def test_an_invalid_header_hides_no_operation_error(database: str, tmp_path: Path) -> None:
    """The command line validates like the API: the header's errors and every operation's."""
    run("migrate")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\nreason: x\nextra: 1\nchanges:\n"
        "  - {op: set, list: fravaer, codes: ['59'], fields: {active: 'no'}}\n",
        encoding="utf-8",
    )
    for command in ("plan", "apply"):
        code, _, err = run("changeset", command, str(bad))
        assert code == 1
        assert "2 error(s); nothing was stored" in err
        assert "  extra: unknown field" in err
        assert "  changes[0].fields.active: Expected `bool`, got `str`" in err


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


def test_export_csv_excel_dialect(database: str) -> None:
    run("seed", str(SEED))
    result = CliRunner().invoke(
        main, ["export", "--format", "csv", "--dialect", "excel"], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbflist;code;name;")
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 13 + 7 + 8 + 9
    assert "6 måneders bonus for danskkundskaber" in {r["name"] for r in rows}
    code, _, err = run("export", "--dialect", "excel")
    assert code == 2
    assert "--dialect applies to --format csv only" in err


# Mistakes, each answered by the real command (a subprocess) with one line on stderr and a
# non-zero exit (api.md "Running"). The cases run a few at a time: each command takes a second
# or more to start (imports), several on a busy machine.
UNREACHABLE = "postgresql+asyncpg://127.0.0.1:1/x"
NOT_A_URL = "nonsense"
NO_FOLDER = "sqlite+aiosqlite:////no/such/dir/codelists.db"
SEED_FILE = str(sorted(SEED.glob("*.yaml"))[-1])
# Every command that uses the database, with arguments that are right in themselves.
DATABASE_COMMANDS = {
    "migrate": ["migrate"],
    "seed": ["seed", str(SEED)],
    "serve": ["serve", "--port", "8"],  # never binds: it migrates first, and that fails
    "plan": ["changeset", "plan", SEED_FILE],
    "apply": ["changeset", "apply", SEED_FILE],
    "token": ["token", "create", "--scope", "read", "--name", "x"],
    "export": ["export"],
}
# case id -> (arguments, DATABASE_URL or None for a working one, a fragment of the line)
MISTAKES: dict[str, tuple[list[str], str | None, str]] = {
    **{
        f"{name}-unreachable-database": (args, UNREACHABLE, "cannot reach the database")
        for name, args in DATABASE_COMMANDS.items()
    },
    **{
        f"{name}-bad-database-url": (args, NOT_A_URL, "is not a database URL")
        for name, args in DATABASE_COMMANDS.items()
    },
    **{
        f"{name}-unknown-driver": (args, "foo://x/y", "cannot be used")
        for name, args in DATABASE_COMMANDS.items()
        if name == "migrate"
    },
    **{
        f"{name}-database-folder-missing": (args, NO_FOLDER, "/no/such/dir does not exist")
        for name, args in DATABASE_COMMANDS.items()
    },
    "serve-address-in-use": (["serve", "--port", "BUSY"], None, "Address already in use"),
    "seed-folder-missing": (["seed", "/no/such/dir"], None, "'/no/such/dir' does not exist"),
    "plan-file-missing": (["changeset", "plan", "/no/such.yaml"], None, "does not exist"),
    "apply-file-missing": (["changeset", "apply", "/no/such.yaml"], None, "does not exist"),
    "apply-file-argument-missing": (["changeset", "apply"], None, "Missing argument 'FILE'"),
    "export-not-migrated": (["export"], "EMPTY", "run `codelists migrate` first"),
    "export-database-missing": (["export"], None, "does not exist; run `codelists migrate` first"),
    "plan-database-missing": (["changeset", "plan", SEED_FILE], None, "does not exist"),
    "export-bad-time-zone": (["export"], "TZ=Mars/Base", "invalid setting CODELISTS_TIMEZONE"),
    "mirror-bad-source-url": (
        ["mirror", "--source", "nonsense", "--into", "copy.db", "--once"],
        None,
        "is not an http(s) URL",
    ),
    "mirror-bad-into-url": (
        ["mirror", "--source", "http://127.0.0.1:1", "--into", "postgresql://x/y", "--once"],
        None,
        "--into must be sqlite:///FILE",
    ),
    "mirror-into-folder-missing": (
        ["mirror", "--source", "http://127.0.0.1:1", "--into", "/no/such/dir/c.db", "--once"],
        None,
        "unable to open database file",
    ),
}


def _codelists(args: list[str], database_url: str | None, cwd: Path) -> CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CODELISTS_")}
    environment["DATABASE_URL"] = database_url or f"sqlite+aiosqlite:///{cwd / 'ok.db'}"
    if database_url == "EMPTY":  # a database file that exists but was never migrated
        (cwd / "empty.db").touch()
        environment["DATABASE_URL"] = f"sqlite+aiosqlite:///{cwd / 'empty.db'}"
    if database_url == "TZ=Mars/Base":
        environment["DATABASE_URL"] = f"sqlite+aiosqlite:///{cwd / 'ok.db'}"
        environment["CODELISTS_TIMEZONE"] = "Mars/Base"
    command = [str(Path(sys.executable).with_name("codelists")), *args]
    return subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=180
    )


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CompletedProcess[str]]:
    """Every case of MISTAKES run once, four at a time, each in a folder of its own."""

    busy = socket.create_server(("127.0.0.1", 0))  # a port someone else listens on

    def one(case: str) -> CompletedProcess[str]:
        args, database_url, _ = MISTAKES[case]
        args = [str(busy.getsockname()[1]) if arg == "BUSY" else arg for arg in args]
        return _codelists(args, database_url, tmp_path_factory.mktemp(case))

    with busy, ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(MISTAKES, pool.map(one, MISTAKES), strict=True))


@pytest.mark.timeout(900)  # the first case waits for all of them to run
@pytest.mark.parametrize("case", MISTAKES)
def test_a_mistake_is_one_line_on_stderr(
    case: str, mistakes: dict[str, CompletedProcess[str]]
) -> None:
    result = mistakes[case]
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert MISTAKES[case][2] in lines[0]
    assert result.stdout == ""


def test_a_command_that_does_not_migrate_leaves_no_database_behind(tmp_path: Path) -> None:
    result = _codelists(["export"], None, tmp_path)
    assert result.returncode == 1
    assert "does not exist; run `codelists migrate` first" in result.stderr
    assert list(tmp_path.iterdir()) == []
