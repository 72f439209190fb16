"""Danish alphabetical order (as in Retskrivningsordbogen): a-z, then æ, ø, å.

ICU would do this too, but it is a large native dependency for one sort order. The rules:
case and accents only break ties (``é`` sorts with ``e``), ``ä``/``ö``/``ü`` sort as
``æ``/``ø``/``y``, and spaces and punctuation sort before digits, digits before letters.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Primary weights are expressed as characters so that comparing two keys is a plain string
# comparison done in C. Anything unmapped keeps its own code point: punctuation and spaces sit
# below U+0080, digits are moved just above, letters above them.
_DIGITS = {str(d): chr(0x80 + d) for d in range(10)}
_LETTERS = {letter: chr(0x100 + i) for i, letter in enumerate("abcdefghijklmnopqrstuvwxyzæøå")}
_SAME_AS = {"ä": "æ", "ö": "ø", "ü": "y", "ø": "ø", "æ": "æ", "å": "å", "ß": "ss"}
_PRIMARY = str.maketrans({**_DIGITS, **_LETTERS})


def _base_letters(text: str) -> str:
    """Fold case and strip accents, except from the letters that are Danish letters of their own."""
    out = []
    for char in unicodedata.normalize("NFC", text).casefold():
        if char in _SAME_AS:
            out.append(_SAME_AS[char])
            continue
        decomposed = unicodedata.normalize("NFD", char)
        out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(out)


@lru_cache(maxsize=65536)
def danish_sort_key(text: str) -> tuple[str, str, str]:
    """A key that sorts strings in Danish alphabetical order; accents, then case, break ties."""
    return (_base_letters(text).translate(_PRIMARY), text.casefold(), text.swapcase())
