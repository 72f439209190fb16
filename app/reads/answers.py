"""The read answers of api.md, built from catalog snapshots and encoded once.

Each read takes a ``ReadQuery``: the list, "today" from its caller (who also keys the answer
cache with it) and the optional ``at`` and ``version``; an answer given both can never change
and is marked immutable.
Without ``at`` an answer's freshness ends at the next midnight on which one of its values
changes state, and it was last modified no earlier than the last such midnight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Annotated

import msgspec

from app.domain.clock import Clock
from app.domain.errors import BadParameter, NotFound
from app.domain.matching import contains, search_form
from app.domain.planning import diff_lists
from app.domain.validation import explain, explain_unknown_list, explain_unknown_version
from app.domain.values import Value, last_state_change, next_state_change
from app.http.answer import Answer
from app.reads.catalog import Catalog, ListSnapshot, UnknownList, UnknownVersion
from app.reads.fhir import MEDIA_TYPE as FHIR_MEDIA_TYPE
from app.reads.fhir import code_system
from app.reads.schemas import (
    ChangedValueOut,
    CodeListOut,
    CodeListsOut,
    CodeListSummary,
    DiffOut,
    HistoryOut,
    OptionOut,
    OptionsOut,
    ValidationOut,
    ValidationsOut,
    ValidationState,
    ValueDetailOut,
    ValueOut,
    VersionOut,
    VersionsOut,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_INCLUDE = 100

_encoder = msgspec.json.Encoder()


class UnknownCode(NotFound):
    def __init__(self, key: str, code: str, version: int) -> None:
        super().__init__(f"code '{code}' does not exist in list '{key}' (version {version})")


class ReadQuery(msgspec.Struct, frozen=True):
    """What every one-list read takes (api.md "Time and validity"): the list ``key``, "today"
    in the service's time zone, and the optional ``at`` date and ``version`` number."""

    key: str
    today: date
    at: date | None = None
    version: int | None = None

    @property
    def day(self) -> date:
        """The date states are evaluated on."""
        return self.at or self.today


class ValidationItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One item of ``POST /v1/validate``; ``at`` and ``version`` default to the query's."""

    list: str
    code: str
    at: date | None = None
    version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None


