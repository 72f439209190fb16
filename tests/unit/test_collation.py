"""Danish alphabetical order is CLDR's `da` order (api.md, options): checked against ICU on a few
hundred real Danish names, and on the cases CLDR spells out (`aa` is `å`; æ, ø, å after z)."""

from __future__ import annotations

import random
import unicodedata
from datetime import date
from pathlib import Path

import icu
from hypothesis import given
from hypothesis import strategies as st

from app.domain.collation import danish_sort_key
from app.domain.values import Value, in_option_order

NAMES_FILE = Path(__file__).parent / "data" / "danish_names.txt"


def real_danish_names() -> list[str]:
    """The names in tests/unit/data/danish_names.txt (comments and blank lines left out)."""
    lines = NAMES_FILE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def ordered(words: list[str]) -> list[str]:
    return sorted(words, key=danish_sort_key)


def icu_order(words: list[str]) -> list[str]:
    """ICU's own order for the `da` locale, with a collator made here, untouched."""
    collator = icu.Collator.createInstance(icu.Locale("da"))
    return sorted(words, key=collator.getSortKey)


def test_the_names_file_holds_a_few_hundred_distinct_names() -> None:
    names = real_danish_names()
    assert len(names) >= 300
    assert len({danish_sort_key(name) for name in names}) == len(names)


def test_option_order_of_real_danish_names_is_icus_order() -> None:
    names = real_danish_names()
    random.Random(9).shuffle(names)  # the order of the file must not help
    values = [
        Value(code=str(i), name=name, valid_from=date(2026, 1, 1)) for i, name in enumerate(names)
    ]
    assert [value.name for value in in_option_order(values)] == icu_order(names)


def test_aa_sorts_as_a_ring_after_o_slash() -> None:
    assert ordered(["Aarhus", "Ølstykke", "Aabenraa", "Odense", "Ærø", "Zealand"]) == [
        "Odense",
        "Zealand",
        "Ærø",
        "Ølstykke",
        "Aabenraa",
        "Aarhus",
    ]
    assert ordered(["Aalborg", "Ålborg", "Århus", "Ørum"])[0] == "Ørum"


def test_danish_letters_come_after_z_in_their_order() -> None:
    assert ordered(["år", "øl", "æble", "zebra", "abe"]) == ["abe", "zebra", "æble", "øl", "år"]


def test_upper_and_lower_case_sort_together() -> None:
    assert ordered(["Øl", "zebra", "Abe", "ål", "Æble"]) == ["Abe", "zebra", "Æble", "Øl", "ål"]


def test_accents_do_not_move_a_letter() -> None:
    assert ordered(["ezra", "émile", "fisk"]) == ["émile", "ezra", "fisk"]


def test_german_umlauts_sort_with_the_danish_letters() -> None:
    assert ordered(["ø", "ä", "ö", "z", "æ"]) == ["z", "æ", "ä", "ø", "ö"]
    assert ordered(["Mynster", "Müller", "Mylius"]) == ["Mylius", "Müller", "Mynster"]  # ü as y


def test_digits_before_letters_and_spaces_before_both() -> None:
    assert ordered(["b", "1a", "a b", "ab"]) == ["1a", "a b", "ab", "b"]


@given(st.text(alphabet="aAåÅeéøØæÆ\u030a\u0301 ", max_size=12))
def test_unicode_normalisation_never_changes_the_key(word: str) -> None:
    composed = unicodedata.normalize("NFC", word)
    assert danish_sort_key(word) == danish_sort_key(composed)
    assert danish_sort_key(unicodedata.normalize("NFD", word)) == danish_sort_key(composed)


# Plain words without "aa", which is itself å.
@given(st.text(alphabet="bcdxyz", min_size=1, max_size=6), st.sampled_from(["æ", "ø", "å", "aa"]))
def test_any_word_starting_with_a_danish_letter_follows_plain_words(word: str, letter: str) -> None:
    assert danish_sort_key(word) < danish_sort_key(letter + word)
