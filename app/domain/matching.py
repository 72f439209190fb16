"""Text search in code lists: ``q`` (api.md, options) matches regardless of case and of
Unicode normalisation.

Both the query and the searched text are brought to one form: compatibility-composed (NFKC),
case-folded (Unicode full case folding, so ``ß`` matches ``SS``), and composed again, as
folding can leave text unnormalised. Composed, not decomposed: in NFD a plain ``a`` would be
found inside ``å`` (``a`` + combining ring), and in Danish those are different letters.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=65536)
def search_form(text: str) -> str:
    """``text`` as compared by search: NFKC, case-folded, NFKC again (Unicode 15, §3.13)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def contains(text: str, query_form: str) -> bool:
    """Whether ``text`` contains the query whose ``search_form`` is ``query_form``."""
    return query_form in search_form(text)
