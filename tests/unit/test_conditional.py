"""Conditional GET, content codings and cache headers on an encoded answer."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import brotli
import pytest

from app.http.answer import Answer, SizedLRU
from app.http.conditional import negotiate, respond

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
SMALL = b'{"options":[]}'
LARGE = b'{"values":[' + b",".join(b'{"code":"%d"}' % i for i in range(200)) + b"]}"


def answer(body: bytes = SMALL, **facts: object) -> Answer:
    return Answer(body, last_modified=NOW - timedelta(hours=1), **facts)  # type: ignore[arg-type]


def get(a: Answer, *headers: tuple[str, str]) -> tuple[int, dict[str, str], bytes]:
    status, raw, body = respond(
        a, [(k.lower().encode(), v.encode()) for k, v in headers], now=NOW, max_age=300
    )
    return status, {k.decode(): v.decode() for k, v in raw}, body


def test_strong_etag_from_body_bytes() -> None:
    _, headers, body = get(answer())
    assert body == SMALL
    assert headers["etag"].startswith('"') and not headers["etag"].startswith("W/")
    assert get(answer())[1]["etag"] == headers["etag"]
    assert get(answer(SMALL + b" "))[1]["etag"] != headers["etag"]


@pytest.mark.parametrize("form", ["{tag}", "W/{tag}", '"other", {tag}', "*"])
def test_if_none_match_gives_304_with_the_same_headers_and_no_body(form: str) -> None:
    a = answer()
    _, full, _ = get(a)
    status, headers, body = get(a, ("If-None-Match", form.format(tag=full["etag"])))
    assert (status, body) == (304, b"")
    for name in ("etag", "cache-control", "vary", "last-modified"):
        assert headers[name] == full[name]
    assert "content-length" not in headers


def test_non_matching_if_none_match_wins_over_if_modified_since() -> None:
    status, _, _ = get(
        answer(),
        ("If-None-Match", '"nope"'),
        ("If-Modified-Since", "Sat, 28 Nov 2026 00:00:00 GMT"),
    )
    assert status == 200


def test_if_modified_since() -> None:
    a = answer()
    last_modified = get(a)[1]["last-modified"]
    assert get(a, ("If-Modified-Since", last_modified))[0] == 304
    assert get(a, ("If-Modified-Since", "Thu, 26 Nov 2026 00:00:00 GMT"))[0] == 200
    assert get(a, ("If-Modified-Since", "yesterday"))[0] == 200


def test_compression_only_over_1_kib_and_each_coding_has_its_own_etag() -> None:
    small = get(answer(), ("Accept-Encoding", "gzip, br"))[1]
    assert "content-encoding" not in small
    large = answer(LARGE)
    _, gz_headers, gz_body = get(large, ("Accept-Encoding", "gzip"))
    assert gz_headers["content-encoding"] == "gzip" and gzip.decompress(gz_body) == LARGE
    _, br_headers, br_body = get(large, ("Accept-Encoding", "gzip, br"))
    assert br_headers["content-encoding"] == "br" and brotli.decompress(br_body) == LARGE
    _, plain, _ = get(large)
    assert len({plain["etag"], gz_headers["etag"], br_headers["etag"]}) == 3
    assert get(large, ("Accept-Encoding", "gzip"), ("If-None-Match", plain["etag"]))[0] == 200
    assert get(large, ("Accept-Encoding", "gzip"), ("If-None-Match", gz_headers["etag"]))[0] == 304


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("identity", "identity"),
        ("*", "br"),
        ("gzip;q=0", "identity"),
        ("deflate, br;q=0.5", "br"),
    ],
)
def test_negotiation(header: str, coding: str) -> None:
    assert negotiate(header.encode()) == coding


def test_max_age_never_beyond_the_next_state_change() -> None:
    soon = answer(changes_at=NOW + timedelta(seconds=90))
    assert get(soon)[1]["cache-control"] == (
        "public, max-age=90, stale-while-revalidate=60, stale-if-error=86400"
    )
    later = answer(changes_at=NOW + timedelta(days=3))
    assert "max-age=300," in get(later)[1]["cache-control"]
    assert get(answer(immutable=True))[1]["cache-control"] == "public, max-age=31536000, immutable"


def test_lru_is_bounded_by_bytes() -> None:
    cache: SizedLRU[int, str] = SizedLRU(100)
    for key in range(10):
        cache.put(key, "x", 30)
    assert cache.bytes <= 100 and len(cache) == 3
    assert cache.get(9) == "x" and cache.get(0) is None
    cache.put(99, "too big", 101)
    assert cache.get(99) is None
