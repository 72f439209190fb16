"""Danish alphabetical order as CLDR's ``da`` collation defines it, computed by ICU.

The order api.md promises for names (options, "Danish alphabetical order"): a-z, then æ, ø, å;
``aa`` sorts as ``å`` (Aabenraa and Aarhus come after Ø); ``ä``/``ö``/``ü`` sort with
``æ``/``ø``/``y``; accents, then case, only break ties. A tailoring of one's own gets the edge
cases wrong (``aa``, ``ü``), so the rules come from ICU's copy of CLDR: PyICU as the
``pyicu-wheels`` package builds it, with its own ICU inside (no system libicu, no compiler).

Sort keys are computed whenever a list version is decoded (the read model keeps the decoded
version, so no key is stored in the database); they are bytes, compared in C.
"""

from __future__ import annotations

from functools import lru_cache

import icu

_COLLATOR = icu.Collator.createInstance(icu.Locale("da"))
# Canonically equivalent text (a decomposed "a" + combining ring, a composed "å") sorts the same.
_COLLATOR.setAttribute(icu.UCollAttribute.NORMALIZATION_MODE, icu.UCollAttributeValue.ON)


# Bounded: a new version of a list mostly repeats the names of the one before, and the cache
# must not grow with the store (about 200 bytes an entry: under 2 MB).
@lru_cache(maxsize=8192)
def danish_sort_key(text: str) -> bytes:
    """A key that sorts strings in Danish (CLDR ``da``) order; accents, then case, break ties.

    Strings that differ only in their Unicode normalisation have equal keys.
    """
    key: bytes = _COLLATOR.getSortKey(text)
    return key
