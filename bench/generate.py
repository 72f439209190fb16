"""Generated change-set documents (changesets.md) for the benchmarks, as JSON files.

Deterministic: the same arguments give the same files, byte for byte. Values get a spread of
validity dates and some are deactivated, so answers depend on the date they are read at.

    python -m bench.generate warm DIR            # one 300-value list, `bench300`
    python -m bench.generate scale DIR [--lists 1000 --values 1000]
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec

WARM_LIST = "bench300"
WARM_VALUES = 300
SCALE_PREFIX = "scale-"
LISTS_PER_DOCUMENT = 20  # 2 operations and ~2.5 MB per document: inside the 5 MiB limit

_WORDS = (
    "Ledighed",
    "Sygdom",
    "Barsel",
    "Ferie",
    "Uddannelse",
    "Aktivering",
    "Jobsøgning",
    "Løntilskud",
    "Praktik",
    "Fleksjob",
    "Revalidering",
    "Kontanthjælp",
    "Dagpenge",
    "Ressourceforløb",
    "Øvrige forhold",
    "Ændret rådighed",
    "Åben samtale",
    "Værnepligt",
    "Flytning",
    "Børnepasning",
)
_DAY_ZERO = date(2000, 1, 1)


def list_key(index: int) -> str:
    return f"{SCALE_PREFIX}{index:04d}"


def code_of(index: int) -> str:
    return f"{index:04d}"


def _value(rng: random.Random, index: int) -> dict[str, Any]:
    first, second = rng.sample(_WORDS, 2)
    valid_from = _DAY_ZERO + timedelta(days=rng.randrange(0, 25 * 365))
    value: dict[str, Any] = {
        "code": code_of(index),
        "name": f"{first}, {second.lower()} {index}",
        "valid_from": valid_from.isoformat(),
        "sort_order": index if rng.random() < 0.5 else None,
    }
    if rng.random() < 0.3:
        value["valid_to"] = (valid_from + timedelta(days=rng.randrange(30, 15 * 365))).isoformat()
    if rng.random() < 0.05:
        value["active"] = False
    return value


def list_operations(key: str, values: int, seed: int) -> list[dict[str, Any]]:
    """The two operations that create ``key`` with ``values`` generated values."""
    rng = random.Random(f"{seed}:{key}")
    return [
        {"op": "create_list", "list": key, "name": f"Genereret liste {key}"},
        {
            "op": "upsert",
            "list": key,
            "values": [_value(rng, index) for index in range(1, values + 1)],
        },
    ]


def document(doc_id: str, reason: str, changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": doc_id, "reason": reason, "changes": changes}


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.encode(doc))
    return path


def write_warm(directory: Path, seed: int = 1) -> list[Path]:
    """One list of 300 values for the warm HTTP comparisons."""
    changes = list_operations(WARM_LIST, WARM_VALUES, seed)
    doc = document("bench-warm-0001", "Benchmark: one 300-value list", changes)
    return [write(directory / "0001-bench300.json", doc)]


def write_scale(directory: Path, lists: int, values: int, seed: int = 1) -> list[Path]:
    """``lists`` lists of ``values`` values each, ``LISTS_PER_DOCUMENT`` lists per document."""
    paths = []
    for start in range(0, lists, LISTS_PER_DOCUMENT):
        indexes = range(start + 1, min(start + LISTS_PER_DOCUMENT, lists) + 1)
        changes = [op for i in indexes for op in list_operations(list_key(i), values, seed)]
        doc = document(
            f"bench-scale-{start // LISTS_PER_DOCUMENT + 1:04d}",
            f"Benchmark: lists {indexes[0]} to {indexes[-1]} of {lists}, {values} values each",
            changes,
        )
        paths.append(write(directory / f"{start // LISTS_PER_DOCUMENT + 1:04d}-scale.json", doc))
    return paths


def touch_values(doc_id: str, keys: list[str], values: int, marker: str) -> dict[str, Any]:
    """A change set that changes the description of every value of ``keys``."""
    changes = [
        {
            "op": "set",
            "list": key,
            "codes": [code_of(i) for i in range(1, values + 1)],
            "fields": {"description": f"Benchmark-ændring {marker}"},
        }
        for key in keys
    ]
    return document(doc_id, f"Benchmark: touch {len(keys) * values} values", changes)


def touch_one(doc_id: str, key: str, code: str, marker: str) -> dict[str, Any]:
    """A change set that changes one value's description: a new version of ``key``."""
    changes = [
        {"op": "set", "list": key, "codes": [code], "fields": {"description": f"Rettet {marker}"}}
    ]
    return document(doc_id, "Benchmark: a one-value correction", changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["warm", "scale"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--lists", type=int, default=1000)
    parser.add_argument("--values", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.kind == "warm":
        paths = write_warm(args.directory, args.seed)
    else:
        paths = write_scale(args.directory, args.lists, args.values, args.seed)
    size = sum(path.stat().st_size for path in paths)
    print(f"wrote {len(paths)} change set(s), {size / 1e6:.1f} MB, to {args.directory}")


if __name__ == "__main__":
    main()
