"""HEAD wherever GET is answered (RFC 9110 section 9.1: general-purpose servers MUST support
GET and HEAD; section 9.3.2: HEAD is GET without content).

Litestar answers HEAD only on routes that list it and 405 on the rest (its own OpenAPI and
Swagger routes among them). Rather than list HEAD on every route and trust every future route
to do the same, this runs every HEAD as the GET it stands for and sends the GET's status and
header fields, ``Content-Length`` included, with no content.
"""

from __future__ import annotations

from typing import Any


class HeadAsGet:
    """ASGI middleware: a HEAD request reaches ``app`` as a GET; the answer's body is dropped.

    The scope passed on is a copy, so middleware outside this one (the access log) still sees
    HEAD.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_content(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the last body message alone ends the answer
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_content)
