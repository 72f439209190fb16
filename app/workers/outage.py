"""One log line when a dependency becomes unreachable and one when it is back, not one per try.

A background loop that polls a database which is down would otherwise write a traceback on
every poll (about 1 MB in 20 s); an operator needs to know when the outage began, that it is
still going on (no new line), and when and after how long it ended.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class Outage:
    """Tracks whether ``what`` is unreachable; logs only the transitions."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.since: float | None = None

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def started(self, error: BaseException) -> None:
        """Record a failure; logs a warning only for the first of an outage."""
        if self.since is None:
            self.since = time.monotonic()
            log.warning("%s unavailable (%s); retrying with back-off", self.what, _kind(error))

    def ended(self) -> None:
        """Record a success; logs how long the outage lasted if there was one."""
        if self.since is not None:
            seconds = time.monotonic() - self.since
            self.since = None
            log.warning("%s available again after %.1f s", self.what, seconds)


def _kind(error: BaseException) -> str:
    # The exception's type and first line only: no SQL, parameters or tracebacks.
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
