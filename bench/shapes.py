"""Change-set documents of the shapes that are hardest to plan, near 5 MiB as JSON (issue 21).

Each shape is a document (a plain tree, as decoded) and the lists it is planned against. The
planning rules that walk more than one value (parent cycles, parents and successors that
exist, codes given twice, a set's fields on many codes) each have a shape that makes them
walk as much as a document can make them: ``bench/planning.py`` times them, and
``tests/unit/test_planning_shapes.py`` checks the verdicts.

    SHAPES["parent_chain"](5_000_000) -> Shape
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.planning import ListState
from app.domain.values import Value

LIST = "stor"
DAY = "2026-01-01"
PER_UPSERT = 10_000  # the most values one upsert may hold
MAX_BYTES = 5 * 1024 * 1024 - 64 * 1024  # a little room for the header


@dataclass(frozen=True)
class Shape:
    name: str
    what: str
    document: dict[str, Any]
    current: dict[str, ListState]


def _document(changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "shape", "reason": "the hardest document to plan", "changes": changes}


def _upserts(values: list[dict[str, Any]], key: str = LIST) -> list[dict[str, Any]]:
    return [
        {"op": "upsert", "list": key, "values": values[start : start + PER_UPSERT]}
        for start in range(0, len(values), PER_UPSERT)
    ]


def _value(index: int, **fields: Any) -> dict[str, Any]:
    return {"code": f"v{index}", "name": f"Værdi {index}", "valid_from": DAY, **fields}


def existing(count: int, *, chain: bool = False, key: str = LIST) -> dict[str, ListState]:
    """A list ``key`` of ``count`` values ``e0``..; with ``chain`` each the parent of the next."""
    values = {
        f"e{i}": Value(
            code=f"e{i}",
            name=f"Findes {i}",
            valid_from=date(2020, 1, 1),
            parent=f"e{i - 1}" if chain and i else None,
        )
        for i in range(count)
    }
    return {key: ListState(key=key, version=1, name="Stor liste", values=values)}


def _count(budget: int, one: int) -> int:
    return max(1, budget // one)


# Sizes per item as JSON, measured on the documents below (rounded up).
def parent_chain(budget: int) -> Shape:
    count = _count(budget, 90)
    values = [_value(i, parent=f"v{i - 1}") if i else _value(0) for i in range(count)]
    return Shape(
        "parent_chain",
        f"{count:,} new values, each the parent of the next",
        _document(_upserts(values)),
        existing(0),
    )


def parent_cycle(budget: int) -> Shape:
    shape = parent_chain(budget)
    first = shape.document["changes"][0]["values"][0]
    last = shape.document["changes"][-1]["values"][-1]
    first["parent"] = last["code"]
    return Shape(
        "parent_cycle", shape.what + ", the first's parent the last: one cycle", **_rest(shape)
    )


def cycle_tail(budget: int) -> Shape:
    shape = parent_chain(budget)
    first = shape.document["changes"][0]["values"][0]
    first["parent"] = "v1"  # v0 <-> v1, and every other value's chain runs into it
    return Shape("cycle_tail", shape.what + ", ending in a cycle of two", **_rest(shape))


def deep_existing_chain(budget: int) -> Shape:
    count = min(PER_UPSERT, _count(budget // 2, 60))
    depth = 200_000
    codes = [f"e{depth - 1 - i}" for i in range(count)]  # the deepest values of the chain
    changes = [{"op": "set", "list": LIST, "codes": codes, "fields": {"sort_order": 1}}]
    return Shape(
        "deep_existing_chain",
        f"a set on the {count:,} deepest values of a stored chain of {depth:,} parents",
        _document(changes),
        existing(depth, chain=True),
    )


def wide_level(budget: int) -> Shape:
    count = _count(budget, 90)
    values = [_value(0)] + [_value(i, parent="v0") for i in range(1, count)]
    return Shape(
        "wide_level",
        f"{count:,} values under one parent",
        _document(_upserts(values)),
        existing(0),
    )


def successor_chain(budget: int) -> Shape:
    count = _count(budget, 95)
    values = [_value(i, replaced_by=[f"v{i + 1}"]) for i in range(count - 1)]
    values.append(_value(count - 1))
    return Shape(
        "successor_chain",
        f"{count:,} values, each replaced by the next",
        _document(_upserts(values)),
        existing(0),
    )


def duplicates(budget: int) -> Shape:
    count = _count(budget, 62)
    values = [_value(0) for _ in range(count)]
    return Shape(
        "duplicates",
        f"one code {count:,} times, {PER_UPSERT:,} to an upsert",
        _document(_upserts(values)),
        existing(0),
    )


def set_successors(budget: int) -> Shape:
    codes = [f"e{i}" for i in range(PER_UPSERT)]
    successors = _count(budget - 10 * PER_UPSERT, 10)
    changes = [
        {
            "op": "set",
            "list": LIST,
            "codes": codes,
            "fields": {"replaced_by": [f"e{PER_UPSERT + i}" for i in range(successors)]},
        }
    ]
    return Shape(
        "set_successors",
        f"one set giving {PER_UPSERT:,} values the same {successors:,} successors",
        _document(changes),
        existing(PER_UPSERT + successors),
    )


def many_sets(budget: int) -> Shape:
    per_set = 20
    sets = min(10_000, _count(budget, 70 + 8 * per_set))
    changes = [
        {
            "op": "set",
            "list": LIST,
            "codes": [f"e{(s * per_set + i) % 10_000}" for i in range(per_set)],
            "fields": {"description": f"sæt {s}", "replaced_by": [f"e{10_000 + s}"]},
        }
        for s in range(sets)
    ]
    return Shape(
        "many_sets",
        f"{sets:,} sets of {per_set} codes each on one list of 20,000 values",
        _document(changes),
        existing(20_000),
    )


def many_lists(budget: int) -> Shape:
    lists = min(5_000, _count(budget, 75 + 20 * 90))
    changes: list[dict[str, Any]] = []
    for n in range(lists):
        key = f"liste-{n}"
        changes.append({"op": "create_list", "list": key, "name": f"Liste {n}"})
        changes.append(
            {
                "op": "upsert",
                "list": key,
                "values": [_value(i, parent=f"v{i - 1}") if i else _value(0) for i in range(20)],
            }
        )
    return Shape(
        "many_lists",
        f"{lists:,} new lists of 20 values each (10,000 operations)",
        _document(changes),
        {},
    )


def _rest(shape: Shape) -> dict[str, Any]:
    return {"document": shape.document, "current": shape.current}


SHAPES: dict[str, Callable[[int], Shape]] = {
    shape.__name__: shape
    for shape in (
        parent_chain,
        parent_cycle,
        cycle_tail,
        deep_existing_chain,
        wide_level,
        successor_chain,
        duplicates,
        set_successors,
        many_sets,
        many_lists,
    )
}
