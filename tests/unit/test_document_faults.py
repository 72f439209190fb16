"""Structural faults in change-set documents (changesets.md, "Validation"): keys given twice at
any depth in YAML and JSON, and unquoted impossible dates in YAML, each at its path, with every
other operation's structural error reported too."""

from __future__ import annotations

import json
from datetime import date

import pytest

from app.domain.documents import Upsert, parse_document
from app.domain.errors import InvalidDocument


def errors(raw: str, *, yaml: bool) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocument) as caught:
        parse_document(raw.encode(), yaml=yaml)
    return [(e.path, e.message) for e in caught.value.errors]


def paths(raw: str, *, yaml: bool) -> list[str]:
    return [path for path, _ in errors(raw, yaml=yaml)]


TWICE_IN_A_VALUE_YAML = """
id: cs
reason: r
changes:
  - op: upsert
    list: fravaer
    values:
      - code: "63"
        name: Ny
        valid_from: 2026-01-01
        valid_from: 2027-01-01
"""


def test_a_yaml_key_given_twice_is_an_error_at_its_path() -> None:
    assert errors(TWICE_IN_A_VALUE_YAML, yaml=True) == [
        ("changes[0].values[0].valid_from", "key 'valid_from' is given twice in one mapping")
    ]


def test_a_json_key_given_twice_is_an_error_at_its_path() -> None:
    raw = (
        '{"id": "cs", "reason": "r", "changes": [{"op": "upsert", "list": "fravaer", '
        '"values": [{"code": "63", "name": "Ny", "valid_from": "2026-01-01", '
        '"valid_from": "2027-01-01"}]}]}'
    )
    assert errors(raw, yaml=False) == [
        ("changes[0].values[0].valid_from", "key 'valid_from' is given twice in one mapping")
    ]


TWICE_AT_EVERY_DEPTH = {
    "yaml": """
id: a
id: b
reason: r
changes:
  - {op: set, list: x, list: y, codes: ["1"], fields: {active: false}}
  - {op: set, list: x, codes: ["1"], fields: {active: false, active: true}}
  - {op: set, list: x, codes: ["1"], fields: {attributes: {uge: 1, uge: 2}}}
""",
    "json": """
{"id": "a", "id": "b", "reason": "r", "changes": [
  {"op": "set", "list": "x", "list": "y", "codes": ["1"], "fields": {"active": false}},
  {"op": "set", "list": "x", "codes": ["1"], "fields": {"active": false, "active": true}},
  {"op": "set", "list": "x", "codes": ["1"], "fields": {"attributes": {"uge": 1, "uge": 2}}}
]}
""",
}


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_keys_given_twice_at_every_depth_are_all_reported(kind: str) -> None:
    assert paths(TWICE_AT_EVERY_DEPTH[kind], yaml=kind == "yaml") == [
        "id",
        "changes[0].list",
        "changes[1].fields.active",
        "changes[2].fields.attributes.uge",
    ]


def test_quoted_and_unquoted_yaml_keys_are_the_same_key() -> None:
    raw = 'id: a\n"id": b\nreason: r\nchanges: [{op: update_list, list: x, name: n}]'
    assert paths(raw, yaml=True) == ["id"]


def test_a_key_given_twice_is_reported_with_other_structural_errors() -> None:
    raw = """
id: cs
reason: r
changes:
  - {op: set, list: x, codes: [59], fields: {active: false}}
  - {op: set, list: x, codes: ["1"], fields: {active: false, active: false}}
  - {op: set, list: x, codes: ["1"], fields: {colour: red}}
"""
    assert paths(raw, yaml=True) == [
        "changes[0].codes[0]",
        "changes[1].fields.active",
        "changes[2].fields.colour",
    ]
    as_json = json.dumps(
        {
            "id": "cs",
            "reason": "r",
            "changes": [
                {"op": "set", "list": "x", "codes": [59], "fields": {"active": False}},
                {"op": "set", "list": "x", "codes": ["1"], "fields": {"colour": "red"}},
            ],
        }
    ).replace('"reason": "r"', '"reason": "r", "reason": "s"')
    assert paths(as_json, yaml=False) == [
        "reason",
        "changes[0].codes[0]",
        "changes[1].fields.colour",
    ]


def test_yaml_merge_keys_may_override_without_being_duplicates() -> None:
    raw = """
id: cs
reason: r
changes:
  - op: upsert
    list: fravaer
    values:
      - &base {code: "63", name: Ny, valid_from: 2026-01-01}
      - {<<: *base, code: "64"}
"""
    document = parse_document(raw.encode(), yaml=True)
    operation = document.changes[0]
    assert isinstance(operation, Upsert)
    assert [v.code for v in operation.values] == ["63", "64"]


IMPOSSIBLE_DATES = """
id: cs
reason: r
changes:
  - {op: set, list: x, codes: [59], fields: {active: false}}
  - op: upsert
    list: x
    values: [{code: "1", name: n, valid_from: {date}}]
  - {op: set, list: x, codes: ["1"], fields: {valid_to: {date}}}
  - {op: set, list: x, codes: ["1"], fields: {colour: red}}
"""


@pytest.mark.parametrize("written", ["2026-02-30", "'2026-02-30'", "!!timestamp 2026-02-30"])
def test_an_impossible_date_quoted_or_not_is_an_error_at_its_path_among_the_others(
    written: str,
) -> None:
    raw = IMPOSSIBLE_DATES.replace("{date}", written)
    assert errors(raw, yaml=True) == [
        ("changes[0].codes[0]", "Expected `str`, got `int`"),
        ("changes[1].values[0].valid_from", "must be a real date written YYYY-MM-DD"),
        ("changes[2].fields.valid_to", "must be a real date written YYYY-MM-DD"),
        ("changes[3].fields.colour", "unknown field"),
    ]


def test_unquoted_real_dates_are_dates_and_text_that_looks_like_one_stays_text() -> None:
    raw = """
id: cs
reason: 2025-07-01
release: 2025-04-01
changes:
  - {op: upsert, list: x, values: [{code: "1", name: 2026-01-01, valid_from: 2026-01-01}]}
"""
    document = parse_document(raw.encode(), yaml=True)
    assert (document.reason, document.release) == ("2025-07-01", "2025-04-01")
    operation = document.changes[0]
    assert isinstance(operation, Upsert)
    assert operation.values[0].valid_from == date(2026, 1, 1)
    assert operation.values[0].name == "2026-01-01"


@pytest.mark.parametrize(
    ("raw", "yaml"),
    [
        ("[" * 50_000 + "]" * 50_000, False),
        ('{"id": "x", "reason": "r", "changes": [' + "[" * 900 + "]" * 900 + "]}", False),
        ("a: " + "[" * 50_000 + "]" * 50_000, True),
        ("a: &a [*a]\nid: x\nreason: r\nchanges: [*a]", True),
        (
            "id: x\nreason: r\nchanges: [{op: set, list: x, codes: ['1'],"
            " fields: {attributes: {a: &a [1, {b: *a}]}}}]",
            True,
        ),
    ],
    ids=["deep-json", "deep-operation", "deep-yaml", "recursive-alias", "recursive-attribute"],
)
def test_any_nesting_is_an_error_not_a_crash(raw: str, yaml: bool) -> None:
    assert errors(raw, yaml=yaml)
