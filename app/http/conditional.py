"""Conditional GET, content coding and cache headers for an ``Answer`` (api.md "HTTP caching").

Works on raw ASGI headers so the same code serves the handlers and the fast path in front of
the framework: a cached answer gets exactly the headers, 304s and codings a fresh one does.
A 304 carries the same ETag, Cache-Control, Vary, Last-Modified and Surrogate-Key as the 200
would (RFC 9110 §15.4.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from app.http.answer import Answer, Coding
from app.http.dates import parse_http_date
from app.http.negotiation import negotiate

__all__ = ["CachePolicy", "cache_control", "negotiate", "respond", "seconds_until"]

ONE_YEAR = 31536000
VARY = (b"vary", b"Accept-Encoding")
ASGIHeaders = list[tuple[bytes, bytes]]
# Past its freshness a cache may serve an answer while it revalidates, or while we are down.
_STALE = "stale-while-revalidate=60, stale-if-error=86400"


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How long caches may keep answers (settings CODELISTS_MAX_AGE, CODELISTS_SHARED_MAX_AGE,
    CODELISTS_PUBLIC_READ).

    ``max_age`` and ``shared_max_age`` are seconds. ``public`` is False when reads need a
    token: answers are then ``private`` and carry neither ``s-maxage`` nor ``Surrogate-Key``
    (api.md "HTTP caching", "Shared caches and CDNs").
    """

    max_age: int = 300
    shared_max_age: int | None = None
    public: bool = True


def seconds_until(moment: datetime, now: datetime) -> int:
    """Elapsed whole seconds from ``now`` until ``moment`` (both aware), never negative.

    Subtracted in UTC: two datetimes sharing one tzinfo object subtract as wall-clock times,
    which is an hour off across a daylight-saving change. Rounded down, so a cache told this
    many seconds never keeps an answer past ``moment``.
    """
    elapsed = (moment.astimezone(UTC) - now.astimezone(UTC)).total_seconds()
    return max(0, math.floor(elapsed))


def cache_control(answer: Answer, now: datetime, policy: CachePolicy) -> bytes:
    """The ``Cache-Control`` value for ``answer`` at ``now``.

    ``max-age`` (and ``s-maxage``, when configured and public) never reach past the answer's
    next state change; an immutable answer is kept a year by browsers and ``shared_max_age``
    by shared caches.
    """
    visibility = "public" if policy.public else "private"
    shared = policy.shared_max_age if policy.public else None
    if answer.immutable:
        shared_part = "" if shared is None else f", s-maxage={shared}"
        return f"{visibility}, max-age={ONE_YEAR}{shared_part}, immutable".encode()
    seconds = policy.max_age
    if answer.changes_at is not None:
        left = seconds_until(answer.changes_at, now)
        seconds = min(seconds, left)
        shared = None if shared is None else min(shared, left)
    shared_part = "" if shared is None else f", s-maxage={shared}"
    return f"{visibility}, max-age={seconds}{shared_part}, {_STALE}".encode()


def _etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110 §13.1.2: weak comparison; ``*`` matches any current representation."""
    for tag in if_none_match.split(b","):
        tag = tag.strip()
        if tag == b"*" or tag.removeprefix(b"W/") == etag:
            return True
    return False


def _not_modified_since(if_modified_since: bytes, answer: Answer, now: datetime) -> bool:
    """RFC 9110 §13.1.3: not modified when Last-Modified is not after the given HTTP-date.

    A value that is not an HTTP-date in one of the three forms of §5.6.7 is ignored.
    """
    since = parse_http_date(if_modified_since, now=now)
    return since is not None and answer.last_modified <= since


def respond(
    answer: Answer, request_headers: ASGIHeaders, *, now: datetime, policy: CachePolicy
) -> tuple[int, ASGIHeaders, bytes]:
    """Status, headers and body for a GET of ``answer`` (the caller drops the body for HEAD)."""
    accept_encoding = if_none_match = if_modified_since = None
    for name, value in request_headers:
        # Lists given on several field lines are one list (RFC 9110 §5.3).
        if name == b"accept-encoding":
            accept_encoding = value if accept_encoding is None else accept_encoding + b"," + value
        elif name == b"if-none-match":
            if_none_match = value if if_none_match is None else if_none_match + b"," + value
        elif name == b"if-modified-since":
            # Not a list: two lines are two members, which RFC 9110 §13.1.3 says to ignore.
            if_modified_since = value if if_modified_since is None else b"?"
    coding: Coding = (
        negotiate(accept_encoding) if accept_encoding and answer.compressible() else "identity"
    )
    body, etag = answer.representation(coding)
    headers: ASGIHeaders = [
        (b"etag", etag),
        (b"last-modified", answer.last_modified_header),
        (b"cache-control", cache_control(answer, now, policy)),
        VARY,
    ]
    if policy.public:
        headers.append((b"surrogate-key", answer.surrogate_key))
    if if_none_match is not None:
        not_modified = _etag_matches(if_none_match, etag)
    else:
        not_modified = if_modified_since is not None and _not_modified_since(
            if_modified_since, answer, now
        )
    if not_modified:
        return 304, headers, b""
    headers.append((b"content-type", answer.media_type))
    headers.append((b"content-length", str(len(body)).encode()))
    if coding != "identity":
        headers.append((b"content-encoding", coding.encode()))
    return 200, headers, body
