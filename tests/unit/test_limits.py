"""Limits are rule errors (changesets.md, "Validation"): a name or code that is too long, or a
document over 5 MiB, is reported together with every other rule error."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.documents import convert_document, parse_document
from app.domain.errors import InvalidDocument
from app.domain.limits import MAX_DOCUMENT_BYTES
from app.domain.planning import plan_changeset
from tests.unit.test_planning import state


def rule_errors(
    tree: dict[str, Any], *, document_bytes: int | None = None
) -> list[tuple[str, str]]:
    document = convert_document(tree)
    with pytest.raises(InvalidDocument) as caught:
        plan_changeset(document, {"fravaer": state()}, document_bytes=document_bytes)
    return [(e.path, e.message) for e in caught.value.errors]


def doc(*changes: dict[str, Any], **header: Any) -> dict[str, Any]:
    return {"id": "cs", "reason": "test", "changes": list(changes)} | header


def test_a_long_name_hides_no_unknown_list() -> None:
    long_name = {"code": "1", "name": "n" * 501, "valid_from": "2026-01-01"}
    assert rule_errors(
        doc(
            {"op": "upsert", "list": "fravaer", "values": [long_name]},
            {"op": "set", "list": "nosuchlist", "codes": ["1"], "fields": {"active": False}},
        )
    ) == [
        ("changes[0].values[0].name", "is 501 characters long; the limit is 500"),
        ("changes[1].list", "list 'nosuchlist' does not exist"),
    ]


def test_a_long_code_anywhere_is_reported_with_the_other_rule_errors() -> None:
    code = "x" * 65
    errors = rule_errors(
        doc(
            {"op": "set", "list": "fravaer", "codes": [code], "fields": {"parent": code}},
            {
                "op": "upsert",
                "list": "fravaer",
                "values": [
                    {"code": code, "name": "n", "valid_from": "2026-01-01", "replaced_by": [code]}
                ],
            },
            {"op": "set", "list": "fravaer", "codes": ["404"], "fields": {"active": False}},
        )
    )
    limit = "is 65 characters long; the limit is 64"
    assert errors == [
        ("changes[0].codes[0]", limit),
        ("changes[0].fields.parent", limit),
        ("changes[1].values[0].code", limit),
        ("changes[1].values[0].replaced_by[0]", limit),
        ("changes[0].codes[0]", f"code '{code}' does not exist in list 'fravaer'"),
        ("changes[2].codes[0]", "code '404' does not exist in list 'fravaer'"),
        ("changes[1].values[0].replaced_by", f"code '{code}' cannot replace itself"),
    ]


def test_every_text_limit_of_the_document_is_a_rule_error() -> None:
    errors = rule_errors(
        doc(
            {
                "op": "create_list",
                "list": "l" * 65,
                "name": "n" * 501,
                "description": "d" * 5001,
                "source": "s" * 5001,
            },
            id="i" * 101,
            reason="r" * 2001,
            release="v" * 101,
            reference="x" * 5001,
        )
    )
    assert [path for path, _ in errors] == [
        "id",
        "reason",
        "changes[0].list",
        "changes[0].name",
        "changes[0].description",
        "changes[0].source",
        "release",
        "reference",
    ]


def test_limits_are_inclusive() -> None:
    value = {"code": "c" * 64, "name": "n" * 500, "valid_from": "2026-01-01"}
    document = convert_document(doc({"op": "upsert", "list": "fravaer", "values": [value]}))
    assert plan_changeset(document, {"fravaer": state()}, document_bytes=MAX_DOCUMENT_BYTES)


def test_a_document_over_5_mib_is_reported_with_the_other_rule_errors() -> None:
    padding = "d" * MAX_DOCUMENT_BYTES
    raw = (
        '{"id": "big", "reason": "r", "changes": ['
        '{"op": "update_list", "list": "fravaer", "description": "' + padding + '"},'
        '{"op": "set", "list": "nosuchlist", "codes": ["1"], "fields": {"active": false}}]}'
    ).encode()
    document = parse_document(raw, yaml=False)
    # The larger of the text received and the document as stored (canonical JSON) counts.
    stored = max(len(raw), len(document.canonical_bytes()))
    with pytest.raises(InvalidDocument) as caught:
        plan_changeset(document, {"fravaer": state()}, document_bytes=len(raw))
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("", f"document is {stored} bytes; the limit is 5 MiB (5242880 bytes)"),
        ("changes[0].description", f"is {len(padding)} characters long; the limit is 5000"),
        ("changes[1].list", "list 'nosuchlist' does not exist"),
    ]
