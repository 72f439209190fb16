"""An encoded answer: body bytes with their strong ETag, compressed forms and cache facts.

An answer is encoded once and kept; repeats and revalidations are served from these bytes.
Compressed forms are made on first demand, so a client that never asks for brotli costs
nothing, and kept with the answer.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal

import brotli

from app.domain.surrogate_keys import ALL_KEY, INDEX_KEY, KEYS_BUDGET, list_tag
from app.http.security import protective_headers

Coding = Literal["identity", "gzip", "br"]

# Bodies smaller than this are not worth compressing (api.md: "bodies over 1 KiB").
COMPRESS_OVER = 1024
_SIZE_OVERHEAD = 512  # keys, headers and object overhead per cached answer, roughly


MAX_SURROGATE_KEY = KEYS_BUDGET  # bound of a Surrogate-Key value naming every list


def surrogate_key(lists: Iterable[str] = (), *, index: bool = False) -> bytes:
    """The ``Surrogate-Key`` value of an answer (api.md "Shared caches and CDNs").

    ``codelists`` always (an operator's purge-all), ``list:<key>`` for each list the answer
    depends on, and ``index`` when it depends on the set of lists. An ``index`` answer depends
    on every list; it names them all while that fits in ``MAX_SURROGATE_KEY`` bytes, else
    ``index`` alone stands for them: every publish purges ``index`` too. List keys never
    contain a space (LIST_KEY_PATTERN), so the space-separated value is unambiguous.
    """
    keys = [ALL_KEY, *(list_tag(key) for key in sorted(set(lists)))]
    if index:
        keys.append(INDEX_KEY)
    value = " ".join(keys)
    if index and len(value) > MAX_SURROGATE_KEY:
        value = f"{ALL_KEY} {INDEX_KEY}"
    return value.encode()


class Answer:
    """One read answer: its bytes and the facts its cache headers are made from.

    ``last_modified`` and ``changes_at`` are aware datetimes; ``changes_at`` is the next
    instant (a midnight in the service's time zone) at which the answer changes state, or None.
    ``lists`` are the keys of the lists the answer depends on and ``index`` says it depends on
    the set of lists; together they make its ``Surrogate-Key``.
    """

    __slots__ = (
        "_encoded",
        "body",
        "changes_at",
        "etag",
        "immutable",
        "last_modified",
        "last_modified_header",
        "media_type",
        "protective_headers",
        "surrogate_key",
    )

    def __init__(
        self,
        body: bytes,
        *,
        last_modified: datetime,
        changes_at: datetime | None = None,
        immutable: bool = False,
        media_type: bytes = b"application/json",
        lists: Iterable[str] = (),
        index: bool = False,
    ) -> None:
        self.body = body
        self.media_type = media_type
        # nosniff, and a page's CSP and framing rules: made once, added as they are.
        self.protective_headers = protective_headers(media_type)
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        self.etag = digest
        self.last_modified = last_modified.astimezone(UTC).replace(microsecond=0)
        self.last_modified_header = format_datetime(self.last_modified, usegmt=True).encode()
        # The next instant at which the answer's selectable values change, when it depends on
        # "today"; caches must not keep it past then.
        self.changes_at = changes_at
        # Both version and date were given: this answer can never change.
        self.immutable = immutable
        self.surrogate_key = surrogate_key(lists, index=index)
        self._encoded: dict[Coding, tuple[bytes, bytes]] = {}

    def representation(self, coding: Coding) -> tuple[bytes, bytes]:
        """(body, quoted strong ETag) for ``coding``; each coding is its own representation."""
        found = self._encoded.get(coding)
        if found is None:
            if coding == "identity" or len(self.body) <= COMPRESS_OVER:
                found = (self.body, f'"{self.etag}"'.encode())
            elif coding == "gzip":
                found = (gzip.compress(self.body, 6, mtime=0), f'"{self.etag}-gzip"'.encode())
            else:
                found = (brotli.compress(self.body, quality=4), f'"{self.etag}-br"'.encode())
            self._encoded[coding] = found
        return found

    def compressible(self) -> bool:
        return len(self.body) > COMPRESS_OVER

    def size(self) -> int:
        # Counted once, when cached: room for the body and for compressed forms made later
        # (together well under half the body for JSON).
        return _SIZE_OVERHEAD + len(self.body) * 3 // 2
