"""The GET examples in docs/*.md answer as the text says, on the seeded store (both databases)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import AppClient

DOCS = Path(__file__).resolve().parents[2] / "docs"
# `curl [-i|-o FILE] 'localhost:8000/PATH'` without -X: a GET a reader may copy.
_GET = re.compile(r"^\s*curl (?:-i |-o \S+ )?'?localhost:8000(?P<path>/[^\s']*)'?", re.MULTILINE)
# Examples that show an error on purpose, with the status they show.
ERRORS = {"/v1/codelists/fravaer?at=2025-02-30": 400}


def _examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for document in sorted(DOCS.glob("*.md")):
        for match in _GET.finditer(document.read_text(encoding="utf-8")):
            if (document.name, match["path"]) not in found:
                found.append((document.name, match["path"]))
    return found


def test_the_docs_have_get_examples() -> None:
    assert len(_examples()) >= 15


@pytest.mark.parametrize(("document", "path"), _examples())
async def test_a_get_example_answers(client: AppClient, document: str, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == ERRORS.get(path, 200), (document, path, response.text)
