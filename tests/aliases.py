"""YAML documents that use aliases to become far bigger than their text (issue 21, findings 1
and 2), and one whose aliases stay within the limits."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations a refused document may cause while it is read: its text, the parser, the answer.
BOUNDED_BYTES = 32 * 1024 * 1024


def laughs(levels: int) -> bytes:
    """ "Billion laughs": ``l0`` ten strings, each next level ten aliases of the one before;
    ``levels`` = 7 is about 500 bytes and stands for ten million strings."""
    lines = ["id: lol", "reason: r", "l0: &l0 [" + ", ".join(['"lol"'] * 10) + "]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]" for n in range(1, levels + 1)]
    lines.append("changes: [{op: update_list, list: fravaer, name: x}]")
    return ("\n".join(lines) + "\n").encode()


def merge_keys(levels: int) -> bytes:
    """The same growth through merge keys (``<<: [*m0, ...]``), which copy mappings."""
    lines = [
        "id: merge",
        "reason: r",
        "m0: &m0 {" + ", ".join(f"k{i}: lol" for i in range(10)) + "}",
    ]
    lines += [
        f"m{n}: &m{n} {{<<: [" + ", ".join([f"*m{n - 1}"] * 10) + f"], own{n}: x}}"
        for n in range(1, levels + 1)
    ]
    lines.append("changes: [{op: update_list, list: fravaer, name: x}]")
    return ("\n".join(lines) + "\n").encode()


def repeated_operation(copies: int, values: int = 60) -> bytes:
    """One upsert of ``values`` values anchored as ``&op``, then ``copies`` aliases of it:
    about 20 KB of text for 1,999 copies, stored as about 9 MB."""
    spec = ", ".join(
        f'{{code: "c{i}", name: "navn {i}", valid_from: 2026-01-01, description: "{"d" * 20}"}}'
        for i in range(values)
    )
    return (
        f"id: ops-{copies}\nreason: r\nchanges:\n  - &op {{op: upsert, list: fravaer, values: [{spec}]}}\n"
        + "".join("  - *op\n" for _ in range(copies))
    ).encode()


@contextmanager
def allocations() -> Iterator[list[int]]:
    """The peak of Python's allocations inside the block, in bytes (``[peak]`` after it)."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
