"""The in-process read model: which version of each list is the latest, and decoded versions.

A published list version never changes, so a decoded one (values in option order, the dates on
which their states change) is kept and shared by every answer built from it. What is latest
changes only when someone publishes; the catalog learns it from the publish generation, which
it re-reads when told (a publish here, a NOTIFY from PostgreSQL) or on a short poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from datetime import date

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.errors import NotFound
from app.domain.sized_lru import SizedLRU
from app.domain.values import Value, in_option_order, state_change_dates
from app.store import queries
from app.store.queries import ListVersion

_MISS_REFRESH_SECONDS = 0.05
_CONCURRENT_LOADS = 4
_BYTES_PER_VALUE = 1024  # a decoded Value with its share of the indexes (measured ~860)


class UnknownList(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(f"there is no code list '{key}'")
        self.key = key


class UnknownVersion(NotFound):
    def __init__(self, key: str, version: int, latest: int) -> None:
        super().__init__(f"list '{key}' has versions 1 to {latest}; there is no version {version}")


class ListSnapshot(msgspec.Struct, frozen=True):
    info: ListVersion
    values: tuple[Value, ...]  # in option order
    by_code: dict[str, Value]
    change_dates: tuple[date, ...]  # every date on which a value's state changes

    @classmethod
    def of(cls, info: ListVersion, values: list[Value]) -> ListSnapshot:
        ordered = tuple(in_option_order(values))
        return cls(
            info=info,
            values=ordered,
            by_code={value.code: value for value in ordered},
            change_dates=state_change_dates(ordered),
        )


class Catalog:
    def __init__(self, engine: AsyncEngine, *, max_bytes: int) -> None:
        self.engine = engine
        self.generation = -1
        self.latest: dict[str, ListVersion] = {}
        self._snapshots: SizedLRU[Hashable, ListSnapshot] = SizedLRU(max_bytes)
        self._loading: dict[tuple[str, int], asyncio.Future[ListSnapshot]] = {}
        # Decoding a large list version takes memory until its answer is cached; a few at a
        # time keep that bounded however many requests miss at once.
        self._decoding = asyncio.Semaphore(_CONCURRENT_LOADS)
        self._refreshing = asyncio.Lock()
        self._published = asyncio.Event()
        self._refreshed_at = 0.0

    async def refresh(self) -> bool:
        """Re-read what is latest if anything was published since; True if something was."""
        async with self._refreshing:
            async with self.engine.connect() as connection:
                generation = await queries.generation(connection)
                self._refreshed_at = time.monotonic()
                if generation == self.generation:
                    return False
                self.latest = await queries.latest_versions(connection)
            self.generation = generation
            # Wake everyone waiting for a publish (long-polling feed readers, webhook delivery).
            published, self._published = self._published, asyncio.Event()
            published.set()
            return True

    def next_publish(self) -> asyncio.Event:
        """An event set when the catalog next learns of a publish.

        Take it *before* looking for changes, then wait on it: a publish in between sets it.
        """
        return self._published

    async def refresh_if_older_than(self, seconds: float) -> bool:
        """Refresh unless that was done in the last ``seconds``; True if something changed.

        Bounds the database work that requests for lists that do not exist can cause.
        """
        if time.monotonic() - self._refreshed_at < seconds:
            return False
        return await self.refresh()

    def head(self, key: str) -> ListVersion:
        found = self.latest.get(key)
        if found is None:
            raise UnknownList(key)
        return found

    async def resolve_version(self, key: str, version: int | None) -> int:
        """The version number ``version`` (default latest) of list ``key``, checked.

        Raises UnknownList / UnknownVersion, but first looks again if the list or version may
        have been published elsewhere a moment ago (the change feed may already show it).
        """
        try:
            return self._resolve(key, version)
        except (UnknownList, UnknownVersion):
            if not await self.refresh_if_older_than(_MISS_REFRESH_SECONDS):
                raise
            return self._resolve(key, version)

    def _resolve(self, key: str, version: int | None) -> int:
        latest = self.head(key).version
        if version is None:
            return latest
        if not 1 <= version <= latest:
            raise UnknownVersion(key, version, latest)
        return version

    async def snapshot(self, key: str, version: int | None = None) -> ListSnapshot:
        """The list at ``version`` (default latest); raises UnknownList / UnknownVersion."""
        number = await self.resolve_version(key, version)
        cache_key = (key, number)
        found = self._snapshots.get(cache_key)
        if found is not None:
            return found
        # Many requests for the same version right after a publish share one load.
        loading = self._loading.get(cache_key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key, number))
            self._loading[cache_key] = loading
            loading.add_done_callback(lambda _: self._loading.pop(cache_key, None))
        return await asyncio.shield(loading)

    async def _load(self, key: str, version: int) -> ListSnapshot:
        async with self._decoding:
            async with self.engine.connect() as connection:
                info: ListVersion | None = self.head(key)
                if info is None or info.version != version:  # the latest we know already
                    info = await queries.list_version_at(connection, key, version)
                if info is None:  # published elsewhere under our feet and not yet refreshed
                    raise UnknownVersion(key, version, self.head(key).version)
                values = await queries.values_at(connection, info.list_id, version)
            snapshot = ListSnapshot.of(info, values)
        self._snapshots.put((key, version), snapshot, _BYTES_PER_VALUE * (1 + len(values)))
        return snapshot

    async def history(self, key: str, code: str, version: int) -> list[queries.HistoryEntry]:
        async with self.engine.connect() as connection:
            return await queries.value_history(connection, self.head(key).list_id, code, version)

    async def versions(self, key: str, version: int) -> list[ListVersion]:
        async with self.engine.connect() as connection:
            return await queries.versions_of(connection, self.head(key).list_id, version)
