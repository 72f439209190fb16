"""Links in the repository's Markdown stay inside the repository (a clone has nothing else)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def _markdown() -> list[Path]:
    skip = {".venv", ".git", "node_modules"}
    return [p for p in ROOT.rglob("*.md") if not skip & set(p.relative_to(ROOT).parts)]


def test_no_link_leaves_the_repository() -> None:
    outside = []
    for document in _markdown():
        for match in _LINK.finditer(document.read_text(encoding="utf-8")):
            target = match["target"].split("#", 1)[0]
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # an anchor in the same page, or an absolute URL
            resolved = (document.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or "shared/docs" in target:
                outside.append(f"{document.relative_to(ROOT)}: {match['target']}")
    assert outside == []


def test_the_readme_points_to_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("docs/api.md", "docs/changesets.md", "docs/operations.md"):
        assert f"]({name})" in readme
        assert (ROOT / name).is_file()
