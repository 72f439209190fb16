"""Protective headers: ``nosniff`` on every answer, and a page's headers on every HTML page.

Every answer carries ``X-Content-Type-Options: nosniff``, so a browser never reads a JSON or
text answer as a script, style or page (the Fetch standard's "should response to request be
blocked due to nosniff"). Every HTML page (the console, ``/components/``, ``/docs``) carries
as well a Content-Security-Policy that allows scripts only from this origin (no inline script,
no ``eval``) and no framing (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for
older browsers), and ``Referrer-Policy: no-referrer`` (api.md "Security headers").

Answers of the fast path get their headers from the ``Answer`` itself, made once with it
(``protective_headers``); ``SecurityHeaders`` adds them to the framework's answers, keeping a
page's own stricter or looser CSP where a handler set one (``/docs`` needs inline styles).
"""

from __future__ import annotations

from typing import Any

Header = tuple[bytes, bytes]
ASGIHeaders = list[Header]

NOSNIFF: Header = (b"x-content-type-options", b"nosniff")
# The policy of a page that needs nothing from another origin and nothing inline.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def page_headers(csp: str = PAGE_CSP) -> tuple[Header, ...]:
    """The headers of an HTML page whose Content-Security-Policy is ``csp``."""
    return (
        (b"content-security-policy", csp.encode()),
        NOSNIFF,
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    )


PAGE_HEADERS = page_headers()
API_HEADERS: tuple[Header, ...] = (NOSNIFF,)


def protective_headers(media_type: bytes) -> tuple[Header, ...]:
    """The protective headers of an answer of ``media_type`` (a Content-Type value)."""
    return PAGE_HEADERS if media_type.lower().startswith(b"text/html") else API_HEADERS


def complete(headers: ASGIHeaders) -> ASGIHeaders:
    """``headers`` (changed in place and returned) with the protective headers an answer of
    its Content-Type needs and does not have yet."""
    present = set()
    media_type = b""
    for name, value in headers:
        lowered = name.lower()
        present.add(lowered)
        if lowered == b"content-type":
            media_type = value
    for header in protective_headers(media_type):
        if header[0] not in present:
            headers.append(header)
    return headers


class SecurityHeaders:
    """ASGI middleware: every answer of the app it wraps gets its protective headers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_protected(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = complete(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_protected)
