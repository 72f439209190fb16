"""`codelists changeset plan` and `apply` refuse a document that YAML aliases make too big
(issue 21 item 1) while reading it, on both databases; aliases within the limits work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.aliases import BOUNDED_BYTES, allocations, laughs, merge_keys, repeated_operation
from tests.conftest import SEED
from tests.test_cli import database, run

__all__ = ["database"]  # the fixture: a fresh database of each kind


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (laughs(7), "document has more than 1,000,000 nodes"),
        (merge_keys(7), "document has more than 1,000,000 nodes"),
        (repeated_operation(1999), "document with its aliases expanded is at least"),
    ],
    ids=["laughs-7", "merge-keys-7", "operation-1999-times"],
)
def test_plan_and_apply_refuse_a_document_that_aliases_make_too_big(
    database: str, tmp_path: Path, body: bytes, message: str
) -> None:
    assert run("seed", str(SEED))[0] == 0
    path = tmp_path / "bomb.yaml"
    path.write_bytes(body)
    with allocations() as peak:
        for command in ("plan", "apply"):
            code, out, err = run("changeset", command, str(path))
            assert code == 1, (out, err)
            assert "bomb.yaml: 1 error(s); nothing was stored" in err
            assert f"  (document): {message}" in err
    assert peak[0] < BOUNDED_BYTES, f"{peak[0]:,} bytes allocated to refuse {len(body)} bytes"
    code, out, _ = run("changeset", "plan", str(SEED / "0006-2025-4-kontanthjaelpsreform.yaml"))
    assert (code, "is already published" in out) == (0, True)  # the seed's store, unchanged


def test_aliases_within_the_limits_apply(database: str, tmp_path: Path) -> None:
    assert run("seed", str(SEED))[0] == 0
    path = tmp_path / "aliases.yaml"
    path.write_bytes(repeated_operation(3, values=5))
    code, out, err = run("changeset", "apply", str(path))
    assert code == 0, err
    assert "ops-3 published: fravaer v4" in out
