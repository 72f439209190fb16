"""Time parsing and planning of the hardest change-set documents (bench/shapes.py), near 5 MiB.

    python -m bench.planning [--shape NAME ...] [--scale 0.1] [--yaml]

Prints, per shape, the document's size as JSON, the time to parse it (text to typed document)
and to plan it (every rule, and the diff), and the verdict. Nothing is asserted: the issue's
goal (planning a 5 MiB document of the worst shape in under 5 s on this machine) is printed
next to what was measured. The control is the same run's ``parent_chain`` at a tenth of the
size: planning is linear when every ratio is near 10.
"""

from __future__ import annotations

import argparse
import time

import msgspec
import yaml

from app.domain.documents import parse_document
from app.domain.errors import InvalidDocument
from app.domain.planning import plan_changeset
from bench.shapes import MAX_BYTES, SHAPES, Shape

GOAL_SECONDS = 5.0


def _time_shape(shape: Shape, *, as_yaml: bool) -> tuple[int, float, float, str]:
    if as_yaml:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        raw = yaml.dump(shape.document, Dumper=dumper, allow_unicode=True).encode()
    else:
        raw = msgspec.json.encode(shape.document)
    started = time.perf_counter()
    try:
        document = parse_document(raw, yaml=as_yaml)
    except InvalidDocument as exc:
        return len(raw), time.perf_counter() - started, 0.0, f"refused reading: {exc.errors[0]}"
    parsed = time.perf_counter()
    try:
        planned = plan_changeset(document, shape.current, document_bytes=len(raw))
        verdict = f"plans {len(planned)} list(s)"
    except InvalidDocument as exc:
        first = exc.errors[0]
        verdict = f"{len(exc.errors):,} error(s), first {first.path}: {first.message[:70]}"
    return len(raw), parsed - started, time.perf_counter() - parsed, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES))
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 5 MiB")
    parser.add_argument("--yaml", action="store_true", help="send the documents as YAML")
    args = parser.parse_args()
    budget = int(MAX_BYTES * args.scale)
    print(f"budget {budget:,} bytes of JSON per document; goal: plan in < {GOAL_SECONDS} s")
    control = _time_shape(SHAPES["parent_chain"](budget // 10), as_yaml=args.yaml)
    print(
        f"{'control: parent_chain / 10':<24} {control[0]:>10,} B  parse {control[1]:6.2f} s"
        f"  plan {control[2]:6.2f} s"
    )
    for name in args.shape or sorted(SHAPES):
        shape = SHAPES[name](budget)
        size, parse_s, plan_s, verdict = _time_shape(shape, as_yaml=args.yaml)
        ratio = plan_s / control[2] if control[2] else float("nan")
        print(
            f"{name:<24} {size:>10,} B  parse {parse_s:6.2f} s  plan {plan_s:6.2f} s "
            f"({ratio:5.1f}x control)  {verdict}"
        )
        print(f"{'':<24} {shape.what}")


if __name__ == "__main__":
    main()
