"""Strict loading of YAML and JSON documents into plain trees (changesets.md, "Validation").

Both parsers quietly keep the last of two equal keys in one mapping, so a reviewer could read
one value while the service plans with another. Here every key given twice, at any depth, is
reported with its path (``changes[0].values[0].valid_from``) as a structural error.

YAML is loaded without turning unquoted dates into ``date`` objects: PyYAML would raise on
``2026-02-30`` while constructing, losing the path and every other error. Dates stay strings,
and the typed conversion (documents.py) checks them where it checks a quoted date.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec
import yaml

from app.domain.errors import FieldError, InvalidDocument
from app.domain.expansion import json_node_count_error, yaml_expansion_error

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_NESTED_TOO_DEEPLY = "nested too deeply"


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (the C parser where there is one), with timestamps left as text."""


# Without the implicit resolver an unquoted 2026-01-01 is a plain string, like a quoted one.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# An explicit !!timestamp tag is text too, so no date is ever constructed (or refused) here.
_StrictLoader.add_constructor(_TIMESTAMP, yaml.SafeLoader.construct_yaml_str)


def _malformed(kind: str, exc: BaseException) -> InvalidDocument:
    if isinstance(exc, RecursionError):
        return InvalidDocument([FieldError("", f"malformed {kind}: {_NESTED_TOO_DEEPLY}")])
    return InvalidDocument([FieldError("", f"malformed {kind}: {exc}")])


def _duplicate(path: str, key: object) -> FieldError:
    return FieldError(path, f"key '{key}' is given twice in one mapping")


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def load_yaml(raw: bytes) -> tuple[Any, list[FieldError]]:
    """The tree of a YAML document, and an error for every key given twice in one mapping and
    for every alias to a collection it is inside of.

    Raises ``InvalidDocument`` (path ``""``) when the text is not YAML at all, and when it is
    too big with its aliases expanded (expansion.py), found before anything is built from it.
    """
    too_big = yaml_expansion_error(raw)
    if too_big is not None:
        raise InvalidDocument([too_big])
    loader = _StrictLoader(raw)
    try:
        node = loader.get_single_node()
        faults = [] if node is None else list(_yaml_faults(loader, node))
        tree = None if node is None else loader.construct_document(node)
    except Exception as exc:  # noqa: BLE001 - any parser failure is the document's fault
        raise _malformed("YAML", exc) from None
    finally:
        loader.dispose()
    return tree, faults


def _yaml_key(loader: Any, node: yaml.Node) -> object | None:
    """What a key node means, to compare keys (``a`` and ``"a"`` are equal); None: not compared."""
    if not isinstance(node, yaml.ScalarNode) or node.tag == _MERGE:
        return None  # complex keys are refused later; merge keys may repeat by design
    return (node.tag, loader.construct_object(node))


def _yaml_faults(loader: Any, root: yaml.Node) -> Iterator[FieldError]:
    """Keys given twice, and aliases to a node they are inside of (a tree that contains
    itself, which no change set needs and no JSON can hold)."""
    # Iterative, and each node once: an alias shares its node, so a "billion laughs" document
    # is walked in the size of its text.
    done: set[int] = set()
    inside: set[int] = set()
    stack: list[tuple[yaml.Node, str, bool]] = [(root, "", True)]
    while stack:
        node, path, entering = stack.pop()
        if not entering:
            inside.discard(id(node))
            done.add(id(node))
            continue
        if id(node) in inside:
            yield FieldError(path, "refers to a mapping or list it is part of")
            continue
        if id(node) in done or isinstance(node, yaml.ScalarNode):
            continue
        inside.add(id(node))
        stack.append((node, path, False))
        children: list[tuple[yaml.Node, str, bool]] = []
        if isinstance(node, yaml.SequenceNode):
            children = [(item, f"{path}[{i}]", True) for i, item in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            keys: set[object] = set()
            for key_node, value_node in node.value:
                key = _yaml_key(loader, key_node)
                label = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                if key is not None and key in keys:
                    yield _duplicate(_join(path, label), label)
                keys.add(key)
                children.append((value_node, _join(path, label), True))
        stack.extend(reversed(children))


class _Pairs(dict[str, Any]):
    """A JSON object that had a key twice; ``duplicates`` names them."""

    duplicates: list[str]


def load_json(raw: bytes) -> tuple[Any, list[FieldError]]:
    """The tree of a JSON document and an error for every key given twice in one object.

    Raises ``InvalidDocument`` (path ``""``) for malformed text and for a document of more than
    ``MAX_NODES`` nodes (expansion.py).

    msgspec decodes (and refuses malformed text with its own message); the standard library's
    parser is the second, strict pass, as only it shows every key of an object.
    """
    try:
        tree = msgspec.json.decode(raw)
    except (msgspec.DecodeError, ValueError, RecursionError) as exc:  # ValueError: not UTF-8
        raise _malformed("JSON", exc) from None
    too_many = json_node_count_error(raw, tree)
    if too_many is not None:
        raise InvalidDocument([too_many])
    found: list[_Pairs] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        as_dict = dict(items)
        if len(as_dict) == len(items):
            return as_dict
        marked = _Pairs(as_dict)
        marked.duplicates, keys = [], set()
        for key, _ in items:
            if key in keys:
                marked.duplicates.append(key)
            keys.add(key)
        found.append(marked)
        return marked

    try:
        strict = json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError) as exc:
        raise _malformed("JSON", exc) from None
    return tree, list(_json_duplicates(strict)) if found else []


def _json_duplicates(root: Any) -> Iterator[FieldError]:
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key in getattr(node, "duplicates", ()):
                yield _duplicate(_join(path, key), key)
            stack.extend((value, _join(path, key)) for key, value in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(node))))
