"""Parent chains of a list's values: which run into a cycle (changesets.md, "Validation")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol


class _Parented(Protocol):
    @property
    def parent(self) -> str | None: ...


class _Values(Protocol):
    @property
    def values(self) -> Mapping[str, _Parented]: ...


def parent_cycles(
    lists: Mapping[str, _Values], touched: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The (list, code) of every touched value whose chain of parents runs into a cycle.

    ``lists`` are the lists after the change set (key -> state with ``values``), ``touched``
    the (list, code) of the values it set. Each value is walked at most once (a chain's
    verdict is kept for every value on it), so this is linear in the values reached: a chain
    of 100,000 parents costs 100,000 steps, not 100,000 squared. A parent that does not exist
    ends a chain (that is its own error).
    """
    by_list: dict[str, list[str]] = {}
    for key, touched_code in touched:
        by_list.setdefault(key, []).append(touched_code)
    found: set[tuple[str, str]] = set()
    for key, codes in by_list.items():
        values = lists[key].values
        verdict: dict[str, bool] = {}  # code -> whether its chain runs into a cycle
        for start in codes:
            path: list[str] = []
            on_path: set[str] = set()
            code: str | None = start
            while code is not None and code in values and code not in verdict:
                if code in on_path:
                    break  # a cycle: everything on the path runs into it
                path.append(code)
                on_path.add(code)
                code = values[code].parent
            cycle = code is not None and (code in on_path or verdict.get(code, False))
            verdict.update(dict.fromkeys(path, cycle))
            if verdict.get(start, False):
                found.add((key, start))
    return found
