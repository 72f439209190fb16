"""``Allow`` and ``OPTIONS`` from the route table (RFC 9110 section 10.2.1: ``Allow`` lists the
methods the target resource supports; section 9.3.7: ``OPTIONS`` asks for them).

Two faults of the framework's own answers, fixed here for every route at once:

- Litestar's automatic OPTIONS answer lists the methods a route had when that answer was made,
  so a route whose handlers come from more than one place loses some (``GET`` on
  ``/v1/admin/subscriptions``), and it runs the route's guards, so an OPTIONS without a token
  was refused with 401 and audited as a refusal. Which methods a path supports is no secret:
  it is in the OpenAPI document.
- No ``Allow`` names HEAD, though every GET route answers it (``app.http.head``).

CORS preflights (OPTIONS with ``Origin`` and ``Access-Control-Request-Method``) never get
here: ``app.http.cors`` answers them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# The order methods are listed in: the usual reading order, not an alphabet.
_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")


def allow_value(methods: Iterable[str]) -> bytes:
    """The ``Allow`` field value for ``methods``: HEAD added where GET is, OPTIONS always.

    >>> allow_value(["POST", "GET"])
    b'GET, HEAD, POST, OPTIONS'
    """
    named = {method.strip().upper() for method in methods if method.strip()} | {"OPTIONS"}
    if "GET" in named:
        named.add("HEAD")
    listed = [method for method in _ORDER if method in named]
    listed += sorted(named.difference(_ORDER))
    return ", ".join(listed).encode()


class RouteMethods:
    """The methods each path of the app supports, from its route templates.

    ``routes``: pairs of a litestar path template (``/v1/codelists/{key:str}``; a ``:path``
    parameter takes the rest of the path, slashes included) and its methods.
    """

    def __init__(self, routes: Iterable[tuple[str, Iterable[str]]]) -> None:
        self._exact: dict[str, bytes] = {}
        templated: list[tuple[int, re.Pattern[str], bytes]] = []
        for template, methods in routes:
            value = allow_value(methods)
            if "{" not in template:
                self._exact[template] = value
                continue
            pattern = re.compile(_PARAMETER.sub(_parameter_pattern, template) + "$")
            templated.append((template.count("{"), pattern, value))
        # A literal segment beats a parameter: fewer parameters are tried first.
        self._templated = [
            (pattern, value) for _, pattern, value in sorted(templated, key=lambda item: item[0])
        ]

    def allow(self, path: str) -> bytes | None:
        """The ``Allow`` value for ``path``, or None when no route takes it (a 404)."""
        if len(path) > 1:
            path = path.rstrip("/")  # litestar answers /console/ as /console
        found = self._exact.get(path)
        if found is not None:
            return found
        for pattern, value in self._templated:
            if pattern.match(path):
                return value
        return None


def _parameter_pattern(match: re.Match[str]) -> str:
    return ".+" if match.group(2) == "path" else "[^/]+"


class AllowMiddleware:
    """ASGI middleware: answers OPTIONS with 204 and the path's ``Allow``, and completes every
    ``Allow`` the app sends (a 405) with HEAD where GET is listed."""

    def __init__(self, app: Any, methods: RouteMethods) -> None:
        self.app = app
        self.methods = methods

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allow = self.methods.allow(scope["path"])
            if allow is not None:
                await send(
                    {"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]}
                )
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return

        async def send_with_full_allow(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if any(name.lower() == b"allow" for name, _ in headers):
                    message["headers"] = [
                        (name, allow_value(value.decode("latin-1").split(",")))
                        if name.lower() == b"allow"
                        else (name, value)
                        for name, value in headers
                    ]
            await send(message)

        await self.app(scope, receive, send_with_full_allow)
