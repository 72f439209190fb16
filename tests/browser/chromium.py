"""Debian's Chromium for the browser tests and the component benchmark: where it is, and the
flags it runs with (headless, no sandbox as root, nothing fetched from the network by itself)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = os.environ.get("CODELISTS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class ChromiumMissing(Exception):
    """No Chromium at CHROMIUM (``apt-get install chromium``, or set CODELISTS_CHROMIUM)."""


def launch(playwright: Playwright) -> Browser:
    """Chromium started by ``playwright``; raises ChromiumMissing when it is not installed."""
    if not Path(CHROMIUM).is_file():
        raise ChromiumMissing(
            f"Chromium is not installed at {CHROMIUM}: apt-get install chromium "
            "(or set CODELISTS_CHROMIUM). The browser tests need it."
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
