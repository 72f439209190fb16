"""Decoding change-set documents: structural errors with their paths, at least one per operation."""

from __future__ import annotations

import re

import pytest

from app.domain.documents import (
    CODE_PATTERN,
    MAX_DOCUMENT_BYTES,
    SetFields,
    Upsert,
    convert_document,
    parse_document,
)
from app.domain.errors import InvalidDocument

VALID_YAML = """
id: 2025-4-kontanthjaelpsreform
release: "2025-4"
reason: Kodelisteværdier sat inaktive
changes:
  - op: set
    list: fravaer
    codes: ["59", "60", "62"]
    fields: {active: false}
  - op: upsert
    list: fravaer
    values:
      - {code: "63", name: Ny værdi, valid_from: 2026-01-01}
""".encode()


def errors_of(tree: object) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocument) as caught:
        convert_document(tree)
    return [(e.path, e.message) for e in caught.value.errors]


def test_yaml_and_json_of_the_same_content_are_the_same_document() -> None:
    from_yaml = parse_document(VALID_YAML, yaml=True)
    assert isinstance(from_yaml.changes[0], SetFields)
    assert isinstance(from_yaml.changes[1], Upsert)
    from_json = parse_document(from_yaml.canonical_bytes(), yaml=False)
    assert from_json == from_yaml
    assert from_json.canonical_bytes() == from_yaml.canonical_bytes()


def test_every_operation_reports_its_own_first_error_with_path() -> None:
    tree = {
        "id": "x",
        "reason": "r",
        "changes": [
            {"op": "set", "list": "fravaer", "codes": ["59", 60], "fields": {"active": False}},
            {"op": "upsert", "list": "fravaer", "values": [{"code": "1", "name": "a"}]},
            {"op": "create_list", "list": "ny", "name": "Ny", "colour": "red"},
            {"op": "delete", "list": "fravaer"},
            {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"valid_to": "2025-02-30"}},
        ],
    }
    assert errors_of(tree) == [
        ("changes[0].codes[1]", "Expected `str`, got `int`"),
        ("changes[1].values[0].valid_from", "required field missing"),
        ("changes[2].colour", "unknown field"),
        ("changes[3].op", "Invalid value 'delete'"),
        ("changes[4].fields.valid_to", "must be a real date written YYYY-MM-DD"),
    ]


def test_header_errors_have_their_path() -> None:
    assert errors_of({"id": "bad id!", "reason": "r", "changes": []})[0][0] == "id"
    assert errors_of({"id": "ok", "reason": "r", "changes": []})[0][0] == "changes"
    assert errors_of(["not", "a", "mapping"]) == [("", "Expected `object`, got `array`")]


BAD_OPERATION = {"op": "set", "list": "fravaer", "codes": ["59"], "fields": {"active": "no"}}


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ({"id": "x1", "reason": "x", "extra": 1}, ("extra", "unknown field")),
        ({"id": "x1", "reason": 5}, ("reason", "Expected `str`, got `int`")),
        (
            {"id": "bad id!", "reason": "x"},
            ("id", "Expected `str` matching regex '^[A-Za-z0-9._-]+$'"),
        ),
        ({"reason": "x"}, ("id", "required field missing")),
        (
            {"id": "x1", "reason": "x", "publish_at": "2026-12-08T06:00:00"},
            ("publish_at", "Expected `datetime` with a timezone component"),
        ),
    ],
)
def test_a_header_error_hides_no_operation_error(
    header: dict[str, object], error: tuple[str, str]
) -> None:
    """changesets.md: structural errors are reported "at least the first one per operation,
    all operations together"; the header's are reported with them."""
    tree = {**header, "changes": [BAD_OPERATION]}
    assert errors_of(tree) == [error, ("changes[0].fields.active", "Expected `bool`, got `str`")]


