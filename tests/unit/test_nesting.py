"""Nesting depth of JSON and YAML bodies, measured without recursion (issue 9 item 19)."""

from __future__ import annotations

import json

from app.domain.nesting import MAX_DEPTH, json_too_deep, nesting_error, yaml_too_deep


def nested_json(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def test_json_depth_counts_brackets_outside_strings() -> None:
    assert not json_too_deep(nested_json(MAX_DEPTH))
    assert json_too_deep(nested_json(MAX_DEPTH + 1))
    assert json_too_deep(nested_json(100_000))
    assert json_too_deep(b'{"a":' * 10_000 + b"1" + b"}" * 10_000)
    # Brackets in strings (escaped quotes included) are text.
    text = json.dumps({"name": '["\\' * 500, "list": [[1], [2]] * 200}).encode()
    assert not json_too_deep(text)
    # Many brackets side by side are not deep.
    assert not json_too_deep(json.dumps([[[1]]] * 1000).encode())


def test_yaml_depth_counts_flow_block_and_aliases() -> None:
    assert not yaml_too_deep(b"a: [[1], {b: [2]}]\nc:\n  - - - x\n")
    assert yaml_too_deep(b"[" * 10_000 + b"]" * 10_000)
    assert yaml_too_deep(b"- " * 10_000 + b"x")
    assert not yaml_too_deep(b"- " * MAX_DEPTH + b"x")
    # Each anchor is shallow; using them inside one another is deep.
    chain = [b"a0: &a0 [x]"]
    chain += [f"a{i}: &a{i} [[[[*a{i - 1}]]]]".encode() for i in range(1, 40)]
    assert yaml_too_deep(b"\n".join(chain))
    # Malformed YAML is left to the decoder.
    assert not yaml_too_deep(b"id: [unclosed\nreason: {")


def test_the_error_is_about_the_whole_body() -> None:
    error = nesting_error(nested_json(10_000), yaml=False)
    assert error is not None and error.path == ""
    assert nesting_error(b'{"items": []}', yaml=False) is None