class Reads:
    """Builds every read answer of api.md from the catalog's snapshots, as encoded ``Answer``s."""

    def __init__(self, catalog: Catalog, clock: Clock) -> None:
        self.catalog = catalog
        self.clock = clock

    def _answer(
        self,
        body: object,
        *,
        published_at: datetime,
        today: date,
        at: date | None,
        version_given: bool,
        change_dates: Sequence[date] = (),
        media_type: bytes = b"application/json",
        lists: Sequence[str] = (),
        index: bool = False,
    ) -> Answer:
        changes_at = None
        last_modified = published_at
        if at is None:
            upcoming = next_state_change(change_dates, today)
            changes_at = self.clock.midnight(upcoming) if upcoming else None
            last = last_state_change(change_dates, today)
            # Only a change after the publish can move Last-Modified (and dates of year 1 have
            # no midnight in UTC).
            if last is not None and last >= published_at.date():
                last_modified = max(last_modified, self.clock.midnight(last))
        return Answer(
            _encoder.encode(body),
            last_modified=last_modified,
            changes_at=changes_at,
            immutable=at is not None and version_given,
            media_type=media_type,
            lists=lists,
            index=index,
        )

    def _list_answer(
        self,
        body: object,
        snapshot: ListSnapshot,
        query: ReadQuery,
        change_dates: Sequence[date] | None = None,
        media_type: bytes = b"application/json",
    ) -> Answer:
        return self._answer(
            body,
            published_at=snapshot.info.published_at,
            today=query.today,
            at=query.at,
            version_given=query.version is not None,
            change_dates=snapshot.change_dates if change_dates is None else change_dates,
            media_type=media_type,
            lists=(snapshot.info.key,),
        )

    async def codelists(self, *, today: date, at: date | None) -> Answer:
        """Every list at its latest version (``GET /v1/codelists``)."""
        summaries = [
            CodeListSummary(**info.metadata(), value_count=info.value_count)
            for _, info in sorted(self.catalog.latest.items())
        ]
        published = max((s.published_at for s in summaries), default=EPOCH)
        return self._answer(
            CodeListsOut(codelists=summaries),
            published_at=published,
            today=today,
            at=at,
            version_given=False,
            lists=[summary.key for summary in summaries],
            index=True,
        )

    async def codelist(self, query: ReadQuery) -> Answer:
        """A list with every value, whatever its state."""
        snapshot = await self.catalog.snapshot(query.key, query.version)
        body = CodeListOut(
            **snapshot.info.metadata(),
            at=query.day,
            values=[ValueOut.of(value, query.day) for value in snapshot.values],
        )
        return self._list_answer(body, snapshot, query)

    async def fhir(self, query: ReadQuery) -> Answer:
        """The list as an HL7 FHIR R4 CodeSystem."""
        snapshot = await self.catalog.snapshot(query.key, query.version)
        body = code_system(snapshot, query.day)
        return self._list_answer(body, snapshot, query, media_type=FHIR_MEDIA_TYPE)

    async def options(
        self, query: ReadQuery, *, include: str | None = None, q: str | None = None
    ) -> Answer:
        """The drop-down: selectable values, plus the ``include``d codes in any state."""
        snapshot = await self.catalog.snapshot(query.key, query.version)
        day = query.day
        wanted = _included_codes(include)
        needle = search_form(q) if q else None
        options = []
        for value in snapshot.values:
            selectable = value.selectable_on(day)
            if not (selectable or value.code in wanted):
                continue
            if needle and not (contains(value.code, needle) or contains(value.name, needle)):
                continue
            options.append(OptionOut(value.code, value.name, selectable))
        body = OptionsOut(key=query.key, version=snapshot.info.version, at=day, options=options)
        return self._list_answer(body, snapshot, query)

    async def value(self, query: ReadQuery, code: str) -> Answer:
        """One value with its history; UnknownCode if the code does not exist at that version."""
        snapshot = await self.catalog.snapshot(query.key, query.version)
        value = snapshot.by_code.get(code)
        if value is None:
            raise UnknownCode(query.key, code, snapshot.info.version)
        history = await self.catalog.history(query.key, code, snapshot.info.version)
        body = ValueDetailOut(
            **msgspec.structs.asdict(ValueOut.of(value, query.day)),
            key=query.key,
            version=snapshot.info.version,
            at=query.day,
            history=[HistoryOut.of_entry(entry) for entry in history],
        )
        return self._list_answer(body, snapshot, query, value.state_changes())

    async def validate(self, query: ReadQuery, code: str) -> Answer:
        """Is ``code`` selectable on the query's day? Always an answer for a known list."""
        snapshot = await self.catalog.snapshot(query.key, query.version)
        value = snapshot.by_code.get(code)
        body = _validation(query.key, code, value, query.day)
        dates = value.state_changes() if value else ()
        return self._list_answer(body, snapshot, query, dates)

    async def validate_many(
        self,
        items: Iterable[ValidationItem],
        *,
        today: date,
        at: date | None = None,
        version: int | None = None,
    ) -> ValidationsOut:
        """One validation per item, in order (``POST /v1/validate``): each item on its own
        ``at`` and ``version``, else on the given defaults (the query's), else today and the
        latest version. An unknown list or version is that item's state, not an error."""
        results = []
        for item in items:
            day = item.at or at or today
            wanted = item.version if item.version is not None else version
            try:
                snapshot = await self.catalog.snapshot(item.list, wanted)
            except UnknownList:
                results.append(_unknown(item, day, "unknown_list", explain_unknown_list(item.list)))
                continue
            except UnknownVersion:
                message = explain_unknown_version(item.list, wanted or 0)
                results.append(_unknown(item, day, "unknown_version", message))
                continue
            results.append(_validation(item.list, item.code, snapshot.by_code.get(item.code), day))
        return ValidationsOut(results=results)

    async def versions(self, query: ReadQuery) -> Answer:
        """Every published version of the list up to the query's version, oldest first."""
        number = await self.catalog.resolve_version(query.key, query.version)
        versions = await self.catalog.versions(query.key, number)
        body = VersionsOut(
            key=query.key,
            versions=msgspec.convert(versions, list[VersionOut], from_attributes=True),
        )
        return self._answer(
            body,
            published_at=versions[-1].published_at,
            today=query.today,
            at=query.at,
            version_given=query.version is not None,
            lists=(query.key,),
        )

    async def diff(
        self, query: ReadQuery, *, from_version: int | None, to_version: int | None
    ) -> Answer:
        """What changed from version ``from`` to ``to`` (default latest): the same diff as a
        change set's plan, values in option order.

        ``from`` defaults to ``to`` - 1, or to 1 for the first version: an answer names only
        versions that exist (api.md "Read endpoints"; a ``from`` below 1 is refused by the
        parameter's minimum). Raises ``BadParameter`` (from after to), ``UnknownList`` and
        ``UnknownVersion``.
        """
        to_snapshot = await self.catalog.snapshot(query.key, to_version)
        to_number = to_snapshot.info.version
        from_number = max(to_number - 1, 1) if from_version is None else from_version
        if from_number > to_number:
            raise BadParameter("from", f"from ({from_number}) must not be after to ({to_number})")
        before = (await self.catalog.snapshot(query.key, from_number)).by_code
        plan = diff_lists(before, to_snapshot.by_code)
        added = {value.code for value in plan.added}
        changes = {c.code: c for c in (*plan.changed, *plan.deactivated, *plan.reactivated)}
        day = query.day
        body = DiffOut(
            key=query.key,
            from_=from_number,
            to=to_number,
            at=day,
            added=[ValueOut.of(v, day) for v in to_snapshot.values if v.code in added],
            changed=[
                ChangedValueOut(code=v.code, fields=changes[v.code].fields)
                for v in to_snapshot.values
                if v.code in changes
            ],
        )
        return self._answer(
            body,
            published_at=to_snapshot.info.published_at,
            today=query.today,
            at=query.at,
            version_given=from_version is not None and to_version is not None,
            change_dates=to_snapshot.change_dates,
            lists=(query.key,),
        )


def _included_codes(include: str | None) -> frozenset[str]:
    if not include:
        return frozenset()
    codes = frozenset(code.strip() for code in include.split(",") if code.strip())
    if len(codes) > MAX_INCLUDE:
        raise BadParameter("include", f"include names at most {MAX_INCLUDE} codes")
    return codes


def _unknown(
    item: ValidationItem, day: date, state: ValidationState, message: str
) -> ValidationOut:
    return ValidationOut(
        key=item.list,
        code=item.code,
        at=day,
        valid=False,
        state=state,
        name=None,
        replaced_by=[],
        message=message,
    )


def _validation(key: str, code: str, value: Value | None, day: date) -> ValidationOut:
    state = value.state_on(day) if value else "unknown"
    return ValidationOut(
        key=key,
        code=code,
        at=day,
        valid=state == "selectable",
        state=state,
        name=value.name if value else None,
        replaced_by=list(value.replaced_by) if value else [],
        message=explain(key, code, value, day),
    )
