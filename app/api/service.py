"""Service endpoints: liveness, readiness (database reachable, migrations at head), API docs."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get
from litestar.enums import MediaType
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.response import Response

from app.api.dependencies import EngineDep
from app.api.errors import problem
from app.store.database import current_revision, head_revision

NO_STORE = {"Cache-Control": "no-store"}
_swagger = SwaggerRenderPlugin()


class Health(msgspec.Struct):
    status: str
    revision: str | None = None


@get("/health/live", tags=["service"], summary="The process is up")
async def live() -> Response[Health]:
    return Response(Health("live"), headers=NO_STORE)


@get("/health/ready", tags=["service"], summary="Database reachable and migrations at head")
async def ready(engine: EngineDep) -> Response[Health]:
    head = head_revision()
    try:
        async with engine.connect() as connection:
            revision = await current_revision(connection)
    except Exception as exc:  # noqa: BLE001 - whatever fails, the answer is "not ready"
        raise problem(503, f"The database is not reachable: {type(exc).__name__}") from None
    if revision != head:
        raise problem(
            503, f"Migrations are at {revision}, not at head {head}: run codelists migrate"
        )
    return Response(Health("ready", revision), headers=NO_STORE)


@get("/docs", media_type=MediaType.HTML, include_in_schema=False)
async def docs(request: Request[Any, Any, Any]) -> bytes:
    """The OpenAPI UI, reading /schema/openapi.json."""
    return _swagger.render(request, request.app.openapi_schema.to_schema())
