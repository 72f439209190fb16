"""Logging for operators: configured once at start, one line per request, no secrets.

- ``configure_logging(level)`` sends every record to stdout: JSON lines when stdout is not a
  terminal (a container, a journal, a file), readable text when it is.
- ``AccessLog`` is the outermost ASGI middleware, so requests answered by the fast path in front
  of the framework are logged too: one line per request with method, path (never the query
  string), status, duration in milliseconds and a request id (the client's ``X-Request-ID``
  when it is a short plain token, else a new one; echoed in the answer).
- ``Redact`` is a last line of defence on every handler: a bearer token or ``Authorization``
  value that some library puts in a message is replaced before the line is written. Nothing in
  the service logs them on purpose.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

ACCESS = logging.getLogger("codelists.access")
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_SECRETS = re.compile(
    r"(?i)(bearer\s+|authorization[\"']?\s*[:=]\s*[\"']?(?:\w+\s+)?|secret[\"']?\s*[:=]\s*[\"']?)"
    r"[A-Za-z0-9._~+/=-]+"
)
# Attributes every LogRecord has; anything else was passed as ``extra`` and is logged as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    """``text`` with every bearer token, Authorization value and secret replaced by ``***``."""
    return _SECRETS.sub(lambda match: match.group(1) + "***", text)


class Redact(logging.Filter):
    """Rewrites a record's message so that no token or secret reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JSONLines(logging.Formatter):
    """One JSON object per line: time (UTC, RFC 3339), level, logger, message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD:
                line[name] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return msgspec.json.encode(line).decode()


def configure_logging(level: str, *, json: bool | None = None) -> None:
    """Send all logging to stdout at ``level`` (CODELISTS_LOG_LEVEL), replacing any setup.

    ``json`` defaults to "stdout is not a terminal". Raises ValueError for an unknown level.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    if json is None:
        json = not sys.stdout.isatty()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JSONLines() if json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handler.addFilter(Redact())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # Servers' own access logs would repeat ours without the request id; the SQLite driver's
    # debug lines (one per statement, twice) drown everything else.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("aiosqlite").setLevel(max(numeric, logging.INFO))


class AccessLog:
    """ASGI middleware: one ``codelists.access`` line per HTTP request (see module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not ACCESS.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope["headers"])
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
            ACCESS.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "request_id": request_id.decode(),
                },
            )


def _request_id(headers: list[tuple[bytes, bytes]]) -> bytes:
    for name, value in headers:
        if name == b"x-request-id" and _REQUEST_ID.match(value):
            return value
    return uuid.uuid4().hex.encode()
