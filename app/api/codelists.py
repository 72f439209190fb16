"""Read endpoints: lists, drop-down options, values with history, validation, versions, diffs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import JSONBody, QueryParameter

from app.api.auth import read_access
from app.api.params import At, Code, PathCode, PathKey, ServicesDep, Version, read_route
from app.api.schemas import (
    CodeListOut,
    CodeListsOut,
    DiffOut,
    OptionsOut,
    ValidationOut,
    ValidationsOut,
    ValueDetailOut,
    VersionsOut,
)
from app.http.raw import RawResponse
from app.reads import ValidationItem

MAX_VALIDATION_ITEMS = 1000

AnyRequest = Request[Any, Any, Any]


class ValidationRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    items: Annotated[list[ValidationItem], msgspec.Meta(max_length=MAX_VALIDATION_ITEMS)]


class CodeListController(Controller):
    path = "/v1/codelists"
    tags = ["read"]
    guards = [read_access]

    @read_route("/", CodeListsOut, "Every code list with its latest version")
    async def index(
        self, request: AnyRequest, services: ServicesDep, at: At = None, version: Version = None
    ) -> RawResponse:
        return await services.answers.serve(
            request.scope,
            lambda today: services.reads.codelists(today=today, at=at, version=version),
        )

    @read_route("/{key:str}", CodeListOut, "A list with every value, whatever its state")
    async def codelist(
        self,
        request: AnyRequest,
        services: ServicesDep,
        key: PathKey,
        at: At = None,
        version: Version = None,
    ) -> RawResponse:
        return await services.answers.serve(
            request.scope,
            lambda today: services.reads.codelist(key, today=today, at=at, version=version),
        )

    @read_route("/{key:str}/options", OptionsOut, "The selectable values, for a drop-down")
    async def options(
        self,
        request: AnyRequest,
        services: ServicesDep,
        key: PathKey,
        at: At = None,
        version: Version = None,
        include: Annotated[
            str | None,
            QueryParameter(
                max_length=6500,
                description="Comma-separated codes to include whatever their state (a stored value "
                "an edit form must show).",
            ),
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                max_length=200, description="Keep options whose code or name contains this."
            ),
        ] = None,
    ) -> RawResponse:
        return await services.answers.serve(
            request.scope,
            lambda today: services.reads.options(
                key, today=today, at=at, version=version, include=include, q=q
            ),
        )

    @read_route("/{key:str}/values/{code:str}", ValueDetailOut, "One value with its history")
    async def value(
        self,
        request: AnyRequest,
        services: ServicesDep,
        key: PathKey,
        code: PathCode,
        at: At = None,
        version: Version = None,
    ) -> RawResponse:
        return await services.answers.serve(
            request.scope,
            lambda today: services.reads.value(key, code, today=today, at=at, version=version),
        )

    @read_route("/{key:str}/validate", ValidationOut, "Is a code valid on a date?")
    async def validate(
        self,
        request: AnyRequest,
        services: ServicesDep,
        key: PathKey,
        code: Code,
        at: At = None,
        version: Version = None,
    ) -> RawResponse:
        return await services.answers.serve(
            request.scope,
            lambda today: services.reads.validate(key, code, today=today, at=at, version=version),
        )

    @read_route("/{key:str}/versions", VersionsOut, "Every published version of a list")
    async def versions(
        self,
        request: AnyRequest,
        services: ServicesDep,
        key: PathKey,
        at: At = None,
        version: Version = None,
    ) -> RawResponse:
        return await services.answers.serve(
            request.scope,
            lambda today: services.reads.versions(key, today=today, at=at, version=version),
        )

    @read_route("/{key:str}/fhir", dict, "The list as an HL7 FHIR R4 CodeSystem")
    async def fhir(
        self,
        request: AnyRequest,
        services: ServicesDep,
        key: PathKey,
        at: At = None,
        version: Version = None,
    ) -> RawResponse:
        return await services.answers.serve(
            request.scope,
            lambda today: services.reads.fhir(key, today=today, at=at, version=version),
        )

    @read_route("/{key:str}/diff", DiffOut, "What changed between two versions")
    async def diff(
        self,
        request: AnyRequest,
        services: ServicesDep,
        key: PathKey,
        at: At = None,
        from_version: Annotated[
            int | None,
            QueryParameter(
                name="from", ge=0, le=2**31 - 1, description="Default: to - 1; 0 is empty."
            ),
        ] = None,
        to_version: Annotated[
            int | None,
            QueryParameter(name="to", ge=1, le=2**31 - 1, description="Default: latest."),
        ] = None,
    ) -> RawResponse:
        return await services.answers.serve(
            request.scope,
            lambda today: services.reads.diff(
                key, today=today, at=at, from_version=from_version, to_version=to_version
            ),
        )


@post(
    "/v1/validate",
    tags=["read"],
    summary="Validate many codes at once",
    status_code=200,
    guards=[read_access],
)
async def validate_many(services: ServicesDep, data: JSONBody[ValidationRequest]) -> ValidationsOut:
    return await services.reads.validate_many(data.items, today=services.clock.today())
