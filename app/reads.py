"""The read answers of api.md, built from catalog snapshots and encoded once.

Each function takes "today" from its caller (who also keys the answer cache with it) and the
optional ``at`` and ``version``; an answer given both can never change and is marked immutable.
Without ``at`` an answer's freshness ends at the next midnight on which one of its values
changes state, and it was last modified no earlier than the last such midnight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

import msgspec

from app.api.schemas import (
    ChangedValueOut,
    CodeListOut,
    CodeListsOut,
    CodeListSummary,
    DiffOut,
    FieldChangeOut,
    HistoryOut,
    OptionOut,
    OptionsOut,
    ValidationOut,
    ValidationsOut,
    ValueDetailOut,
    ValueOut,
    VersionOut,
    VersionsOut,
)
from app.catalog import Catalog, ListSnapshot, UnknownList
from app.clock import Clock
from app.domain.matching import contains, search_form
from app.domain.validation import explain, explain_unknown_list
from app.domain.values import Value, changed_fields, last_state_change, next_state_change
from app.fhir import MEDIA_TYPE as FHIR_MEDIA_TYPE
from app.fhir import code_system
from app.http.answer import Answer

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_INCLUDE = 100

_encoder = msgspec.json.Encoder()


class BadParameter(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


class UnknownCode(LookupError):
    def __init__(self, key: str, code: str, version: int) -> None:
        super().__init__(f"code '{code}' does not exist in list '{key}' (version {version})")


class ValidationItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    list: str
    code: str
    at: date | None = None


class Reads:
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
        )

    async def codelists(self, *, today: date, at: date | None, version: int | None) -> Answer:
        """Every list, at its latest version (or at ``version``, or its latest if older)."""
        summaries = []
        older = await self.catalog.lists_at(version) if version is not None else {}
        for key, head in sorted(self.catalog.latest.items()):
            info = older.get(key, head)
            summaries.append(CodeListSummary(**info.metadata(), value_count=info.value_count))
        published = max((s.published_at for s in summaries), default=EPOCH)
        return self._answer(
            CodeListsOut(codelists=summaries),
            published_at=published,
            today=today,
            at=at,
            version_given=False,
        )

    async def codelist(
        self, key: str, *, today: date, at: date | None, version: int | None
    ) -> Answer:
        snapshot = await self.catalog.snapshot(key, version)
        day = at or today
        body = CodeListOut(
            **snapshot.info.metadata(),
            at=day,
            values=[ValueOut.of(value, day) for value in snapshot.values],
        )
        return self._list_answer(body, snapshot, today, at, version)

    def _list_answer(
        self,
        body: object,
        snapshot: ListSnapshot,
        today: date,
        at: date | None,
        version: int | None,
        change_dates: Sequence[date] | None = None,
        media_type: bytes = b"application/json",
    ) -> Answer:
        return self._answer(
            body,
            published_at=snapshot.info.published_at,
            today=today,
            at=at,
            version_given=version is not None,
            change_dates=snapshot.change_dates if change_dates is None else change_dates,
            media_type=media_type,
        )

    async def fhir(self, key: str, *, today: date, at: date | None, version: int | None) -> Answer:
        snapshot = await self.catalog.snapshot(key, version)
        body = code_system(snapshot, at or today)
        return self._list_answer(body, snapshot, today, at, version, media_type=FHIR_MEDIA_TYPE)

    async def options(
        self,
        key: str,
        *,
        today: date,
        at: date | None,
        version: int | None,
        include: str | None,
        q: str | None,
    ) -> Answer:
        snapshot = await self.catalog.snapshot(key, version)
        day = at or today
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
        body = OptionsOut(key=key, version=snapshot.info.version, at=day, options=options)
        return self._list_answer(body, snapshot, today, at, version)

    async def value(
        self, key: str, code: str, *, today: date, at: date | None, version: int | None
    ) -> Answer:
        """One value with its history; UnknownCode if the code does not exist at that version."""
        snapshot = await self.catalog.snapshot(key, version)
        value = snapshot.by_code.get(code)
        if value is None:
            raise UnknownCode(key, code, snapshot.info.version)
        day = at or today
        history = await self.catalog.history(key, code, snapshot.info.version)
        body = ValueDetailOut(
            **msgspec.structs.asdict(ValueOut.of(value, day)),
            key=key,
            version=snapshot.info.version,
            at=day,
            history=[
                HistoryOut(
                    version=entry.version,
                    changeset=entry.changeset,
                    published_at=entry.published_at,
                    name=entry.value.name,
                    valid_from=entry.value.valid_from,
                    valid_to=entry.value.valid_to,
                    active=entry.value.active,
                )
                for entry in history
            ],
        )
        return self._list_answer(body, snapshot, today, at, version, value.state_changes())

    async def validate(
        self, key: str, code: str, *, today: date, at: date | None, version: int | None
    ) -> Answer:
        snapshot = await self.catalog.snapshot(key, version)
        value = snapshot.by_code.get(code)
        body = _validation(key, code, value, at or today)
        dates = value.state_changes() if value else ()
        return self._list_answer(body, snapshot, today, at, version, dates)

    async def validate_many(
        self, items: Iterable[ValidationItem], *, today: date
    ) -> ValidationsOut:
        results = []
        for item in items:
            day = item.at or today
            try:
                snapshot = await self.catalog.snapshot(item.list)
            except UnknownList:
                results.append(
                    ValidationOut(
                        key=item.list,
                        code=item.code,
                        at=day,
                        valid=False,
                        state="unknown_list",
                        name=None,
                        replaced_by=[],
                        message=explain_unknown_list(item.list),
                    )
                )
                continue
            results.append(_validation(item.list, item.code, snapshot.by_code.get(item.code), day))
        return ValidationsOut(results=results)

    async def versions(
        self, key: str, *, today: date, at: date | None, version: int | None
    ) -> Answer:
        number = await self.catalog.resolve_version(key, version)
        versions = await self.catalog.versions(key, number)
        body = VersionsOut(
            key=key,
            versions=[
                VersionOut(
                    version=v.version,
                    published_at=v.published_at,
                    changeset=v.changeset,
                    release=v.release,
                    reason=v.reason,
                    added=v.added,
                    changed=v.changed,
                    deactivated=v.deactivated,
                    reactivated=v.reactivated,
                )
                for v in versions
            ],
        )
        return self._answer(
            body,
            published_at=versions[-1].published_at,
            today=today,
            at=at,
            version_given=version is not None,
        )

    async def diff(
        self,
        key: str,
        *,
        today: date,
        at: date | None,
        from_version: int | None,
        to_version: int | None,
    ) -> Answer:
        to_snapshot = await self.catalog.snapshot(key, to_version)
        to_number = to_snapshot.info.version
        from_number = to_number - 1 if from_version is None else from_version
        if from_number > to_number:
            raise BadParameter("from", f"from ({from_number}) must not be after to ({to_number})")
        before: dict[str, Value] = {}
        if from_number > 0:
            before = (await self.catalog.snapshot(key, from_number)).by_code
        day = at or today
        added: list[ValueOut] = []
        changed: list[ChangedValueOut] = []
        for value in to_snapshot.values:
            previous = before.get(value.code)
            if previous is None:
                added.append(ValueOut.of(value, day))
            elif fields := changed_fields(previous, value):
                changed.append(
                    ChangedValueOut(
                        code=value.code,
                        fields={
                            name: FieldChangeOut(old, new) for name, (old, new) in fields.items()
                        },
                    )
                )
        body = DiffOut(
            key=key, from_=from_number, to=to_number, at=day, added=added, changed=changed
        )
        return self._answer(
            body,
            published_at=to_snapshot.info.published_at,
            today=today,
            at=at,
            version_given=from_version is not None and to_version is not None,
            change_dates=to_snapshot.change_dates,
        )


def _included_codes(include: str | None) -> frozenset[str]:
    if not include:
        return frozenset()
    codes = frozenset(code.strip() for code in include.split(",") if code.strip())
    if len(codes) > MAX_INCLUDE:
        raise BadParameter("include", f"include names at most {MAX_INCLUDE} codes")
    return codes


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
