"""Text that every database stores, for the audit log: a reversible, visible escape.

An audit entry keeps whatever a request carried (its path, the text of a header), but not every
string is storable: PostgreSQL refuses U+0000 in ``text`` and ``jsonb``, and neither database
nor any UTF-8 encoder takes a lone surrogate (U+D800 to U+DFFF, which a server's or a
library's percent-decoding may leave for bytes that are not UTF-8). Such a character is written
as a Python-style escape, visible to whoever reads the entry (docs/review.md "The audit log"):

- U+0000 as ``\\x00``;
- a lone surrogate as ``\\u`` and four lower-case hex digits (``\\udc80``);
- a backslash as ``\\\\``, but only where it would otherwise start one of these three forms
  (followed by ``x``, ``u`` or another backslash, or by an escaped character), so that the
  backslashes of ordinary text (``C:\\temp``) stay as they are.

``original`` undoes ``storable`` exactly: ``original(storable(s)) == s`` for every string.
"""

from __future__ import annotations

import re
from typing import Any

_REFUSED = re.compile("[\x00\ud800-\udfff]")
# A backslash that ``original`` would read as the start of an escape.
_AMBIGUOUS = frozenset("xu\\")
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4})")


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def storable(text: str, max_length: int | None = None) -> str:
    """``text`` with U+0000 and lone surrogates escaped (module docstring), and at most
    ``max_length`` characters long: cut between escapes, never inside one."""
    if max_length is None and "\\" not in text and not _REFUSED.search(text):
        return text  # the common case: nothing to escape
    out: list[str] = []
    length = 0
    last = len(text) - 1
    for index, char in enumerate(text):
        if char == "\\":
            following = text[index + 1] if index < last else ""
            piece = "\\\\" if following in _AMBIGUOUS or _REFUSED.match(following) else "\\"
        elif _REFUSED.match(char):
            piece = _escaped(char)
        else:
            piece = char
        length += len(piece)
        if max_length is not None and length > max_length:
            break
        out.append(piece)
    return "".join(out)


def original(text: str) -> str:
    """The text ``storable`` was given (for a text it did not cut)."""

    def unescape(match: re.Match[str]) -> str:
        escape = match.group(1)
        return "\\" if escape == "\\" else chr(int(escape[1:], 16))

    return _ESCAPE.sub(unescape, text)


def storable_json(value: Any) -> Any:
    """``value`` (JSON: dicts, lists, strings, numbers, booleans, None) with every string in
    it, keys included, made ``storable``."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(key)): storable_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    return value
