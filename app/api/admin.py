"""Admin endpoints: submit a change set (JSON or YAML), see its plan, publish it, list them."""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any, cast
from urllib.parse import quote

import msgspec
from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.api.auth import admin_access, principal_of, review_access
from app.api.bodies import INVALID_BODY, YAML_TYPES
from app.api.dependencies import CatalogDep, ClockDep, EngineDep, ReviewDep
from app.api.errors import DECIDE, DENIED
from app.api.openapi import BODY, PROBLEMS
from app.api.params import PathChangeSetId, integer_query
from app.domain.documents import (
    CHANGESET_ID_PATTERN,
    MAX_DOCUMENT_BYTES,
    parse_document,
)
from app.domain.errors import InvalidDocument
from app.store import changesets
from app.store.changesets import STATUSES, ChangeSetFacts, ChangeSetRecord, Status
from app.store.publish import ChangeSetNotFound, publish, submit

JSON_TYPES = frozenset({"application/json", ""})
# Room for a 5 MiB document and then some, so an oversized one gets a precise 422, not a 413.
MAX_BODY = 2 * MAX_DOCUMENT_BYTES

AnyRequest = Request[Any, Any, Any]
_ID = re.compile(CHANGESET_ID_PATTERN)


def _well_formed(changeset_id: str) -> str:
    # An id no change set can have is not looked up: the database cannot even compare a NUL.
    if not _ID.match(changeset_id):
        raise ChangeSetNotFound(changeset_id)
    return changeset_id


class ChangeSetOut(ChangeSetFacts, kw_only=True):
    """A change set as the admin endpoints answer it."""

    @classmethod
    def of(cls, record: ChangeSetRecord) -> ChangeSetOut:
        """``record`` without what only the store needs (base versions, content hash)."""
        return msgspec.convert(record, cls, from_attributes=True)


class PublishedOut(msgspec.Struct, kw_only=True):
    id: str
    status: Status
    versions: dict[str, int]
    seq: int


class ChangeSetsOut(msgspec.Struct):
    changesets: list[ChangeSetOut]


# The submit operation reads its body itself (JSON or YAML); the document's schema is made from
# the structs the server decodes it with (app/api/openapi_schemas.py).
_DOCUMENT_BODY = {
    "required": True,
    "content": {
        media_type: {"schema": {"$ref": "#/components/schemas/ChangeSetDocument"}}
        for media_type in ("application/json", "application/yaml")
    },
}


async def _answer(
    record: ChangeSetRecord, status: int, headers: dict[str, str] | None = None
) -> Response[ChangeSetOut]:
    """``record`` as a ``ChangeSetOut`` answer, encoded on a worker thread: the plan of a big
    change set is megabytes of JSON (issue 21). litestar sends bytes as they are."""
    body = await to_thread.run_sync(lambda: msgspec.json.encode(ChangeSetOut.of(record)))
    encoded = Response(body, status_code=status, headers=headers, media_type="application/json")
    return cast("Response[ChangeSetOut]", encoded)


def _author(request: AnyRequest) -> str:
    owner = principal_of(request)
    return owner.name if owner is not None else "unknown"


StatusFilter = Annotated[
    Status | None,
    QueryParameter(name="status", description=f"Only change sets in this status: {STATUSES}."),
]


class ChangeSetController(Controller):
    path = "/v1/admin/changesets"
    tags = ["admin"]

    @post(
        "/",
        guards=[admin_access],
        summary="Submit a change set (JSON or YAML); ?publish=true publishes it too",
        request_max_body_size=MAX_BODY,
        status_code=HTTP_201_CREATED,
        opt={INVALID_BODY: InvalidDocument, PROBLEMS: (409, 415, 422), BODY: _DOCUMENT_BODY},
        responses={
            200: ResponseSpec(
                ChangeSetOut,
                description="The same id and content again: the stored change set",
                generate_examples=False,
            )
        },
        raises=DECIDE,
    )
    async def create(
        self,
        request: AnyRequest,
        engine: EngineDep,
        clock: ClockDep,
        catalog: CatalogDep,
        review: ReviewDep,
        publish_now: Annotated[
            bool, QueryParameter(name="publish", description="Plan and publish in one go.")
        ] = False,
    ) -> Response[ChangeSetOut]:
        media_type = request.content_type[0]  # without parameters, lower case
        if media_type not in YAML_TYPES | JSON_TYPES:
            raise HTTPException(
                status_code=415,
                detail=f"Send the change set as application/json or application/yaml, "
                f"not {media_type}.",
            )
        raw = await request.body()
        # Seconds for a document of megabytes: off the event loop, which keeps serving reads.
        parse = partial(parse_document, raw, yaml=media_type in YAML_TYPES)
        document = await to_thread.run_sync(parse)
        outcome = await submit(
            engine,
            document,
            author=_author(request),
            now=clock.now(),
            publish=publish_now,
            require_approval=review.require_approval,
            document_bytes=len(raw),
        )
        if publish_now:
            await catalog.refresh()
        if not outcome.created:
            return await _answer(outcome.record, HTTP_200_OK)
        # RFC 9110 section 15.3.2: a 201 names the resource it created.
        location = f"{self.path}/{quote(outcome.record.id, safe='')}"
        return await _answer(outcome.record, HTTP_201_CREATED, {"Location": location})

    @get(
        "/",
        summary="All change sets, newest first; ?status= filters",
        guards=[review_access],
        raises=DENIED,
    )
    async def index(
        self,
        engine: EngineDep,
        status: StatusFilter = None,
        limit: Annotated[int, integer_query(1, 1000)] = 100,
    ) -> ChangeSetsOut:
        async with engine.connect() as connection:
            records = await changesets.newest_first(connection, limit=limit, status=status)
        return ChangeSetsOut([ChangeSetOut.of(record) for record in records])

    @get(
        "/{changeset_id:str}",
        summary="One change set with its plan",
        guards=[review_access],
        raises=[*DENIED, NotFoundException],
    )
    async def detail(self, engine: EngineDep, changeset_id: PathChangeSetId) -> ChangeSetOut:
        async with engine.connect() as connection:
            record = await changesets.get(connection, _well_formed(changeset_id))
        if record is None:
            raise ChangeSetNotFound(changeset_id)
        return ChangeSetOut.of(record)

    @post(
        "/{changeset_id:str}/publish",
        summary="Publish a change set now (409 if its lists moved on since planning, if it "
        "needs approval, or if it was rejected or failed)",
        status_code=HTTP_200_OK,
        opt={PROBLEMS: (409,)},
        guards=[admin_access],
        raises=DECIDE,
    )
    async def publish(
        self,
        request: AnyRequest,
        engine: EngineDep,
        clock: ClockDep,
        catalog: CatalogDep,
        review: ReviewDep,
        changeset_id: PathChangeSetId,
    ) -> PublishedOut:
        record = await publish(
            engine,
            _well_formed(changeset_id),
            now=clock.now(),
            actor=_author(request),
            require_approval=review.require_approval,
        )
        await catalog.refresh()
        return PublishedOut(
            id=record.id, status=record.status, versions=record.versions or {}, seq=record.seq or 0
        )
