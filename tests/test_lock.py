"""Every locked dependency installs from a wheel on the platforms the README names, so a fresh
machine needs no compiler (issue: install in seconds without a compiler). uv's own
`required-environments` only refuses a package with no wheel and no sdist for a platform; one
with an sdist (cryptography dropped its Intel macOS wheels) would quietly be built there."""

from __future__ import annotations

import functools
import re
import tomllib

import pytest
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

from tests.servers import ROOT

PYTHONS = ["3.11", "3.12", "3.13", "3.14"]
# A platform's name and the wheel platform tags that install there: manylinux up to glibc 2.28
# (Debian 10, RHEL 8 and later), macOS up to 15 (pyicu-wheels' oldest) on Apple silicon.
PLATFORMS = {
    "Linux x86_64": re.compile(r"manylinux(_2_([0-9]|1[0-9]|2[0-8])|1|2010|2014)_x86_64"),
    "Linux aarch64": re.compile(r"manylinux(_2_(1[7-9]|2[0-8])|2014)_aarch64"),
    "macOS arm64": re.compile(r"macosx_(10|1[1-5])_\d+_(arm64|universal2)"),
}


@functools.cache
def _locked_wheel_tags() -> dict[str, frozenset[Tag]]:
    """Each package uv.lock takes from the index ("name version") and the tags of its wheels."""
    with (ROOT / "uv.lock").open("rb") as lock:
        packages = tomllib.load(lock)["package"]
    return {
        f"{package['name']} {package['version']}": frozenset(
            tag
            for wheel in package.get("wheels", [])
            for tag in parse_wheel_filename(wheel["url"].rsplit("/", 1)[1])[3]
        )
        for package in packages
        if "registry" in package["source"]
    }


def _fits(tag: Tag, python: str, platform: re.Pattern[str]) -> bool:
    major, minor = python.split(".")
    interpreters = {f"cp{major}{minor}", f"py{major}{minor}", f"py{major}", "py2.py3"}
    abi3 = tag.abi == "abi3" and tag.interpreter.startswith("cp3")
    if tag.interpreter not in interpreters and not (
        abi3 and int(tag.interpreter[3:]) <= int(minor)
    ):
        return False
    if tag.abi.endswith("t"):  # a free-threaded build's wheel: not the default CPython
        return False
    return tag.platform == "any" or platform.fullmatch(tag.platform) is not None


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_locked_package_has_a_wheel_for(platform: str, python: str) -> None:
    missing = [
        package
        for package, tags in _locked_wheel_tags().items()
        if not any(_fits(tag, python, PLATFORMS[platform]) for tag in tags)
    ]
    assert missing == [], f"no wheel for {platform}, Python {python}: {missing}"
