"""Danish alphabetical order: æ, ø, å after z; accents and case only break ties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.collation import danish_sort_key


def ordered(words: list[str]) -> list[str]:
    return sorted(words, key=danish_sort_key)


def test_danish_letters_come_after_z_in_their_order() -> None:
    assert ordered(["år", "øl", "æble", "zebra", "abe"]) == ["abe", "zebra", "æble", "øl", "år"]


def test_upper_and_lower_case_sort_together() -> None:
    assert ordered(["Øl", "zebra", "Abe", "ål", "Æble"]) == ["Abe", "zebra", "Æble", "Øl", "ål"]


def test_accents_do_not_move_a_letter() -> None:
    assert ordered(["ezra", "émile", "fisk"]) == ["émile", "ezra", "fisk"]


def test_german_umlauts_sort_as_danish_letters() -> None:
    assert ordered(["ø", "ä", "ö", "z"]) == ["z", "ä", "ö", "ø"]


def test_digits_before_letters_and_spaces_before_both() -> None:
    assert ordered(["b", "1a", "a b", "ab"]) == ["1a", "a b", "ab", "b"]


def test_decomposed_input_sorts_like_composed() -> None:
    assert danish_sort_key("a\u030a")[0] == danish_sort_key("å")[0]


@given(st.text(alphabet="abcxyzæøåABCÆØÅ ", max_size=12))
def test_case_never_changes_the_primary_order(word: str) -> None:
    assert danish_sort_key(word)[0] == danish_sort_key(word.upper())[0]


@given(st.text(alphabet="abcxyz", min_size=1, max_size=6), st.sampled_from("æøå"))
def test_any_word_starting_with_a_danish_letter_follows_plain_words(word: str, letter: str) -> None:
    assert danish_sort_key(word) < danish_sort_key(letter + word)


@given(st.text(alphabet=st.characters(max_codepoint=0x24F), max_size=20))
def test_the_table_gives_the_same_order_as_character_by_character(text: str) -> None:
    import unicodedata

    from app.domain.collation import _base_letters, _primary, _weights

    slow = "".join(_weights(_base_letters(c)) for c in unicodedata.normalize("NFC", text))
    assert _primary(text) == slow
