"""FHIR resource ids from list keys (issue 9 item 11): valid, deterministic, collision-free."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from app.domain.documents import LIST_KEY_PATTERN
from app.reads.fhir import fhir_id

FHIR_ID = re.compile(r"[A-Za-z0-9\-\.]{1,64}")


def test_valid_keys_stay_as_they_are() -> None:
    assert fhir_id("fravaer") == "fravaer"
    assert fhir_id("a-b") == "a-b"
    assert fhir_id("k" * 64) == "k" * 64


def test_invalid_keys_get_a_valid_id_with_a_hash() -> None:
    underscored = fhir_id("a_b")
    assert FHIR_ID.fullmatch(underscored)
    assert underscored.startswith("a-b.")
    assert underscored != fhir_id("a-b")
    assert fhir_id("a_b") == underscored  # deterministic
    long = fhir_id("k" * 65)
    assert FHIR_ID.fullmatch(long) and long != fhir_id("k" * 66)
    assert fhir_id("x" * 63 + "_") != fhir_id("x" * 64)
    assert FHIR_ID.fullmatch(fhir_id("x" * 63 + "_"))


@given(st.sets(st.from_regex(LIST_KEY_PATTERN, fullmatch=True), min_size=2, max_size=20))
def test_distinct_list_keys_get_distinct_valid_ids(keys: set[str]) -> None:
    ids = {fhir_id(key) for key in keys}
    assert len(ids) == len(keys)
    assert all(FHIR_ID.fullmatch(i) for i in ids)


@given(st.text(max_size=100))
def test_any_text_gives_a_valid_id(key: str) -> None:
    assert FHIR_ID.fullmatch(fhir_id(key))
