"""CORS for browsers: reads from any (or the configured) origin, with ``ETag`` exposed.

Written as a small ASGI middleware of our own rather than litestar's ``CORSConfig`` because it
must wrap the cached-answer fast path too, which runs in front of the framework, and because
litestar's middleware replaces an existing ``Vary`` header instead of adding ``Origin`` to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ALLOWED_METHODS = b"GET, HEAD, OPTIONS"
ALLOWED_HEADERS = b"Authorization, Content-Type, If-None-Match, If-Modified-Since"
EXPOSED_HEADERS = b"ETag, Last-Modified, Cache-Control, Content-Encoding"
PREFLIGHT_MAX_AGE = b"86400"


class CORSMiddleware:
    def __init__(self, app: Any, origins: Sequence[str]) -> None:
        self.app = app
        self.any_origin = "*" in origins
        self.origins = {origin.rstrip("/").encode() for origin in origins}

    def _allow_origin(self, origin: bytes) -> bytes | None:
        if self.any_origin:
            return b"*"
        return origin if origin in self.origins else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = preflight = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                preflight = value
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = self._allow_origin(origin)
        if scope["method"] == "OPTIONS" and preflight is not None:
            await self._preflight(allowed, send)
            return
        if allowed is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_cors(list(message.get("headers", [])), allowed)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, allowed: bytes | None, send: Any) -> None:
        headers: list[tuple[bytes, bytes]] = [(b"content-length", b"0")]
        if allowed is not None:
            headers += [
                (b"access-control-allow-origin", allowed),
                (b"access-control-allow-methods", ALLOWED_METHODS),
                (b"access-control-allow-headers", ALLOWED_HEADERS),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            ]
        if not self.any_origin:
            headers.append((b"vary", b"Origin"))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _with_cors(headers: list[tuple[bytes, bytes]], allowed: bytes) -> list[tuple[bytes, bytes]]:
    headers.append((b"access-control-allow-origin", allowed))
    headers.append((b"access-control-expose-headers", EXPOSED_HEADERS))
    if allowed != b"*":
        # The answer now depends on the Origin header: say so, next to any Vary already there.
        for index, (name, value) in enumerate(headers):
            if name.lower() == b"vary":
                headers[index] = (name, value + b", Origin")
                break
        else:
            headers.append((b"vary", b"Origin"))
    return headers
