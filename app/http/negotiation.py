"""Content-coding negotiation: ``Accept-Encoding`` as RFC 9110 §12.5.3 and §12.4.2 define it.

The service offers brotli, gzip and identity. The client's weights decide; on equal weights
the smaller coding wins (brotli, then gzip, then identity). A coding the client does not name
gets the weight of ``*`` when ``*`` is named, else it is not acceptable, except identity, which
stays acceptable (at the lowest preference) unless ``identity;q=0`` or ``*;q=0`` excludes it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from app.http.answer import Coding

OFFERED: tuple[Coding, ...] = ("br", "gzip", "identity")  # also the order of preference on ties
# RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE = re.compile(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?")
# Below every weight a client can write (0.001): identity that the client did not mention.
_IMPLICIT_IDENTITY = 0.0001
# RFC 9110 §8.4.1.3: a recipient SHOULD consider "x-gzip" equivalent to "gzip".
_ALIASES = {"x-gzip": "gzip"}


def weights(accept_encoding: str) -> dict[str, float]:
    """The weight of each coding named in an ``Accept-Encoding`` value (``*`` included).

    Coding names and the ``q`` parameter name are case-insensitive. A member whose weight is
    not a valid qvalue is ignored; when a coding is named twice its first member counts.
    """
    found: dict[str, float] = {}
    for member in accept_encoding.split(","):
        name, *parameters = member.split(";")
        name = name.strip().lower()
        if not name:
            continue
        weight: float | None = 1.0
        for parameter in parameters:
            key, _, value = parameter.strip().partition("=")
            if key.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.fullmatch(value) else None
        if weight is not None:
            found.setdefault(_ALIASES.get(name, name), weight)
    return found


@lru_cache(maxsize=512)
def negotiate(accept_encoding: bytes) -> Coding:
    """The coding to answer with, given the request's ``Accept-Encoding`` field value.

    An empty value means identity only (RFC 9110 §12.5.3). When the client accepts none of
    the offered codings, identity is used: the section allows answering without a coding.
    """
    named = weights(accept_encoding.decode("latin-1"))
    star = named.get("*")

    def weight(coding: Coding) -> float:
        if coding in named:
            return named[coding]
        if star is not None:
            return star
        return _IMPLICIT_IDENTITY if coding == "identity" else 0.0

    best: Coding = "identity"
    best_weight = 0.0
    for coding in OFFERED:
        candidate = weight(coding)
        if candidate > best_weight:
            best, best_weight = coding, candidate
    return best
