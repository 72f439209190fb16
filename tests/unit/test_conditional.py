"""Conditional GET, content codings and cache headers on an encoded answer."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import brotli
import pytest

from app.domain.sized_lru import SizedLRU
from app.http.answer import MAX_SURROGATE_KEY, Answer, surrogate_key
from app.http.conditional import CachePolicy, negotiate, respond, seconds_until
from app.http.dates import parse_http_date
from tests.conftest import ZONE

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
SMALL = b'{"options":[]}'
PUBLIC = CachePolicy()
LARGE = b'{"values":[' + b",".join(b'{"code":"%d"}' % i for i in range(200)) + b"]}"


def answer(body: bytes = SMALL, **facts: object) -> Answer:
    return Answer(body, last_modified=NOW - timedelta(hours=1), **facts)  # type: ignore[arg-type]


def get(
    a: Answer, *headers: tuple[str, str], policy: CachePolicy = PUBLIC, now: datetime = NOW
) -> tuple[int, dict[str, str], bytes]:
    status, raw, body = respond(
        a, [(k.lower().encode(), v.encode()) for k, v in headers], now=now, policy=policy
    )
    names = [k for k, _ in raw]
    assert len(names) == len(set(names)), "no header twice"
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
    for name in ("etag", "cache-control", "vary", "last-modified", "surrogate-key"):
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


def test_lru_is_bounded_by_bytes() -> None:
    cache: SizedLRU[int, str] = SizedLRU(100)
    for key in range(10):
        cache.put(key, "x", 30)
    assert cache.bytes <= 100 and len(cache) == 3
    assert cache.get(9) == "x" and cache.get(0) is None
    cache.put(99, "too big", 101)
    assert cache.get(99) is None


# If-Modified-Since: every HTTP-date form of RFC 9110 §5.6.7 names the same instant.
LAST_MODIFIED = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
SAME_INSTANT = (
    "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
    "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
    "Sun Nov  6 08:49:37 1994",  # asctime
)
SECOND_BEFORE = (
    "Sun, 06 Nov 1994 08:49:36 GMT",
    "Sunday, 06-Nov-94 08:49:36 GMT",
    "Sun Nov  6 08:49:36 1994",
)


@pytest.mark.parametrize("form", SAME_INSTANT)
def test_every_http_date_form_is_understood(form: str) -> None:
    assert parse_http_date(form, now=NOW) == LAST_MODIFIED
    a = Answer(SMALL, last_modified=LAST_MODIFIED)
    assert get(a, ("If-Modified-Since", form))[0] == 304


@pytest.mark.parametrize("form", SECOND_BEFORE)
def test_an_earlier_date_in_any_form_gets_the_answer(form: str) -> None:
    a = Answer(SMALL, last_modified=LAST_MODIFIED)
    assert get(a, ("If-Modified-Since", form))[0] == 200


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "",
        "Sun, 06 Nov 1994 08:49:37 +0000",  # numeric zones are not HTTP-dates
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",  # no such day
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",  # asctime pads the day with a space
        "Sun, 06 Nov 94 08:49:37 GMT",
    ],
)
def test_what_is_not_an_http_date_is_ignored(text: str) -> None:
    assert parse_http_date(text, now=NOW) is None
    a = Answer(SMALL, last_modified=LAST_MODIFIED)
    assert get(a, ("If-Modified-Since", text))[0] == 200


def test_two_digit_years_are_never_more_than_50_years_ahead() -> None:
    assert parse_http_date("Monday, 06-Nov-76 08:49:37 GMT", now=NOW) == datetime(
        2076, 11, 6, 8, 49, 37, tzinfo=UTC
    )
    assert parse_http_date("Sunday, 06-Nov-77 08:49:37 GMT", now=NOW) == datetime(
        1977, 11, 6, 8, 49, 37, tzinfo=UTC
    )


# Accept-Encoding: RFC 9110 §12.5.3 and the weights of §12.4.2.
@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("gzip", "gzip"),
        ("GZip", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip, br", "br"),  # equal weights: the smaller coding
        ("br;q=0, gzip", "gzip"),
        ("br;q=0.1, gzip", "gzip"),  # the highest weight wins
        ("br;q=0.1, gzip;q=0.2", "gzip"),
        ("gzip;q=0.5, br;q=0.51", "br"),
        ("gzip ; q=0.5 , br ; q=0.4", "gzip"),
        ("identity", "identity"),
        ("*", "br"),
        ("*, br;q=0", "gzip"),
        ("br;q=0.5, *;q=0.8", "gzip"),
        ("gzip;q=0", "identity"),
        ("gzip;Q=0", "identity"),
        ("gzip;q=0.000", "identity"),
        ("gzip;Q=0.00, br;q=0", "identity"),
        ("deflate, br;q=0.5", "br"),
        ("identity, gzip;q=0.5", "identity"),  # identity named at a higher weight
        ("identity;q=0.5, gzip;q=0.5", "gzip"),
        ("identity;q=0, gzip;q=0.1", "gzip"),
        ("br;q=0.001", "br"),  # anything named acceptable beats the unnamed identity
        ("*;q=0", "identity"),  # nothing acceptable: identity rather than 406 (§12.5.3 allows)
        ("gzip;q=1.5", "identity"),  # not a qvalue: the member is ignored
        ("gzip;q=0.5.5, br;q=abc", "identity"),
        ("compress, deflate", "identity"),
    ],
)
def test_negotiation(header: str, coding: str) -> None:
    assert negotiate(header.encode()) == coding


def test_an_empty_accept_encoding_means_identity() -> None:
    assert "content-encoding" not in get(answer(LARGE), ("Accept-Encoding", ""))[1]
    assert negotiate(b"") == "identity"


# Cache-Control.
def test_max_age_never_beyond_the_next_state_change() -> None:
    soon = answer(changes_at=NOW + timedelta(seconds=90))
    assert get(soon)[1]["cache-control"] == (
        "public, max-age=90, stale-while-revalidate=60, stale-if-error=86400"
    )
    later = answer(changes_at=NOW + timedelta(days=3))
    assert "max-age=300," in get(later)[1]["cache-control"]
    past = answer(changes_at=NOW - timedelta(seconds=5))
    assert "max-age=0," in get(past)[1]["cache-control"]
    assert get(answer(immutable=True))[1]["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("now", "midnight", "elapsed"),
    [
        # The day before the spring change (29 March 2026, 02:00 -> 03:00): 35 h, not 36.
        (datetime(2026, 3, 28, 12, tzinfo=ZONE), datetime(2026, 3, 30, tzinfo=ZONE), 35 * 3600),
        # On the day itself, before the change: 22 h 30 min, not 23 h 30 min.
        (datetime(2026, 3, 29, 0, 30, tzinfo=ZONE), datetime(2026, 3, 30, tzinfo=ZONE), 81000),
        # The day before the autumn change (25 October 2026, 03:00 -> 02:00): 37 h, not 36.
        (datetime(2026, 10, 24, 12, tzinfo=ZONE), datetime(2026, 10, 26, tzinfo=ZONE), 37 * 3600),
        # Told in another zone, the same instants.
        (datetime(2026, 10, 24, 10, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=ZONE), 37 * 3600),
    ],
)
def test_max_age_counts_elapsed_seconds_across_daylight_saving_changes(
    now: datetime, midnight: datetime, elapsed: int
) -> None:
    assert seconds_until(midnight, now) == elapsed
    policy = CachePolicy(max_age=31536000, shared_max_age=31536000)
    control = get(answer(changes_at=midnight), policy=policy, now=now)[1]["cache-control"]
    assert control == (
        f"public, max-age={elapsed}, s-maxage={elapsed}, "
        "stale-while-revalidate=60, stale-if-error=86400"
    )


def test_shared_max_age_is_bounded_by_the_next_state_change_too() -> None:
    policy = CachePolicy(max_age=300, shared_max_age=3600)
    assert get(answer(), policy=policy)[1]["cache-control"] == (
        "public, max-age=300, s-maxage=3600, stale-while-revalidate=60, stale-if-error=86400"
    )
    soon = answer(changes_at=NOW + timedelta(seconds=1000))
    assert "max-age=300, s-maxage=1000," in get(soon, policy=policy)[1]["cache-control"]
    assert get(answer(immutable=True), policy=policy)[1]["cache-control"] == (
        "public, max-age=31536000, s-maxage=3600, immutable"
    )


def test_answers_for_token_holders_are_private_without_shared_cache_headers() -> None:
    policy = CachePolicy(max_age=300, shared_max_age=3600, public=False)
    for a in (answer(lists=["fravaer"]), answer(LARGE, changes_at=NOW + timedelta(seconds=9))):
        _, full, _ = get(a, policy=policy)
        assert full["cache-control"].startswith("private, max-age=")
        assert "s-maxage" not in full["cache-control"] and "public" not in full["cache-control"]
        assert "surrogate-key" not in full
        status, not_modified, _ = get(a, ("If-None-Match", full["etag"]), policy=policy)
        assert status == 304 and not_modified == {
            k: v for k, v in full.items() if k not in ("content-type", "content-length")
        }
    immutable = get(answer(immutable=True), policy=policy)[1]["cache-control"]
    assert immutable == "private, max-age=31536000, immutable"


def test_surrogate_keys() -> None:
    assert surrogate_key() == b"codelists"
    assert surrogate_key(["fravaer"]) == b"codelists list:fravaer"
    assert surrogate_key(["b", "a", "b"], index=True) == b"codelists list:a list:b index"
    # At national scale the index names no list: "index" stands for them all.
    many = [f"list-{number:04d}" for number in range(1000)]
    assert surrogate_key(many, index=True) == b"codelists index"
    assert len(surrogate_key(many[:50], index=True)) <= MAX_SURROGATE_KEY
    assert surrogate_key(many[:50], index=True).split()[1] == b"list:list-0000"
    _, headers, _ = get(answer(lists=["fravaer"]))
    assert headers["surrogate-key"] == "codelists list:fravaer"


def test_lists_on_several_field_lines_are_one_list() -> None:
    large = answer(LARGE)
    _, plain, _ = get(large)
    both = get(large, ("Accept-Encoding", "br;q=0.1"), ("Accept-Encoding", "gzip"))[1]
    assert both["content-encoding"] == "gzip"
    assert get(large, ("If-None-Match", '"x"'), ("If-None-Match", plain["etag"]))[0] == 304
    last_modified = plain["last-modified"]
    twice = (("If-Modified-Since", last_modified), ("If-Modified-Since", last_modified))
    assert get(large, *twice)[0] == 200
