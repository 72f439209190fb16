"""Schemathesis hooks for the schema fuzz run (tests/api/test_fuzz.py), loaded by
SCHEMATHESIS_HOOKS=tests.fuzz_hooks."""

from __future__ import annotations

import math
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """A valid ``wait`` (0 to 30 s of long-polling on /v1/changes) becomes 0: still valid, and the
    run does not spend its time waiting for publishes that never come."""
    query = case.query or {}
    try:
        seconds = float(query["wait"])
    except (KeyError, TypeError, ValueError):
        return
    if math.isfinite(seconds) and 0 <= seconds <= 30:
        query["wait"] = 0
