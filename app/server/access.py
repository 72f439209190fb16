"""The access log: one line per HTTP request, at a cost the hot path does not notice.

``AccessLog`` is the outermost ASGI middleware, so requests answered by the fast path in front
of the framework are logged too. Each line has the method, the path (never the query string),
the status, the duration in milliseconds and a request id: the client's ``X-Request-ID`` when
it is a short plain token, else this process's prefix and a counter; the id is echoed in the
answer's ``X-Request-ID``. Lines are logged at INFO on ``codelists.access``: with
CODELISTS_LOG_LEVEL above INFO there are none, and no ``X-Request-ID`` either.

When logging writes JSON lines (``configure_logging``), the request's way out only queues a
tuple of its facts in the process's ``LineBuffer``, whose thread renders and writes the lines
in batches: no ``LogRecord``, no formatter, no write per request (measured: the ``logging``
route cost warm reads half their throughput).
Otherwise (text on a terminal, or an embedding application's own logging) it goes through the
``codelists.access`` logger like any record.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from typing import Any

from app.server.logs import json_lines

ACCESS = logging.getLogger("codelists.access")
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


class AccessLog:
    """ASGI middleware: one ``codelists.access`` line per HTTP request (see module docstring).

    At a lifespan shutdown it writes the lines still buffered before the server is told the
    shutdown is complete, so a clean stop (SIGTERM) loses none.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        # Unique across the processes of one service and their restarts (4 random bytes),
        # cheap per request (a counter): request ids only need to tell lines apart.
        self._prefix = os.urandom(4).hex().encode() + b"-"
        self._numbers = itertools.count(1)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, receive, _flushing_at_shutdown(send))
            return
        request_id = self.request_id(scope) if kind == "http" else None
        if request_id is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before starting an answer

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.record(scope, status, request_id, started)

    def request_id(self, scope: Any) -> bytes | None:
        """The id of this HTTP request (for ``X-Request-ID``), or None when access lines are
        off (a log level above INFO)."""
        if not ACCESS.isEnabledFor(logging.INFO):
            return None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and _REQUEST_ID.match(value):
                return value  # type: ignore[no-any-return]
        return b"%s%x" % (self._prefix, next(self._numbers))

    def record(self, scope: Any, status: int, request_id: bytes, started: float) -> None:
        """Log the line of a request answered with ``status``; ``started`` is the
        ``time.perf_counter()`` of its arrival. Also for answers made in front of this
        middleware (the fast path: app/http/fastpath.py), which add ``X-Request-ID``
        themselves and so need no wrapped ``send``."""
        duration_ms = (time.perf_counter() - started) * 1000
        lines = json_lines()
        if lines is not None:
            entry = (time.time(), scope["method"], scope["path"], status, duration_ms, request_id)
            lines.write(entry)
        else:
            _log_record(scope, status, duration_ms, request_id)


def _log_record(scope: Any, status: int, duration_ms: float, request_id: bytes) -> None:
    ACCESS.info(
        "%s %s %d",
        scope["method"],
        scope["path"],
        status,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "request_id": request_id.decode(),
        },
    )


def _flushing_at_shutdown(send: Any) -> Any:
    async def send_flushed(message: Any) -> None:
        if message["type"] in {"lifespan.shutdown.complete", "lifespan.shutdown.failed"}:
            lines = json_lines()
            if lines is not None:
                lines.flush(timeout=5)
        await send(message)

    return send_flushed
