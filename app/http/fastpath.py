"""Answers kept by request, and the fast path that serves them in front of the framework.

A read's answer is fully determined by the published state (the catalog's generation), the
date ("today", when no ``at`` is given) and the request's path and query. The handlers store
each answer they encode under that key; a repeat of the same request is then answered in front
of the framework, with its 304 and its compressed form, without routing, parsing or touching
the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import date
from typing import Any

from prometheus_client import Counter

from app.domain.clock import Clock
from app.http.answer import Answer, SizedLRU
from app.http.conditional import respond
from app.http.raw import RawResponse

_READS = frozenset({"GET", "HEAD"})

# Requests served in front of the framework never reach litestar's metrics; these count them.
ANSWERS = Counter("codelists_answers", "Read answers by how they were produced", ["source"])
_FROM_CACHE = ANSWERS.labels(source="cached")
_BUILT = ANSWERS.labels(source="built")


class AnswerCache:
    def __init__(
        self, *, max_bytes: int, generation: Callable[[], int], clock: Clock, max_age: int
    ) -> None:
        self.answers: SizedLRU[Hashable, Answer] = SizedLRU(max_bytes)
        self.generation = generation
        self.clock = clock
        self.max_age = max_age

    def _key(self, scope: Any, today: date) -> Hashable:
        return (self.generation(), today, scope["path"], scope["query_string"])

    def cached(self, scope: Any) -> RawResponse | None:
        """The response to a repeated request, or None if its answer is not cached."""
        now = self.clock.now()
        answer = self.answers.get(self._key(scope, now.date()))
        if answer is None:
            return None
        _FROM_CACHE.inc()
        return RawResponse(*respond(answer, scope["headers"], now=now, max_age=self.max_age))

    async def serve(self, scope: Any, build: Callable[[date], Awaitable[Answer]]) -> RawResponse:
        """Answer a read: from the cache, or built for "today" and cached under that key."""
        now = self.clock.now()
        key = self._key(scope, now.date())  # taken before building: a publish meanwhile
        answer = self.answers.get(key)  # must not file a new answer under the old state
        if answer is None:
            _BUILT.inc()
            answer = await build(now.date())
            self.answers.put(key, answer, answer.size())
        return RawResponse(*respond(answer, scope["headers"], now=now, max_age=self.max_age))


class FastPath:
    """ASGI middleware: answer a cached GET/HEAD itself, pass everything else on."""

    def __init__(self, app: Any, cache: AnswerCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in _READS:
            response = self.cache.cached(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
