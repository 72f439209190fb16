"""Answers kept by request, and the fast path that serves them in front of the framework.

A read's answer is fully determined by the published state (the catalog's generation), the
date ("today", when no ``at`` is given) and the request's path and query. The handlers store
each answer they encode under that key; a repeat of the same request is then answered in front
of the framework, with its 304, its compressed form and its CORS headers, without routing,
parsing or touching the database.

When reads need a token the fast path checks it too (through a short-lived cache of token
lookups, so a revoked token is refused within a second) and answers only a token with one of
the scopes the answer's own route demanded; anything else goes on to the framework, whose
guards answer 401 or 403.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable, Set
from datetime import date, datetime
from typing import Any, Protocol

from prometheus_client import Counter

from app.domain.clock import Clock
from app.domain.principals import READ_SCOPES
from app.domain.sized_lru import SizedLRU
from app.http.answer import Answer
from app.http.conditional import CachePolicy, respond
from app.http.cors import CORSPolicy
from app.http.raw import RawResponse

_READS = frozenset({"GET", "HEAD"})

# Requests served in front of the framework never reach litestar's metrics; these count them.
ANSWERS = Counter("codelists_answers", "Read answers by how they were produced", ["source"])
_FROM_CACHE = ANSWERS.labels(source="cached")
_BUILT = ANSWERS.labels(source="built")

# (Authorization header value or None, scopes any one of which suffices) -> may it read?
Authorise = Callable[[bytes | None, Set[str]], Awaitable[bool]]


class AccessLog(Protocol):
    """The access log (app/server/access.py), which the fast path tells of its own answers."""

    def request_id(self, scope: Any) -> bytes | None:
        """The request's id for ``X-Request-ID``; None when access lines are off."""

    def record(self, scope: Any, status: int, request_id: bytes, started: float) -> None:
        """Log the answer's line; ``started`` is ``time.perf_counter()`` at its arrival."""


class AnswerCache:
    """Encoded answers by (generation, today, path, query), bounded by ``max_bytes``.

    Each entry also keeps the scopes its route demanded, for the fast path's token check.
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        generation: Callable[[], int],
        clock: Clock,
        policy: CachePolicy | None = None,
    ) -> None:
        self.answers: SizedLRU[Hashable, tuple[Answer, Set[str]]] = SizedLRU(max_bytes)
        self.generation = generation
        self.clock = clock
        self.policy = policy or CachePolicy()
        # Answers being built, by the generation they were asked under: a purge of shared
        # caches waits until none from before the publish is still on its way out.
        self.building: dict[int, int] = {}

    def building_before(self, generation: int) -> bool:
        """True while an answer asked under an older generation is still being built."""
        return any(started < generation for started in self.building)

    def _key(self, scope: Any, today: date) -> Hashable:
        return (self.generation(), today, scope["path"], scope["query_string"])

    def lookup(self, scope: Any, now: datetime) -> tuple[Answer, Set[str]] | None:
        """The cached answer to a repeated request at ``now`` and the scopes it needs, or None."""
        return self.answers.get(self._key(scope, now.date()))

    def response(self, answer: Answer, scope: Any, now: datetime) -> RawResponse:
        """The response to a GET/HEAD of ``answer`` at ``now``: 200 or 304, with cache headers
        and the answer's protective headers (``app/http/security.py``)."""
        status, headers, body = respond(answer, scope["headers"], now=now, policy=self.policy)
        headers.extend(answer.protective_headers)
        return RawResponse(status, headers, body)

    async def serve(
        self,
        scope: Any,
        build: Callable[[date], Awaitable[Answer]],
        *,
        scopes: Set[str] = READ_SCOPES,
    ) -> RawResponse:
        """Answer a read: from the cache, or built for "today" and cached under that key.

        ``scopes`` are those the route's guard accepts (besides ``admin``); the fast path
        demands the same of a token before it serves the cached answer.
        """
        now = self.clock.now()
        key = self._key(scope, now.date())  # taken before building: a publish meanwhile
        found = self.answers.get(key)  # must not file a new answer under the old state
        if found is None:
            _BUILT.inc()
            started = key[0]  # type: ignore[index]
            self.building[started] = self.building.get(started, 0) + 1
            try:
                answer = await build(now.date())
            finally:
                left = self.building.pop(started) - 1
                if left:
                    self.building[started] = left
            self.answers.put(key, (answer, frozenset(scopes)), answer.size())
        else:
            answer = found[0]
        return self.response(answer, scope, now)


class FastPath:
    """ASGI middleware: answer a cached GET/HEAD itself, pass everything else on.

    ``cors`` adds the same CORS headers the CORS middleware adds to the framework's answers.
    ``authorise`` is None when reads are public; otherwise the cached answer is served only
    when it says the request's token may read it. ``access_log`` is told of every answer made
    here, whose ``X-Request-ID`` is added here too: the access log middleware behind the fast
    path (``app``) logs the rest, and a wrapped ``send`` per cached answer would cost the hot
    path more than the line itself.
    """

    def __init__(
        self,
        app: Any,
        cache: AnswerCache,
        *,
        cors: CORSPolicy,
        authorise: Authorise | None = None,
        access_log: AccessLog | None = None,
    ) -> None:
        self.app = app
        self.cache = cache
        self.cors = cors
        self.authorise = authorise
        self.access_log = access_log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in _READS:
            started = time.perf_counter()
            now = self.cache.clock.now()
            found = self.cache.lookup(scope, now)
            authorise = self.authorise
            if found is not None and (
                authorise is None or await _authorised(authorise, scope, found[1])
            ):
                _FROM_CACHE.inc()
                response = self.cache.response(found[0], scope, now)
                self.cors.apply(response.headers, scope["headers"])
                log = self.access_log
                request_id = None if log is None else log.request_id(scope)
                if request_id is None:
                    await response(scope, receive, send)
                    return
                response.headers.append((b"x-request-id", request_id))
                try:
                    await response(scope, receive, send)
                finally:
                    log.record(scope, response.status, request_id, started)  # type: ignore[union-attr]
                return
        await self.app(scope, receive, send)


async def _authorised(authorise: Authorise, scope: Any, scopes: Set[str]) -> bool:
    try:
        return await authorise(_authorization(scope), scopes)
    except Exception:  # noqa: BLE001 - the framework's guard meets it again and answers it
        return False


def _authorization(scope: Any) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value  # type: ignore[no-any-return]
    return None
