"""Read endpoints: lists, drop-down options, values with history, validation, versions, diffs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import Provide
from litestar.params import JSONBody, QueryParameter

from app.api.auth import read_access
from app.api.dependencies import AnswersDep, ClockDep, ReadsDep
from app.api.params import (
    MAX_VERSION,
    At,
    Code,
    ListReadDep,
    PathCode,
    Version,
    integer_query,
    provide_list_read,
    provide_list_read_at,
    read_route,
)
from app.http.raw import RawResponse
from app.reads.answers import MAX_INCLUDE, ValidationItem
from app.reads.schemas import (
    CodeListOut,
    CodeListsOut,
    DiffOut,
    OptionsOut,
    ValidationOut,
    ValidationsOut,
    ValueDetailOut,
    VersionsOut,
)

MAX_VALIDATION_ITEMS = 1000

AnyRequest = Request[Any, Any, Any]


class ValidationRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    items: Annotated[list[ValidationItem], msgspec.Meta(max_length=MAX_VALIDATION_ITEMS)]


# At most MAX_INCLUDE codes; and at most 5000 characters, so that the longest options URL the
# document allows (every character 4 UTF-8 bytes, percent-encoded: 12 bytes; q, at and version
# at their longest too) stays kilobytes under MAX_REQUEST_TARGET, granian's 414 limit.
MAX_INCLUDE_CHARS = 5000
Include = Annotated[
    str | None,
    QueryParameter(
        max_length=MAX_INCLUDE_CHARS,
        description="Comma-separated codes to include whatever their state (a stored value an "
        f"edit form must show): at most {MAX_INCLUDE} codes and {MAX_INCLUDE_CHARS} characters.",
    ),
]
Search = Annotated[
    str | None,
    QueryParameter(max_length=200, description="Keep options whose code or name contains this."),
]
FromVersion = Annotated[
    int | None,
    integer_query(
        1,
        MAX_VERSION,
        name="from",
        description="The version to compare with, 1 to `to`. Default: `to` - 1 (1 when `to` is 1).",
    ),
]
ToVersion = Annotated[
    int | None, integer_query(1, MAX_VERSION, name="to", description="Default: latest.")
]


class CodeListController(Controller):
    """The one-list reads of api.md "Read endpoints"; each answer comes from ``ListRead``."""

    path = "/v1/codelists"
    tags = ["read"]
    guards = [read_access]
    dependencies = {"read": Provide(provide_list_read)}

    @read_route("/", CodeListsOut, "Every code list with its latest version")
    async def index(
        self, request: AnyRequest, answers: AnswersDep, reads: ReadsDep, at: At = None
    ) -> RawResponse:
        return await answers.serve(request.scope, lambda today: reads.codelists(today=today, at=at))

    @read_route("/{key:str}", CodeListOut, "A list with every value, whatever its state")
    async def codelist(self, read: ListReadDep, reads: ReadsDep) -> RawResponse:
        return await read.serve(reads.codelist)

    @read_route("/{key:str}/options", OptionsOut, "The selectable values, for a drop-down")
    async def options(
        self, read: ListReadDep, reads: ReadsDep, include: Include = None, q: Search = None
    ) -> RawResponse:
        return await read.serve(lambda query: reads.options(query, include=include, q=q))

    @read_route("/{key:str}/values/{code:str}", ValueDetailOut, "One value with its history")
    async def value(self, read: ListReadDep, reads: ReadsDep, code: PathCode) -> RawResponse:
        return await read.serve(lambda query: reads.value(query, code))

    @read_route("/{key:str}/validate", ValidationOut, "Is a code valid on a date?")
    async def validate(self, read: ListReadDep, reads: ReadsDep, code: Code) -> RawResponse:
        return await read.serve(lambda query: reads.validate(query, code))

    @read_route("/{key:str}/versions", VersionsOut, "Every published version of a list")
    async def versions(self, read: ListReadDep, reads: ReadsDep) -> RawResponse:
        return await read.serve(reads.versions)

    @read_route("/{key:str}/fhir", dict, "The list as an HL7 FHIR R4 CodeSystem")
    async def fhir(self, read: ListReadDep, reads: ReadsDep) -> RawResponse:
        return await read.serve(reads.fhir)

    @read_route(
        "/{key:str}/diff",
        DiffOut,
        "What changed between two versions",
        dependencies={"read": Provide(provide_list_read_at)},  # from/to instead of version
    )
    async def diff(
        self,
        read: ListReadDep,
        reads: ReadsDep,
        from_version: FromVersion = None,
        to_version: ToVersion = None,
    ) -> RawResponse:
        return await read.serve(
            lambda query: reads.diff(query, from_version=from_version, to_version=to_version)
        )


@post(
    "/v1/validate",
    tags=["read"],
    summary="Validate many codes at once",
    status_code=200,
    guards=[read_access],
)
async def validate_many(
    reads: ReadsDep,
    clock: ClockDep,
    data: JSONBody[ValidationRequest],
    at: At = None,
    version: Version = None,
) -> ValidationsOut:
    """``at`` and ``version`` in the query are the defaults for items without their own."""
    return await reads.validate_many(data.items, today=clock.today(), at=at, version=version)
