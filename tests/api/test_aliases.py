"""YAML aliases cannot make a change set bigger than its limits (issue 21 item 1): a document
over a million nodes or, with its aliases expanded, over 5 MiB is a 422 at the document's path,
found while it is read, before anything is built from it; aliases within the limits work."""

from __future__ import annotations

import msgspec
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.expansion import MAX_NODES
from tests.aliases import BOUNDED_BYTES, allocations, laughs, merge_keys, repeated_operation
from tests.api.test_hostile import snapshot
from tests.conftest import AppClient

URL = "/v1/admin/changesets"
YAML = {"Content-Type": "application/yaml"}
NODES = f"document has more than {MAX_NODES:,} nodes"
EXPANDED = "document with its aliases expanded is at least"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (laughs(7), NODES),  # ~500 bytes: ten million strings
        (laughs(9), NODES),  # a billion
        (merge_keys(7), NODES),
        (repeated_operation(1999), EXPANDED),  # 20 KB: 9 MB as stored
    ],
    ids=["laughs-7", "laughs-9", "merge-keys-7", "operation-1999-times"],
)
async def test_a_document_that_aliases_make_too_big_is_refused_while_read(
    admin: AppClient, seeded: AsyncEngine, body: bytes, message: str
) -> None:
    before = await snapshot(seeded)
    with allocations() as peak:
        for query in ("", "?publish=true"):
            answer = await admin.post(URL + query, content=body, headers=YAML)
            assert answer.status_code == 422, answer.text
            [error] = answer.json()["errors"]
            assert error["path"] == ""
            assert error["message"].startswith(message), error
            assert "limit" in error["message"] or "nodes" in error["message"]
    assert peak[0] < BOUNDED_BYTES, f"{peak[0]:,} bytes allocated to refuse {len(body)} bytes"
    assert await snapshot(seeded) == before


async def test_aliases_within_the_limits_work(admin: AppClient, seeded: AsyncEngine) -> None:
    body = repeated_operation(3, values=5)
    answer = await admin.post(URL, content=body, headers=YAML)
    assert answer.status_code == 201, answer.text
    added = answer.json()["plan"]["lists"]["fravaer"]["added"]
    assert [value["code"] for value in added] == [f"c{i}" for i in range(5)]
    # The same document written out in full is the same change set (the same content).
    expanded = msgspec.json.decode(msgspec.json.encode(yaml.safe_load(body)))
    again = await admin.post(URL, json=expanded)
    assert again.status_code == 200, again.text


async def test_a_json_document_of_more_than_a_million_nodes_is_refused(
    admin: AppClient, seeded: AsyncEngine
) -> None:
    before = await snapshot(seeded)
    padding = b"[" + b",".join([b"0"] * MAX_NODES) + b"]"  # 2 MB, a million and one nodes
    body = b'{"id": "x", "reason": "r", "padding": %s, "changes": []}' % padding
    answer = await admin.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["path"], error["message"][: len(NODES)]) == ("", NODES)
    assert await snapshot(seeded) == before
