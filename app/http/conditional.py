"""Conditional GET, content coding and cache headers for an ``Answer`` (api.md "HTTP caching").

Works on raw ASGI headers so the same code serves the handlers and the fast path in front of
the framework: a cached answer gets exactly the headers, 304s and codings a fresh one does.
"""

from __future__ import annotations

import math
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

from app.http.answer import Answer, Coding

IMMUTABLE = b"public, max-age=31536000, immutable"
VARY = (b"vary", b"Accept-Encoding")
ASGIHeaders = list[tuple[bytes, bytes]]


@lru_cache(maxsize=512)
def negotiate(accept_encoding: bytes) -> Coding:
    """The best coding the client accepts: brotli, then gzip, else identity."""
    accepted: dict[str, float] = {}
    for part in accept_encoding.decode("latin-1").split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        accepted[name.strip().lower()] = quality

    def ok(coding: str) -> bool:
        return accepted.get(coding, accepted.get("*", 0.0)) > 0

    if ok("br"):
        return "br"
    if ok("gzip"):
        return "gzip"
    return "identity"


def _etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110 §13.1.2: weak comparison; ``*`` matches any current representation."""
    for tag in if_none_match.split(b","):
        tag = tag.strip()
        if tag == b"*" or tag.removeprefix(b"W/") == etag:
            return True
    return False


def _not_modified_since(if_modified_since: bytes, answer: Answer) -> bool:
    try:
        since = parsedate_to_datetime(if_modified_since.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False  # not an HTTP-date (which is always GMT): ignore, as RFC 9110 says
    return answer.last_modified <= since


def cache_control(answer: Answer, now: datetime, max_age: int) -> bytes:
    if answer.immutable:
        return IMMUTABLE
    seconds = max_age
    if answer.changes_at is not None:
        seconds = max(0, min(seconds, math.ceil((answer.changes_at - now).total_seconds())))
    return f"public, max-age={seconds}, stale-while-revalidate=60, stale-if-error=86400".encode()


def respond(
    answer: Answer, request_headers: ASGIHeaders, *, now: datetime, max_age: int
) -> tuple[int, ASGIHeaders, bytes]:
    """Status, headers and body for a GET of ``answer`` (the caller drops the body for HEAD)."""
    accept_encoding = if_none_match = if_modified_since = None
    for name, value in request_headers:
        if name == b"accept-encoding":
            accept_encoding = value
        elif name == b"if-none-match":
            if_none_match = value
        elif name == b"if-modified-since":
            if_modified_since = value
    coding: Coding = (
        negotiate(accept_encoding) if accept_encoding and answer.compressible() else "identity"
    )
    body, etag = answer.representation(coding)
    headers: ASGIHeaders = [
        (b"etag", etag),
        (b"last-modified", answer.last_modified_header),
        (b"cache-control", cache_control(answer, now, max_age)),
        VARY,
    ]
    if if_none_match is not None:
        not_modified = _etag_matches(if_none_match, etag)
    else:
        not_modified = if_modified_since is not None and _not_modified_since(
            if_modified_since, answer
        )
    if not_modified:
        return 304, headers, b""
    headers.append((b"content-type", answer.media_type))
    headers.append((b"content-length", str(len(body)).encode()))
    if coding != "identity":
        headers.append((b"content-encoding", coding.encode()))
    return 200, headers, body
