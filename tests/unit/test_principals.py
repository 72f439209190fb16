"""Principal names in canonical form (issue 21, item 7) and the JWT principal's name."""

from __future__ import annotations

import pytest

from app.domain.principals import (
    canonical_name,
    issuer_names_for,
    jwt_principal_name,
    looks_like_jwt_principal,
    name_problem,
    same_principal,
)


@pytest.mark.parametrize(
    "spelling",
    [
        "a1",
        "A1",
        "a1 ",
        " a1",
        "a1\u200b",
        "\u200ba\u00ad1",
        "Ａ１",
        "a1\ufeff",
        "a\u20601",
        "a1\t",
    ],
)
def test_spellings_of_one_name_are_one_principal(spelling: str) -> None:
    assert canonical_name(spelling) == "a1"
    assert same_principal(spelling, "a1")


def test_inner_white_space_is_one_space_and_case_is_folded() -> None:
    assert canonical_name("  Anna \t\n  Jensen ") == "anna jensen"
    assert canonical_name("STRASSE") == canonical_name("straße")
    assert not same_principal("anna", "anne")


@pytest.mark.parametrize("name", ["", "   ", "\u200b", "\u200b \u200c\ufeff", "\u180e", "\x00"])
def test_a_name_blank_in_canonical_form_is_refused(name: str) -> None:
    assert name_problem(name, []) is not None


def test_another_spelling_of_an_existing_name_is_refused_the_same_is_taken() -> None:
    assert name_problem("carl", ["carl"]) is None
    assert name_problem("Carl", ["carl"]) is not None
    assert name_problem("carl\u200b", ["carl"]) is not None
    assert name_problem("bo", ["carl"]) is None


def test_a_static_token_cannot_take_a_jwt_principals_name() -> None:
    assert looks_like_jwt_principal("supplier@https://idp.example")
    assert looks_like_jwt_principal("SUPPLIER＠HTTP://127.0.0.1:8080")
    assert name_problem("x@http://idp", []) is not None
    assert not looks_like_jwt_principal("anna@star.dk")


def test_a_jwt_principal_is_named_from_issuer_and_client_or_subject() -> None:
    issuer = "https://idp.example"
    assert jwt_principal_name(issuer=issuer, subject="c1", client_id="c1") == f"c1@{issuer}"
    assert jwt_principal_name(issuer=issuer, subject=None, client_id="c1") == f"c1@{issuer}"
    assert jwt_principal_name(issuer=issuer, subject="p7", client_id="c1") == f"p7@{issuer}"
    with pytest.raises(ValueError, match="neither"):
        jwt_principal_name(issuer=issuer, subject=None, client_id=None)


def test_the_scope_to_ask_for_is_in_the_issuers_names() -> None:
    table = {"codelists:read": "read", "codelists:admin": "admin", "codelists:approve": "approve"}
    assert issuer_names_for({"admin"}, table) == ["codelists:admin"]
    assert issuer_names_for({"read", "sync"}, table) == ["codelists:admin", "codelists:read"]
