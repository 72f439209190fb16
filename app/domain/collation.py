"""Danish alphabetical order (as in Retskrivningsordbogen): a-z, then æ, ø, å.

ICU would do this too, but it is a large native dependency for one sort order. The rules:
case and accents only break ties (``é`` sorts with ``e``), ``ä``/``ö``/``ü`` sort as
``æ``/``ø``/``y``, and spaces and punctuation sort before digits, digits before letters.

Sort keys are computed for every value whenever a list version is decoded, so the common case
is one ``str.translate`` over a table made once; only text with characters beyond Latin
Extended-B (or decomposed accents) takes the slower per-character path.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Primary weights are expressed as characters so that comparing two keys is a plain string
# comparison done in C. Anything unmapped keeps its own code point: punctuation and spaces sit
# below U+0080, digits are moved just above, letters above them.
_WEIGHT = {str(d): chr(0x80 + d) for d in range(10)} | {
    letter: chr(0x100 + i) for i, letter in enumerate("abcdefghijklmnopqrstuvwxyzæøå")
}
_SAME_AS = {"ä": "æ", "ö": "ø", "ü": "y", "ø": "ø", "æ": "æ", "å": "å"}
_TABLE_END = 0x250  # ASCII, Latin-1 Supplement, Latin Extended-A and -B
_BEYOND_TABLE = re.compile("[^\x00-\u024f]")


def _base_letters(char: str) -> str:
    """The Danish base letter(s) of one character: case folded, accents stripped."""
    folded = char.casefold()
    if folded in _SAME_AS:
        return _SAME_AS[folded]
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _weights(text: str) -> str:
    return "".join(_WEIGHT.get(c, c) for c in text)


_PRIMARY = str.maketrans({chr(cp): _weights(_base_letters(chr(cp))) for cp in range(_TABLE_END)})


def _primary(text: str) -> str:
    if _BEYOND_TABLE.search(text):
        # Rare: compose decomposed accents first (a + ring is å), then go character by character.
        return "".join(_weights(_base_letters(c)) for c in unicodedata.normalize("NFC", text))
    return text.translate(_PRIMARY)


# Bounded: a new version of a list mostly repeats the names of the one before, and the cache
# must not grow with the store (about 400 bytes an entry: 3 MB).
@lru_cache(maxsize=8192)
def danish_sort_key(text: str) -> tuple[str, str, str]:
    """A key that sorts strings in Danish alphabetical order; accents, then case, break ties."""
    return (_primary(text), text.casefold(), text.swapcase())
