"""`q` matching (api.md, options): Unicode case folding, any normalisation, å is not a."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from app.domain.matching import contains, search_form


def test_composed_and_decomposed_text_match_each_other() -> None:
    composed, decomposed = "Ålborg", unicodedata.normalize("NFD", "Ålborg")
    assert composed != decomposed
    assert contains(decomposed, search_form("ålb"))
    assert contains(composed, search_form(unicodedata.normalize("NFD", "ålb")))


def test_case_folding_is_unicodes_not_just_lower_case() -> None:
    assert contains("Große Straße", search_form("STRASSE"))
    assert contains("ΣΟΦΊΑ", search_form("σοφία"))  # final sigma folds like sigma
    assert contains("ÆRØ", search_form("ærø"))


def test_compatibility_forms_match_their_plain_letters() -> None:
    assert contains("ﬁskeri", search_form("fisk"))  # the ligature ﬁ
    assert contains("Kontor １２", search_form("12"))  # full-width digits


def test_a_plain_letter_is_not_found_inside_a_danish_one() -> None:
    assert not contains("Århus", search_form("a"))
    assert not contains(unicodedata.normalize("NFD", "Århus"), search_form("a"))
    assert not contains("Ørum", search_form("o"))


@given(st.text(alphabet="aAåÅeEéÉøØæÆßẞ\u030a\u0301 xX", max_size=10))
def test_the_search_form_is_a_fixed_point_of_every_normalisation(text: str) -> None:
    form = search_form(text)
    assert search_form(form) == form
    for normal in ("NFC", "NFD", "NFKC", "NFKD"):
        assert search_form(unicodedata.normalize(normal, text)) == form
    assert search_form(text.upper()) == search_form(text.lower())
