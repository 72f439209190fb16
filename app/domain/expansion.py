"""How big a change-set document is with its YAML aliases expanded, measured while it is read.

A YAML alias (``*a``) stands for the whole node its anchor (``&a``) names, so a few hundred bytes
of text can stand for gigabytes ("billion laughs"), and 20 KB of ``*op`` for a stored document
of 9 MB (issue 21, findings 1 and 2). PyYAML shares an aliased node rather than copying it, but
everything after it (the typed conversion, the canonical JSON that is stored) walks the tree as
it reads, expanded. So a document is measured before anything is built from it:

- **nodes**: scalars, sequences and mappings (keys count), each alias counting every node it
  stands for; at most ``MAX_NODES``;
- **expanded size**: about the bytes of the document as JSON (a scalar is its text in UTF-8,
  quotes and separator; a collection its brackets), each alias counting the size of its node;
  a document that uses aliases may reach at most ``MAX_DOCUMENT_BYTES`` so.

The measure reads the parser's event stream: each anchored node is measured once, when it ends,
and an alias adds that measure in constant time, so the check costs the text's parsing and no
more, and it stops at the first event past a limit (a billion laughs is refused in
microseconds, without building anything). A document without aliases is as big as its text,
which the request body's limit bounds; its size is checked against 5 MiB as it will be stored,
with the other rules (limits.py), so the limit hides none of them.
"""

from __future__ import annotations

from typing import Any

import yaml

from app.domain.errors import FieldError
from app.domain.limits import MAX_DOCUMENT_BYTES

# A 5 MiB document of values ({code, name, valid_from}) has about 750,000 nodes.
MAX_NODES = 1_000_000

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_START = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_END = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def too_many_nodes(nodes: int) -> FieldError:
    """The error for a document of more than ``MAX_NODES`` nodes (path ``""``)."""
    return FieldError(
        "",
        f"document has more than {MAX_NODES:,} nodes (scalars, lists and mappings, with "
        f"aliases expanded); it has at least {nodes:,}",
    )


def _too_big(size: int) -> FieldError:
    return FieldError(
        "",
        f"document with its aliases expanded is at least {size} bytes; the limit is 5 MiB "
        f"({MAX_DOCUMENT_BYTES} bytes)",
    )


def yaml_expansion_error(raw: bytes) -> FieldError | None:
    """The error for a YAML document over ``MAX_NODES`` nodes, or over 5 MiB with its aliases
    expanded (see the module docstring), found while parsing; None when it is within both.

    A malformed document is measured up to its fault and None is answered for it: the loader
    that reads it next reports the fault with its position.
    """
    nodes = size = 0
    aliased = False
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, size) of its node, expanded
    open_: list[tuple[str | None, int, int]] = []  # (anchor, nodes, size) at its start
    loader = _LOADER(raw)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.ScalarEvent):
                text = event.value
                measure = 3 + (len(text) if text.isascii() else len(text.encode()))
                nodes, size = nodes + 1, size + measure
                if event.anchor is not None:
                    anchors[event.anchor] = (1, measure)
            elif isinstance(event, _START):
                open_.append((event.anchor, nodes, size))
                nodes, size = nodes + 1, size + 3
            elif isinstance(event, _END):
                anchor, nodes_before, size_before = open_.pop()
                if anchor is not None:
                    anchors[anchor] = (nodes - nodes_before, size - size_before)
            elif isinstance(event, yaml.AliasEvent):
                # An anchor still open (a node containing itself) counts nothing here: the
                # loader refuses that alias with its path (parsing.py).
                alias_nodes, alias_size = anchors.get(str(event.anchor), (0, 0))
                nodes, size, aliased = nodes + alias_nodes, size + alias_size, True
            if nodes > MAX_NODES:
                return too_many_nodes(nodes)
            if aliased and size > MAX_DOCUMENT_BYTES:
                return _too_big(size)
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return None


def json_node_count_error(raw: bytes, tree: Any) -> FieldError | None:
    """The error for a JSON document (``raw``, decoded as ``tree``) of more than ``MAX_NODES``
    nodes, else None. JSON has no aliases: its expanded size is its text's.

    Counting the separators bounds the nodes from above (every value but the root follows a
    ``[``, ``,`` or ``:``, and every key a ``{`` or ``,``), so the tree is walked only when
    that bound is over the limit.
    """
    bound = sum(raw.count(mark) for mark in (b",", b":", b"[", b"{")) + 1
    if bound <= MAX_NODES:
        return None
    nodes = 0
    stack = [tree]
    while stack:
        node = stack.pop()
        nodes += 1
        if isinstance(node, dict):
            nodes += len(node)  # the keys
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        if nodes > MAX_NODES:
            return too_many_nodes(nodes)
    return None
