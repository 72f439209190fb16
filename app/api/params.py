"""Query parameters shared by the read endpoints, and the route decorator for cacheable reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from litestar import route
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter

from app.services import Services

# The process's services, injected into every handler that needs them.
ServicesDep = NamedDependency[Services]
PathKey = FromPath[str]
PathCode = FromPath[str]

At = Annotated[
    date | None,
    QueryParameter(
        description="Evaluate states on this date (YYYY-MM-DD). Default: today in the service's "
        "time zone."
    ),
]
Version = Annotated[
    int | None,
    QueryParameter(
        ge=1, le=2**31 - 1, description="The published version to read. Default: latest."
    ),
]
Code = Annotated[str, QueryParameter(min_length=1, max_length=64)]


def read_route(path: str, answer: type[Any], summary: str) -> Callable[[Any], Any]:
    """A GET and HEAD route whose 200 answer is ``answer``, served with cache headers."""
    return route(
        path,
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        summary=summary,
        responses={
            200: ResponseSpec(data_container=answer, description="OK"),
            304: ResponseSpec(None, description="Not modified (If-None-Match/If-Modified-Since)"),
        },
    )
