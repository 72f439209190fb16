"""Parameters shared by the endpoints, and the one read-handler helper.

Path parameters carry their form into the OpenAPI document, integer query parameters their exact
bounds (``integer_query``), and every URL the document allows fits the HTTP server's limit
(``MAX_REQUEST_TARGET``).

Every one-list read takes the list key, ``at`` and ``version`` (api.md "Time and validity") and
is answered through the answer cache; ``ListRead`` bundles the three with the request, so a
read handler is one line: ``return await read.serve(reads.options)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import PathParameter, QueryParameter

from app.api.dependencies import AnswersDep
from app.domain.documents import CHANGESET_ID_PATTERN, LIST_KEY_PATTERN
from app.http.answer import Answer
from app.http.raw import RawResponse
from app.reads.answers import ReadQuery


def path_parameter(**schema: Any) -> PathParameter:
    """A path parameter whose ``schema`` (pattern, lengths) is written into the OpenAPI document
    only: a value outside it names nothing, and is answered 404 like any other unknown name."""
    return PathParameter(schema_extra=schema)


PathKey = Annotated[str, path_parameter(pattern=LIST_KEY_PATTERN, max_length=64)]
PathCode = Annotated[str, path_parameter(min_length=1, max_length=64)]
PathChangeSetId = Annotated[str, path_parameter(pattern=CHANGESET_ID_PATTERN, max_length=100)]

# Granian (hyper) answers a request whose request target (path and query) is longer than this
# many bytes with 414 and no body, before the app sees it (measured by tests/api/test_openapi.py).
# The longest URL the OpenAPI document allows stays well under it.
MAX_REQUEST_TARGET = 65534

MAX_VERSION = 2**31 - 1
# Feed and audit positions (``seq``) stop at the largest integer a JSON number carries exactly
# in every client (JavaScript's Number.MAX_SAFE_INTEGER); no sequence gets near it.
MAX_POSITION = 2**53 - 1


def integer_query(low: int, high: int, **options: Any) -> QueryParameter:
    """A query parameter taking the integers ``low`` to ``high``, with those exact bounds in
    the OpenAPI document.

    Litestar writes bounds into the document as floats, which for large ones names another
    number than the server checks (2**63 - 1 becomes 2**63), and leaves out a bound of 0 on a
    parameter that may be absent; ``schema_extra`` writes them as given.
    """
    return QueryParameter(
        ge=low, le=high, schema_extra={"minimum": low, "maximum": high}, **options
    )


At = Annotated[
    date | None,
    QueryParameter(
        description="Evaluate states on this date (YYYY-MM-DD). Default: today in the service's "
        "time zone."
    ),
]
Version = Annotated[
    int | None,
    integer_query(1, MAX_VERSION, description="The published version to read. Default: latest."),
]
Code = Annotated[str, QueryParameter(min_length=1, max_length=64)]


class ListRead:
    """One read of one list, ready to be answered from the answer cache.

    ``serve(build)`` answers with the cached answer for this request (same publish generation,
    day, path and query) or builds one with ``build(ReadQuery)`` for today and caches it.
    """

    __slots__ = ("answers", "at", "key", "scope", "version")

    def __init__(
        self, scope: Any, answers: AnswersDep, key: str, at: date | None, version: int | None
    ) -> None:
        self.scope = scope
        self.answers = answers
        self.key = key
        self.at = at
        self.version = version

    async def serve(self, build: Callable[[ReadQuery], Awaitable[Answer]]) -> RawResponse:
        def query(today: date) -> Awaitable[Answer]:
            return build(ReadQuery(self.key, today, self.at, self.version))

        return await self.answers.serve(self.scope, query)


ListReadDep = NamedDependency[ListRead]  # "read"


async def provide_list_read(
    request: Request[Any, Any, Any],
    answers: AnswersDep,
    key: PathKey,
    at: At = None,
    version: Version = None,
) -> ListRead:
    """The ``read`` dependency of every ``/v1/codelists/{key}/...`` read handler."""
    return ListRead(request.scope, answers, key, at, version)


async def provide_list_read_at(
    request: Request[Any, Any, Any], answers: AnswersDep, key: PathKey, at: At = None
) -> ListRead:
    """The ``read`` dependency of a read that takes no ``version`` (``diff``: from/to)."""
    return ListRead(request.scope, answers, key, at, None)


def read_route(path: str, answer: type[Any], summary: str, **options: Any) -> Callable[[Any], Any]:
    """A GET route whose 200 answer is ``answer``, served with cache headers (HEAD too, by
    app/http/head.py)."""
    return get(
        path,
        summary=summary,
        **options,
        responses={
            200: ResponseSpec(data_container=answer, description="OK", generate_examples=False),
            304: ResponseSpec(None, description="Not modified (If-None-Match/If-Modified-Since)"),
        },
    )
