"""Sync endpoints: the change feed (with long-polling) and the full export."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter

from app.api.auth import SYNC_SCOPES, sync_access
from app.api.dependencies import AnswersDep, CatalogDep, EngineDep
from app.api.params import MAX_POSITION, integer_query
from app.domain.documents import LIST_KEY_PATTERN
from app.domain.errors import BadParameter
from app.http.answer import Answer
from app.http.raw import RawResponse
from app.reads.answers import EPOCH
from app.store import feed
from app.store.export import CsvDialect, csv_bytes, export
from app.wire import ChangesPage, Export

MAX_LIMIT = 5000
MAX_WAIT = 30
NO_STORE = {"Cache-Control": "no-store"}


ChangesOut = ChangesPage[msgspec.Raw]  # values passed through as stored


@get("/v1/changes", tags=["sync"], summary="The change feed, by cursor", guards=[sync_access])
async def changes(
    engine: EngineDep,
    catalog: CatalogDep,
    after: Annotated[
        int, integer_query(0, MAX_POSITION, description="Entries with seq > after.")
    ] = 0,
    limit: Annotated[int, integer_query(1, MAX_LIMIT)] = 500,
    list_key: Annotated[
        str | None,
        QueryParameter(
            name="list", pattern=LIST_KEY_PATTERN, max_length=64, description="One list only."
        ),
    ] = None,
    wait: Annotated[
        float,
        QueryParameter(ge=0, le=MAX_WAIT, description="Seconds to wait for a publish if none."),
    ] = 0,
) -> Response[ChangesOut]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        published = catalog.next_publish()  # before reading: no publish slips by
        async with engine.connect() as connection:
            entries, has_more = await feed.page(
                connection, after=after, limit=limit, list_key=list_key
            )
        remaining = deadline - loop.time()
        if entries or remaining <= 0:
            break
        with contextlib.suppress(TimeoutError):  # not wait_for: see app/workers/webhooks.py
            async with asyncio.timeout(remaining):
                await published.wait()
    next_after = entries[-1].seq if entries else after
    return Response(
        ChangesOut(changes=entries, next_after=next_after, has_more=has_more), headers=NO_STORE
    )


@get(
    "/v1/export",
    tags=["sync"],
    summary="Every list with every value and its history, and the feed position to go on from",
    guards=[sync_access],
    responses={
        200: ResponseSpec(
            data_container=Export, description="JSON, or CSV", generate_examples=False
        ),
        304: ResponseSpec(None, description="Not modified (If-None-Match/If-Modified-Since)"),
    },
    description=(
        "`format=csv`: one row per value with a `list` column (RFC 4180: UTF-8, commas). "
        "`format=csv&dialect=excel`: the same for spreadsheets: UTF-8 with a byte-order mark, "
        "semicolons, and cells beginning with `=`, `+`, `-`, `@`, tab or carriage return "
        "prefixed with `'` so they are never evaluated."
    ),
)
async def export_all(
    request: Request[Any, Any, Any],
    engine: EngineDep,
    answers: AnswersDep,
    format: Annotated[
        Literal["json", "csv"], QueryParameter(description="csv: one row per value")
    ] = "json",
    dialect: Annotated[
        CsvDialect | None,
        QueryParameter(
            description="With format=csv: rfc4180 (the default) or excel (BOM, semicolons, "
            "formula-like cells made inert)."
        ),
    ] = None,
) -> RawResponse:
    if dialect is not None and format != "csv":
        raise BadParameter("dialect", "dialect applies to format=csv only")

    async def build(_: object) -> Answer:
        data = await export(engine)
        published = max((item.published_at for item in data.codelists), default=EPOCH)
        depends_on = [item.key for item in data.codelists]
        if format == "csv":
            return Answer(
                csv_bytes(data, dialect or "rfc4180"),
                last_modified=published,
                media_type=b"text/csv; charset=utf-8",
                lists=depends_on,
                index=True,
            )
        return Answer(
            msgspec.json.encode(data), last_modified=published, lists=depends_on, index=True
        )

    # Keyed by the publish generation like every read: repeated exports cost nothing.
    return await answers.serve(request.scope, build, scopes=SYNC_SCOPES)
