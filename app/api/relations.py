"""Relation reads (issue 18): the index, a relation with its rows, check, matrix, ConceptMap.

Every answer goes through the answer cache like a list read (ETag, 304, max-age to the next
date a row or value it shows changes, Surrogate-Key ``relation:<key>`` plus its lists).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request
from litestar.di import Provide
from litestar.params import QueryParameter

from app.api.auth import read_access
from app.api.dependencies import AnswersDep, ReadsDep
from app.api.params import At, Code, ListReadDep, provide_list_read, read_route
from app.domain.errors import BadParameter
from app.http.raw import RawResponse
from app.reads.relation_answers import RelationReads
from app.reads.relation_schemas import CheckOut, MatrixOut, RelationOut, RelationsOut
from app.store.export import CsvDialect

Qualifier = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=64,
        description="A code of the relation's qualifier list, or `none` for without a "
        "qualifier. Absent: with some qualifier or none.",
    ),
]
MatrixFormat = Annotated[
    Literal["json", "csv"], QueryParameter(description="csv: the matrix as CSV")
]
Dialect = Annotated[
    CsvDialect | None,
    QueryParameter(
        description="With format=csv: rfc4180 (the default) or excel (BOM, semicolons, "
        "formula-like cells made inert), as the export."
    ),
]


class RelationController(Controller):
    """The relation reads; each answer comes from the answer cache or ``RelationReads``."""

    path = "/v1/relations"
    tags = ["read"]
    guards = [read_access]
    # The key, ``at`` and ``version`` (the relation's) as a list read takes them.
    dependencies = {"read": Provide(provide_list_read)}

    @read_route("/", RelationsOut, "Every relation with its latest version")
    async def index(
        self, request: Request[Any, Any, Any], answers: AnswersDep, reads: ReadsDep, at: At = None
    ) -> RawResponse:
        relations = RelationReads(reads)
        return await answers.serve(request.scope, lambda today: relations.index(today=today, at=at))

    @read_route("/{key:str}", RelationOut, "A relation with every row and its state")
    async def relation(self, read: ListReadDep, reads: ReadsDep) -> RawResponse:
        return await read.serve(RelationReads(reads).relation)

    @read_route("/{key:str}/check", CheckOut, "May a source code go with a target code?")
    async def check(
        self,
        read: ListReadDep,
        reads: ReadsDep,
        source: Code,
        target: Code,
        qualifier: Qualifier = None,
    ) -> RawResponse:
        relations = RelationReads(reads)
        return await read.serve(
            lambda query: relations.check(query, source=source, target=target, qualifier=qualifier)
        )

    @read_route(
        "/{key:str}/matrix",
        MatrixOut,
        "The whole table on a date, as JSON or CSV",
        description="Source codes down, target codes across; a cell holds the allowed "
        "qualifiers of a row in effect on the date, else nothing; codes not selectable that "
        "day are marked. `format=csv` (with `dialect=excel` as the export) gives it as CSV.",
    )
    async def matrix(
        self,
        read: ListReadDep,
        reads: ReadsDep,
        format: MatrixFormat = "json",
        dialect: Dialect = None,
    ) -> RawResponse:
        if dialect is not None and format != "csv":
            raise BadParameter("dialect", "dialect applies to format=csv only")
        relations = RelationReads(reads)
        if format == "csv":
            return await read.serve(lambda query: relations.matrix_csv(query, dialect or "rfc4180"))
        return await read.serve(relations.matrix)

    @read_route("/{key:str}/fhir", dict, "The relation as an HL7 FHIR R4 ConceptMap")
    async def fhir(self, read: ListReadDep, reads: ReadsDep) -> RawResponse:
        return await read.serve(RelationReads(reads).fhir)
