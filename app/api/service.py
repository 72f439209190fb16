"""Service endpoints: liveness and readiness (database reachable, migrations at head)."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.response import Response

from app.api.dependencies import EngineDep
from app.api.errors import problem
from app.store.database import current_revision, head_revision

NO_STORE = {"Cache-Control": "no-store"}
# Like every other 503 of the API (app/api/errors.py): when to ask again, in seconds.
RETRY_AFTER = {"Retry-After": "5"}


class Health(msgspec.Struct):
    status: str
    revision: str | None = None


@get("/health/live", tags=["service"], summary="The process is up")
async def live() -> Response[Health]:
    return Response(Health("live"), headers=NO_STORE)


@get(
    "/health/ready",
    tags=["service"],
    summary="Database reachable and migrations at head",
)
async def ready(engine: EngineDep) -> Response[Health]:
    head = head_revision()
    try:
        async with engine.connect() as connection:
            revision = await current_revision(connection)
    except Exception as exc:  # noqa: BLE001 - whatever fails, the answer is "not ready"
        raise problem(
            503, f"The database is not reachable: {type(exc).__name__}", headers=RETRY_AFTER
        ) from None
    if revision != head:
        raise problem(
            503,
            f"Migrations are at {revision}, not at head {head}: run codelists migrate",
            headers=RETRY_AFTER,
        )
    return Response(Health("ready", revision), headers=NO_STORE)
