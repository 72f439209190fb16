"""Logging for operators: configured once at start, no secrets, and cheap enough for every request.

- ``configure_logging(level)`` sends every record to stdout: JSON lines when stdout is not a
  terminal (a container, a journal, a file), readable text when it is.
- JSON lines are not written by the thread that logs them: they go into a ``LineBuffer`` that a
  thread of its own writes out in batches, at the latest every 100 ms, at once when a batch is
  full or a record is a warning or worse, and at shutdown. A request never waits for stdout:
  when stdout blocks (a full pipe nobody reads) and the buffer is full, further lines are
  dropped and counted in ``codelists_log_lines_dropped_total`` (``/metrics``).
- ``Redact`` is a last line of defence on every handler: a bearer token or ``Authorization``
  value that some library puts in a message is replaced before the line is written. Nothing in
  the service logs them on purpose.

The access log, one line per request, is ``app/server/access.py``.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import os
import re
import select
import sys
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

import msgspec
from prometheus_client import Counter

_SECRETS = re.compile(
    r"(?i)(bearer\s+|authorization[\"']?\s*[:=]\s*[\"']?(?:\w+\s+)?|secret[\"']?\s*[:=]\s*[\"']?)"
    r"[A-Za-z0-9._~+/=-]+"
)
# Attributes every LogRecord has; anything else was passed as ``extra`` and is logged as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

DROPPED = Counter(
    "codelists_log_lines_dropped",
    "Log lines dropped because stdout did not take them and the line buffer was full",
)
# Writes of at most PIPE_BUF bytes to a pipe are atomic (POSIX): lines of several processes
# sharing one stdout never interleave inside a line.
_ATOMIC_WRITE = select.PIPE_BUF
_encode = msgspec.json.encode


def redact(text: str) -> str:
    """``text`` with every bearer token, Authorization value and secret replaced by ``***``."""
    return _SECRETS.sub(lambda match: match.group(1) + "***", text)


def may_hold_secret(text: str) -> bool:
    """Cheap test: False means ``redact(text)`` would return ``text`` unchanged."""
    lowered = text.lower()
    return "bearer" in lowered or "authorization" in lowered or "secret" in lowered


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


# An access-log entry as the request's way out leaves it (app/server/access.py): (time in
# seconds since the epoch, method, path, status, duration in milliseconds, request id). A plain
# tuple: making it is all the request pays; the line is rendered on the writing thread.
AccessEntry = tuple[float, str, str, int, float, bytes]


class AccessLines:
    """Renders ``AccessEntry`` tuples as the JSON line ``JSONLines`` would make of the record
    (the same fields in the same order, no query string, tokens redacted).

    What repeats from request to request (method, path, status: the middle of the line, JSON
    encoded and redacted) is kept by value, at most ``_FRAGMENTS`` of them; the time's whole
    second too. Rendering is then one formatting of bytes: rendering costs the process's CPU
    even on the writing thread, so it is kept small.
    """

    _FRAGMENTS = 4096

    def __init__(self) -> None:
        self._fragments: dict[tuple[str, str, int], bytes] = {}
        self._second = -1
        self._second_text = b""

    def render(self, entry: AccessEntry) -> bytes:
        moment, method, path, status, duration_ms, request_id = entry
        second = int(moment)
        if second != self._second:
            self._second = second
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second_text = text.encode()
        fragment = self._fragments.get((method, path, status))
        if fragment is None:
            fragment = self._fragment(method, path, status)
        microseconds = round(duration_ms * 1000)
        return (
            b'{"time":"%s.%03d+00:00","level":"INFO","logger":"codelists.access",%s'
            b'"duration_ms":%d.%03d,"request_id":"%s"}\n'
            % (
                self._second_text,
                int((moment - second) * 1000),
                fragment,
                microseconds // 1000,
                microseconds % 1000,
                request_id,
            )
        )

    def _fragment(self, method: str, path: str, status: int) -> bytes:
        if len(self._fragments) >= self._FRAGMENTS:
            self._fragments.clear()
        shown = redact(path) if may_hold_secret(path) else path
        method_json, path_json = _encode(method), _encode(shown)
        fragment = b'"message":"%s %s %d","method":%s,"path":%s,"status":%d,' % (
            method_json[1:-1],
            path_json[1:-1],
            status,
            method_json,
            path_json,
            status,
        )
        self._fragments[method, path, status] = fragment
        return fragment


class LineBuffer:
    """Whole lines written to file descriptor ``fd`` in batches by a thread of its own.

    A line is bytes ending in a newline, or an ``AccessEntry`` the thread renders. ``write``
    only appends to a deque, so the caller (the event loop) never waits for the descriptor; a
    daemon thread writes what is there every ``interval`` seconds, at once when ``batch`` lines
    are waiting or ``wake()`` is called, and ``close()`` writes the rest. With ``max_lines``
    lines waiting (the descriptor blocks), a new line is dropped and counted in ``DROPPED``.
    The buffer belongs to the process that made it: after a fork the child's copy writes
    nothing (its parent writes those lines).
    """

    def __init__(
        self, fd: int, *, max_lines: int = 10_000, interval: float = 0.1, batch: int = 256
    ) -> None:
        self.fd = fd
        self.max_lines = max_lines
        self.interval = interval
        self.batch = batch
        self._lines: deque[bytes | AccessEntry] = deque()
        self._access = AccessLines()
        self._wake = threading.Event()
        self._writing = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="log-lines", daemon=True)
        self._thread.start()

    def write(self, line: bytes | AccessEntry) -> None:
        """Queue ``line`` (bytes ending in b"\\n", or an access entry); drop and count it when
        ``max_lines`` are waiting."""
        lines = self._lines
        if len(lines) >= self.max_lines:
            DROPPED.inc()
            return
        lines.append(line)
        if len(lines) == self.batch:
            self._wake.set()

    def wake(self) -> None:
        """Write what is waiting now rather than at the next interval."""
        self._wake.set()

    def flush(self, timeout: float = -1) -> bool:
        """Write every line queued so far, on the caller's thread; False if another write
        held the descriptor for longer than ``timeout`` seconds (-1: wait as long as it takes).
        """
        if os.getpid() != self._pid or not self._writing.acquire(timeout=timeout):
            return False
        try:
            self._write_waiting()
        finally:
            self._writing.release()
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread and write the rest; lines a blocked descriptor still refuses after
        ``timeout`` seconds are counted as dropped."""
        if self._closed or os.getpid() != self._pid:
            return
        self._closed = True
        self._wake.set()
        self._thread.join(timeout)
        if not self.flush(timeout):
            DROPPED.inc(len(self._lines))
            self._lines.clear()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def _write_waiting(self) -> None:
        lines = self._lines
        chunk: list[bytes] = []
        size = 0
        render = self._access.render
        while lines:
            item = lines.popleft()
            line = item if type(item) is bytes else render(item)  # type: ignore[arg-type]
            if chunk and size + len(line) > _ATOMIC_WRITE:
                self._write(b"".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            self._write(b"".join(chunk))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError:  # stdout closed (EPIPE, EBADF): nowhere to write, nothing to retry
            DROPPED.inc(view.tobytes().count(b"\n"))


class BufferedJSONHandler(logging.Handler):
    """A handler that formats records as JSON lines into a ``LineBuffer``; a warning or worse
    is written at once rather than at the next interval."""

    def __init__(self, lines: LineBuffer) -> None:
        super().__init__()
        self.lines = lines
        self.setFormatter(JSONLines())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.write(self.format(record).encode() + b"\n")
        except Exception:  # noqa: BLE001 - logging must not fail its caller (logging's own rule)
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            self.lines.wake()

    def flush(self) -> None:
        self.lines.wake()

    def close(self) -> None:
        # Only writes what is waiting: logging.config.dictConfig closes every handler (granian
        # configures its loggers so) and the root logger keeps using this one afterwards.
        # The buffer itself is closed when the process ends, or by ``configure_logging``.
        self.lines.flush(timeout=5)
        super().close()


# The buffer JSON lines go to in this process, when ``configure_logging`` chose JSON; the access
# log writes its ready-made lines straight into it (app/server/access.py).
_json_lines: LineBuffer | None = None


def json_lines() -> LineBuffer | None:
    """This process's buffer of JSON log lines, or None when logging is text or not ours."""
    return _json_lines


def configure_logging(level: str, *, json: bool | None = None, buffer_lines: int = 10_000) -> None:
    """Send all logging to stdout at ``level`` (CODELISTS_LOG_LEVEL), replacing any setup.

    ``json`` defaults to "stdout is not a terminal"; JSON lines go through a ``LineBuffer`` of
    at most ``buffer_lines`` lines (CODELISTS_LOG_BUFFER_LINES). Raises ValueError for an
    unknown level.
    """
    global _json_lines
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    if json is None:
        json = not sys.stdout.isatty()
    handler: logging.Handler
    if json:
        sys.stdout.flush()  # what was printed before comes first
        _json_lines = LineBuffer(sys.stdout.fileno(), max_lines=buffer_lines)
        handler = BufferedJSONHandler(_json_lines)
        # The rest is written when the process ends: atexit in a main process, multiprocessing's
        # finalizers in a worker process that granian forked (it leaves by os._exit).
        atexit.register(_json_lines.close)
        multiprocessing.util.Finalize(None, _json_lines.close, exitpriority=100)
    else:
        _json_lines = None
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(Redact())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        if isinstance(old, BufferedJSONHandler):
            old.lines.close()  # writes what it still holds
    root.addHandler(handler)
    root.setLevel(numeric)
    # Servers' own access logs would repeat ours without the request id; the SQLite driver's
    # debug lines (one per statement, twice) drown everything else.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("aiosqlite").setLevel(max(numeric, logging.INFO))
