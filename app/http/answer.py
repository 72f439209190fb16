"""An encoded answer: body bytes with their strong ETag, compressed forms and cache facts.

An answer is encoded once and kept; repeats and revalidations are served from these bytes.
Compressed forms are made on first demand, so a client that never asks for brotli costs
nothing, and kept with the answer.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Hashable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Generic, Literal, TypeVar

import brotli

Coding = Literal["identity", "gzip", "br"]

# Bodies smaller than this are not worth compressing (api.md: "bodies over 1 KiB").
COMPRESS_OVER = 1024
_SIZE_OVERHEAD = 512  # keys, headers and object overhead per cached answer, roughly


class Answer:
    __slots__ = (
        "_encoded",
        "body",
        "changes_at",
        "etag",
        "immutable",
        "last_modified",
        "last_modified_header",
        "media_type",
    )

    def __init__(
        self,
        body: bytes,
        *,
        last_modified: datetime,
        changes_at: datetime | None = None,
        immutable: bool = False,
        media_type: bytes = b"application/json",
    ) -> None:
        self.body = body
        self.media_type = media_type
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        self.etag = digest
        self.last_modified = last_modified.astimezone(UTC).replace(microsecond=0)
        self.last_modified_header = format_datetime(self.last_modified, usegmt=True).encode()
        # The next instant at which the answer's selectable values change, when it depends on
        # "today"; caches must not keep it past then.
        self.changes_at = changes_at
        # Both version and date were given: this answer can never change.
        self.immutable = immutable
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


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SizedLRU(Generic[K, V]):
    """A least-recently-used cache bounded by the total size of what it holds."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V, size: int) -> None:
        if size > self.max_bytes:
            return
        previous = self._items.pop(key, None)
        if previous is not None:
            self.bytes -= previous[1]
        self._items[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, evicted) = self._items.popitem(last=False)
            self.bytes -= evicted

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0
