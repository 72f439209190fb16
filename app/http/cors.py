"""CORS for browsers: reads from any (or the configured) origin, with ``ETag`` exposed.

Written as a small ASGI middleware of our own rather than litestar's ``CORSConfig`` because the
cached-answer fast path, which runs in front of the framework, must add the very same headers,
and because litestar's middleware replaces an existing ``Vary`` header instead of adding
``Origin`` to it.

Shared caches store one answer for every requester, so the CORS headers may not depend on
whether the request that filled the cache had an ``Origin`` (api.md "HTTP caching"): with the
default ``*`` every answer carries ``Access-Control-Allow-Origin: *``; with an allow-list every
answer carries ``Vary: Origin``, so a cache keeps one answer per origin.

Administration is never cross-origin (api.md "CORS", console.md): answers under ``/v1/admin``
(change sets, review, tokens' names, the audit log, subscriptions) carry no CORS header at all,
and a preflight to them is answered without any ``Access-Control-Allow-*``, whatever method
and headers it asks for. A page on another origin holding a token can then neither send an
admin request with it (the preflight ``Authorization`` needs fails) nor read an admin answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.http.conditional import ASGIHeaders

ALLOWED_METHODS = b"GET, HEAD, OPTIONS"
ALLOWED_HEADERS = b"Authorization, Content-Type, If-None-Match, If-Modified-Since"
EXPOSED_HEADERS = b"ETag, Last-Modified, Cache-Control, Content-Encoding"
PREFLIGHT_MAX_AGE = b"86400"
# The first two segments of every path that is never shared with another origin.
CLOSED_PREFIX = ("v1", "admin")


def closed(path: str) -> bool:
    """True for a path under ``/v1/admin``, however it is spelled: empty and ``.`` segments
    are skipped and ``..`` resolved, as a proxy in front might normalise them."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
            if len(segments) >= len(CLOSED_PREFIX) and segments[:2] == list(CLOSED_PREFIX):
                return True
    return False


class CORSPolicy:
    """Which origins may read, and the headers that says on an answer.

    ``origins`` are origins such as ``https://app.example`` (a trailing slash is ignored), or
    ``*`` for any origin.
    """

    def __init__(self, origins: Sequence[str]) -> None:
        self.any_origin = "*" in origins
        self.origins = frozenset(origin.rstrip("/").encode() for origin in origins)
        self._any = (
            (b"access-control-allow-origin", b"*"),
            (b"access-control-expose-headers", EXPOSED_HEADERS),
        )

    def allowed(self, origin: bytes | None) -> bytes | None:
        """The ``Access-Control-Allow-Origin`` value for a request from ``origin``, if any."""
        if self.any_origin:
            return b"*"
        return origin if origin is not None and origin in self.origins else None

    def apply(self, headers: ASGIHeaders, request_headers: ASGIHeaders) -> ASGIHeaders:
        """Add the CORS headers of an answer to ``headers`` (changed in place and returned)."""
        if self.any_origin:
            headers.extend(self._any)
            return headers
        origin = next((value for name, value in request_headers if name == b"origin"), None)
        if origin is not None and origin in self.origins:
            headers.append((b"access-control-allow-origin", origin))
            headers.append((b"access-control-expose-headers", EXPOSED_HEADERS))
        return add_vary(headers, b"Origin")


def add_vary(headers: ASGIHeaders, field: bytes) -> ASGIHeaders:
    """Name ``field`` in the answer's ``Vary``, next to any field already named there."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            named = {part.strip().lower() for part in value.split(b",")}
            if field.lower() not in named and b"*" not in named:
                headers[index] = (name, value + b", " + field)
            return headers
    headers.append((b"vary", field))
    return headers


class CORSMiddleware:
    """ASGI middleware: answers preflights and adds the CORS headers to every answer but those
    of closed paths (``closed``), which get none."""

    def __init__(self, app: Any, policy: CORSPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = scope["headers"]
        shut = closed(scope["path"])
        if scope["method"] == "OPTIONS":
            origin = preflight = None
            for name, value in request_headers:
                if name == b"origin":
                    origin = value
                elif name == b"access-control-request-method":
                    preflight = value
            if origin is not None and preflight is not None:
                await self._preflight(None if shut else self.policy.allowed(origin), shut, send)
                return
        if shut:
            await self.app(scope, receive, send)
            return
        policy = self.policy

        async def send_with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = policy.apply(list(message.get("headers", [])), request_headers)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, allowed: bytes | None, shut: bool, send: Any) -> None:
        """A preflight's answer: 204, granting what the policy allows (nothing when
        ``allowed`` is None); a closed path's never depends on the origin, so no ``Vary``."""
        headers: ASGIHeaders = [(b"content-length", b"0")]
        if allowed is not None:
            headers += [
                (b"access-control-allow-origin", allowed),
                (b"access-control-allow-methods", ALLOWED_METHODS),
                (b"access-control-allow-headers", ALLOWED_HEADERS),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            ]
        if not self.policy.any_origin and not shut:
            headers.append((b"vary", b"Origin"))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
