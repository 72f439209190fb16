"""The relation reads of issue 18, built from catalog snapshots and encoded once: the index, a
relation with its rows, ``check``, the matrix (JSON and CSV) and the FHIR ConceptMap.

A relation asked at its latest version reads its lists at their latest; asked at ``version``
N it reads each list at its latest version published no later than relation version N, so
both time axes work as for lists. An answer's freshness ends at the next midnight on which a
row or a value it shows changes state.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from app.domain.relations import Row, pair_order, verdict
from app.domain.values import code_order
from app.http.answer import Answer
from app.reads.answers import EPOCH, ReadQuery, Reads
from app.reads.catalog import ListSnapshot
from app.reads.fhir import MEDIA_TYPE as FHIR_MEDIA_TYPE
from app.reads.fhir_conceptmap import concept_map
from app.reads.related import check_qualifier, state_of
from app.reads.relation_schemas import (
    CheckOut,
    MatrixCode,
    MatrixOut,
    RelationOut,
    RelationsOut,
    RelationSummary,
    RowOut,
)
from app.reads.relation_snapshot import RelationSnapshot
from app.store.export import CsvDialect, inert

CSV_MEDIA_TYPE = b"text/csv; charset=utf-8"
ALLOWED_MARK = "x"  # a CSV cell of an allowed row of a relation without qualifiers


class RelationReads:
    """Builds the relation answers; ``reads`` encodes them with the cache facts of list reads."""

    def __init__(self, reads: Reads) -> None:
        self.reads = reads
        self.catalog = reads.catalog

    async def index(self, *, today: date, at: date | None) -> Answer:
        """Every relation at its latest version (``GET /v1/relations``)."""
        summaries = [
            RelationSummary(**info.metadata(), row_count=info.row_count)
            for _, info in sorted(self.catalog.relations.items())
        ]
        return self.reads.answer(
            RelationsOut(relations=summaries),
            published_at=max((s.published_at for s in summaries), default=EPOCH),
            today=today,
            at=at,
            version_given=False,
            relations=[s.key for s in summaries],
            index=True,
        )

    async def _lists(
        self, snapshot: RelationSnapshot, query: ReadQuery
    ) -> tuple[ListSnapshot, ListSnapshot]:
        latest = query.version is None
        info = snapshot.info
        return (
            await self.catalog.list_as_of(info.source_list, info, latest),
            await self.catalog.list_as_of(info.target_list, info, latest),
        )

    def _answer(
        self,
        body: object,
        snapshot: RelationSnapshot,
        query: ReadQuery,
        dates: set[date],
        media_type: bytes = b"application/json",
    ) -> Answer:
        info = snapshot.info
        return self.reads.answer(
            body,
            published_at=info.published_at,
            today=query.today,
            at=query.at,
            version_given=query.version is not None,
            change_dates=sorted(dates),
            media_type=media_type,
            lists=(info.source_list, info.target_list),
            relations=(info.key,),
        )

    async def relation(self, query: ReadQuery) -> Answer:
        """A relation with every row and its state on the query's day."""
        snapshot = await self.catalog.relation_snapshot(query.key, query.version)
        day = query.day
        rows = sorted(snapshot.rows(), key=_pair_order)
        body = RelationOut(
            **snapshot.info.metadata(), at=day, rows=[RowOut.of(row, day) for row in rows]
        )
        return self._answer(body, snapshot, query, set(snapshot.change_dates))

    async def check(
        self, query: ReadQuery, *, source: str, target: str, qualifier: str | None
    ) -> Answer:
        """May ``source`` go with ``target`` (and ``qualifier``) on the query's day?"""
        snapshot = await self.catalog.relation_snapshot(query.key, query.version)
        info = snapshot.info
        await check_qualifier(self.catalog, info, qualifier)
        sources, targets = await self._lists(snapshot, query)
        day = query.day
        row = snapshot.row(source, target)
        said = verdict(
            row,
            day,
            qualifier=qualifier,
            has_qualifiers=info.qualifier_list is not None,
            source_state=state_of(sources, source, day) or "unknown",
            target_state=state_of(targets, target, day) or "unknown",
        )
        body = CheckOut(
            allowed=said.allowed,
            reasons=said.reasons,
            row=None if row is None else RowOut.of(row, day),
            relation=info.key,
            version=info.version,
            at=day,
            source=source,
            target=target,
            qualifier=qualifier,
        )
        dates: set[date] = set(row.state_changes()) if row else set()
        for snapshot_of_list, code in ((sources, source), (targets, target)):
            value = snapshot_of_list.by_code.get(code)
            if value is not None:
                dates.update(value.state_changes())
        return self._answer(body, snapshot, query, dates)

    async def _matrix(self, query: ReadQuery) -> tuple[MatrixOut, RelationSnapshot, set[date]]:
        snapshot = await self.catalog.relation_snapshot(query.key, query.version)
        sources, targets = await self._lists(snapshot, query)
        day = query.day
        info = snapshot.info
        down = sorted(sources.values, key=lambda value: code_order(value.code))
        across = sorted(targets.values, key=lambda value: code_order(value.code))
        cells = []
        for value in down:
            found = snapshot.by_source.get(value.code, {})
            cells.append([_cell(found.get(other.code), day) for other in across])
        body = MatrixOut(
            key=info.key,
            version=info.version,
            at=day,
            source_list=info.source_list,
            target_list=info.target_list,
            qualifier_list=info.qualifier_list,
            sources=[MatrixCode(v.code, v.name, v.selectable_on(day)) for v in down],
            targets=[MatrixCode(v.code, v.name, v.selectable_on(day)) for v in across],
            cells=cells,
        )
        dates = {*snapshot.change_dates, *sources.change_dates, *targets.change_dates}
        return body, snapshot, dates

    async def matrix(self, query: ReadQuery) -> Answer:
        """The whole table on the query's day, as JSON; codes in code order."""
        body, snapshot, dates = await self._matrix(query)
        return self._answer(body, snapshot, query, dates)

    async def matrix_csv(self, query: ReadQuery, dialect: CsvDialect) -> Answer:
        """The matrix as CSV: a header row of target codes, a row of their selectability
        (``ja``/``nej``), then a row per source code with its selectability and its cells
        (qualifiers space-separated, ``x`` for an allowed row of a relation without
        qualifiers, empty when not allowed). Dialects as the export's."""
        body, snapshot, dates = await self._matrix(query)
        out = io.StringIO()
        writer = csv.writer(
            out, delimiter=";" if dialect == "excel" else ",", lineterminator="\r\n"
        )
        corner = f"{body.source_list} \\ {body.target_list}"
        lines: list[list[str]] = [
            [corner, "selectable", *(code.code for code in body.targets)],
            ["selectable", "", *(_yes(code.selectable) for code in body.targets)],
        ]
        for code, cells in zip(body.sources, body.cells, strict=True):
            lines.append([code.code, _yes(code.selectable), *(_csv_cell(cell) for cell in cells)])
        for line in lines:
            writer.writerow([inert(cell) for cell in line] if dialect == "excel" else line)
        encoded = out.getvalue().encode("utf-8-sig" if dialect == "excel" else "utf-8")
        return self._answer(encoded, snapshot, query, dates, media_type=CSV_MEDIA_TYPE)

    async def fhir(self, query: ReadQuery) -> Answer:
        """The relation as an HL7 FHIR R4 ConceptMap of the rows in effect on the day."""
        snapshot = await self.catalog.relation_snapshot(query.key, query.version)
        body = concept_map(snapshot, query.day)
        return self._answer(
            body, snapshot, query, set(snapshot.change_dates), media_type=FHIR_MEDIA_TYPE
        )


def _pair_order(row: Row) -> tuple[object, ...]:
    return pair_order(row.pair)


def _cell(row: Row | None, day: date) -> list[str] | None:
    if row is None or not row.in_effect_on(day):
        return None
    return list(row.qualifiers)


def _csv_cell(cell: list[str] | None) -> str:
    if cell is None:
        return ""
    return " ".join(cell) if cell else ALLOWED_MARK


def _yes(flag: bool) -> str:
    return "ja" if flag else "nej"
