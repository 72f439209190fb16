"""The built wheel, installed into a fresh virtual environment outside the checkout, migrates,
seeds (with the seed it carries) and serves by itself (issue: an installable package)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT, free_port


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


@pytest.mark.timeout(900)  # a cold uv cache downloads every wheel for the new environment
def test_installed_wheel_migrates_seeds_and_serves(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    subprocess.run(
        [*_uv(), "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("codelists-*.whl")
    venv = tmp_path / "venv"
    # The locked dependencies first (uv sync into the new environment, every one from a wheel:
    # `--no-build` refuses a source build, so a machine without a compiler installs them too),
    # then the wheel itself, then a check that the wheel's own requirements are met by what is
    # there.
    subprocess.run(
        [
            *_uv(),
            "sync",
            "--quiet",
            "--frozen",
            "--no-dev",
            "--no-install-project",
            "--no-build",
            "--compile-bytecode",
        ],
        cwd=ROOT,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)},
        check=True,
        timeout=600,
    )
    python = ["--python", str(venv / "bin" / "python")]
    subprocess.run(
        [*_uv(), "pip", "install", "--quiet", "--no-deps", "--compile-bytecode", *python, wheel],
        check=True,
        timeout=300,
    )
    subprocess.run([*_uv(), "pip", "check", "--quiet", *python], check=True, timeout=120)
    command = str(venv / "bin" / "codelists")
    # Nothing from the checkout may leak in: no PYTHONPATH, a working directory elsewhere.
    env = {
        key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{outside / 'installed.db'}"
    env["CODELISTS_SECRET_KEY_FILE"] = str(outside / "codelists.key")

    def run(*args: str) -> str:
        done = subprocess.run(
            [command, *args], cwd=outside, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "migrated" in run("migrate")
    seeded = run("seed")  # no folder here: the seed the wheel carries
    assert "2025-4-kontanthjaelpsreform published" in seeded
    port = free_port()
    with (outside / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [command, "serve", "--port", str(port)], cwd=outside, env=env, stdout=log, stderr=log
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"{url}/health/ready", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (outside / "serve.log").read_text()
            assert time.monotonic() < deadline, (outside / "serve.log").read_text()
            time.sleep(0.2)
        options = httpx.get(f"{url}/v1/codelists/fravaer/options?include=59").json()
        retired = [o for o in options["options"] if o["code"] == "59"]
        assert retired == [
            {"code": "59", "name": "6 måneders bonus for danskkundskaber", "selectable": False}
        ]
        # the drop-down component: the wheel carries the file behind app/components' link
        module = httpx.get(f"{url}/components/codelist-select.js")
        assert module.content == (ROOT / "clients/js/codelist-select.js").read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=15)
