"""Audit text every database stores (app/domain/storable.py): escaped visibly, reversibly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.storable import original, storable, storable_json

# Characters that make the escape's corner cases, and any other character (surrogates included).
_TRICKY = st.sampled_from(["\\", "x", "u", "0", "a", "\x00", "\ud800", "\udc80", "\udfff"])
_TEXT = st.text(alphabet=st.one_of(_TRICKY, st.characters(codec=None)), max_size=40)


@given(_TEXT)
def test_every_string_comes_back_exactly(text: str) -> None:
    kept = storable(text)
    assert original(kept) == text
    assert "\x00" not in kept
    kept.encode("utf-8")  # no lone surrogate left: any database takes it


@given(_TEXT, st.integers(min_value=0, max_value=60))
def test_a_cut_never_splits_an_escape(text: str, limit: int) -> None:
    kept = storable(text, limit)
    assert len(kept) <= limit
    assert storable(text).startswith(kept)
    assert text.startswith(original(kept))


def test_the_escapes_are_visible_and_ordinary_text_unchanged() -> None:
    assert storable("/v1/admin/changesets/probe\x00") == "/v1/admin/changesets/probe\\x00"
    assert storable("a\udc80b\ud800") == "a\\udc80b\\ud800"
    assert storable("\\x00") == "\\\\x00"  # a backslash that would read as an escape
    assert storable("C:\\temp\\") == "C:\\temp\\"  # one that would not
    assert storable("tab\there, newline\nand æøå €") == "tab\there, newline\nand æøå €"
    assert storable_json({"p\x00": ["\x00", 1, None, {"k": "\udc80"}]}) == {
        "p\\x00": ["\\x00", 1, None, {"k": "\\udc80"}]
    }