def test_every_header_error_is_reported_in_document_order() -> None:
    tree = {"reason": 5, "extra": 1, "changes": [BAD_OPERATION, {"op": "upsert"}]}
    assert errors_of(tree) == [
        ("reason", "Expected `str`, got `int`"),
        ("extra", "unknown field"),
        ("id", "required field missing"),
        ("changes[0].fields.active", "Expected `bool`, got `str`"),
        ("changes[1].list", "required field missing"),
    ]


def test_limits_are_not_structural_errors() -> None:
    """A long code or name decodes: limits are rule errors, checked while planning."""
    long_code = {"code": "x" * 65, "name": "n", "valid_from": "2025-01-01"}
    long_name = {"code": "1", "name": "n" * 501, "valid_from": "2025-01-01"}
    tree = {
        "id": "x",
        "reason": "r" * 2001,
        "changes": [
            {"op": "upsert", "list": "l" * 65, "values": [long_code]},
            {"op": "upsert", "list": "l", "values": [long_name]},
        ],
    }
    document = convert_document(tree)
    assert len(document.changes) == 2


def test_a_document_over_5_mib_decodes_its_size_is_a_rule() -> None:
    raw = (
        b'{"id": "x", "reason": "r", "changes": [{"op": "update_list", "list": "l", "name": "n", "description": "%s"}]}'
        % (b"d" * MAX_DOCUMENT_BYTES)
    )
    assert len(parse_document(raw, yaml=False).changes) == 1


@pytest.mark.parametrize(
    ("raw", "yaml", "kind"),
    [(b"id: [unclosed", True, "YAML"), (b'{"id": ', False, "JSON"), (b"\xff\xfe", False, "JSON")],
)
def test_malformed_documents_are_reported_not_raised(raw: bytes, yaml: bool, kind: str) -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_document(raw, yaml=yaml)
    assert caught.value.errors[0].message.startswith(f"malformed {kind}")


def test_codes_may_not_hold_commas_slashes_or_spaces() -> None:
    for code in ["a,b", "a/b", "a b", ""]:
        tree = {
            "id": "x",
            "reason": "r",
            "changes": [{"op": "set", "list": "l", "codes": [code], "fields": {"active": False}}],
        }
        assert errors_of(tree)[0][0] == "changes[0].codes[0]"


def test_a_whole_number_written_with_a_fraction_is_that_integer() -> None:
    """JSON has one number type (RFC 8259 section 6): 59.0 is 59, 59.5 is no integer, and a
    string is never a number."""
    template = (
        '{"id": "n1", "reason": "r", "changes": [{"op": "upsert", "list": "fravaer", "values": '
        '[{"code": "63", "name": "Ny", "valid_from": "2026-01-01", "sort_order": %s}]}]}'
    )
    document = parse_document((template % "59.0").encode(), yaml=False)
    (operation,) = document.changes
    assert isinstance(operation, Upsert)
    (value,) = operation.values
    assert value.sort_order == 59 and isinstance(value.sort_order, int)
    assert document == parse_document((template % "59").encode(), yaml=False)
    for refused in ("59.5", '"59"'):
        with pytest.raises(InvalidDocument) as caught:
            parse_document((template % refused).encode(), yaml=False)
        assert [e.path for e in caught.value.errors] == ["changes[0].values[0].sort_order"]
    yaml = VALID_YAML.replace(
        b"valid_from: 2026-01-01}", b"valid_from: 2026-01-01, sort_order: 7.0}"
    )
    (_, upsert) = parse_document(yaml, yaml=True).changes
    assert isinstance(upsert, Upsert) and upsert.values[0].sort_order == 7


def test_the_code_pattern_reads_alike_in_python_and_in_the_openapi_validators() -> None:
    """The OpenAPI document carries CODE_PATTERN; a client's validator (here the Rust one
    schemathesis uses, ECMAScript-like for \\s) must take exactly the codes the server takes."""
    import jsonschema_rs

    validator = jsonschema_rs.validator_for({"type": "string", "pattern": CODE_PATTERN})
    spaces = [0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF]
    for point in [*range(0x100), *spaces]:
        code = f"a{chr(point)}b"
        assert validator.is_valid(code) == bool(re.match(CODE_PATTERN, code)), hex(point)
