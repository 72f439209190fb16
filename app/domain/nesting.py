"""How deeply a JSON or YAML body nests, measured without building it.

Decoders recurse once per level: about 1,000 levels of ``[`` exhaust Python's recursion limit
and would surface as a 500 (issue 9 item 19). Every request body is measured here first, by a
scan that does not recurse, and refused past ``MAX_DEPTH`` levels, which no document of the
service comes near (a change set nests about 6 levels, plus its values' attributes).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from app.domain.errors import FieldError

MAX_DEPTH = 64

# A JSON string (with its escapes) or one bracket; strings are skipped, brackets counted.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def json_too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in ``raw`` (JSON text) nest deeper than ``limit``; brackets
    inside strings do not count. Malformed text is measured as far as its brackets go (the
    decoder then reports what is wrong with it)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # too few brackets to nest that deep: the common case, no scan
    depth = 0
    for match in _JSON_TOKEN.finditer(raw):
        token = match.group()
        if len(token) != 1:
            continue  # a string
        if token[0] in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth = max(0, depth - 1)
    return False


def yaml_too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether sequences and mappings in ``raw`` (YAML) nest deeper than ``limit``, counting
    what an alias brings in where it is used. Read from the parser's event stream, which does
    not recurse; a malformed document is measured up to its fault."""
    heights: dict[str, int] = {}  # anchor -> levels its collection spans
    open_: list[tuple[str | None, int]] = []  # (anchor, deepest level seen inside)
    deepest = 0

    def reach(level: int) -> None:
        nonlocal deepest
        deepest = max(deepest, level)
        if open_:
            anchor, seen = open_[-1]
            open_[-1] = (anchor, max(seen, level))

    try:
        for event in yaml.parse(raw, Loader=_YAML_LOADER):
            if isinstance(event, yaml.CollectionStartEvent):
                level = len(open_) + 1
                open_.append((event.anchor, level))
                reach(level)
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, seen = open_.pop()
                start = len(open_) + 1
                if anchor is not None:
                    heights[anchor] = seen - start + 1
                reach(seen)
            elif isinstance(event, yaml.AliasEvent):
                reach(len(open_) + heights.get(str(event.anchor), 0))
            if deepest > limit:
                return True
    except yaml.YAMLError as exc:
        # libyaml stops by itself at 1,000 flow levels; any other fault the decoder reports.
        return "nesting depth" in str(exc)
    return False


def nesting_error(raw: bytes, *, yaml: bool, limit: int = MAX_DEPTH) -> FieldError | None:
    """An error for the body as a whole when it nests deeper than ``limit``, else None."""
    too_deep = yaml_too_deep(raw, limit) if yaml else json_too_deep(raw, limit)
    return FieldError("", f"nested deeper than {limit} levels") if too_deep else None
