"""Who is behind a request, and what they may do: pure rules, no I/O.

- Scopes: ``read`` ⊂ ``sync`` ⊂ ``admin`` nest, ``approve`` stands apart (api.md "Review,
  approval and scheduling").
- A principal is the same type whichever token named it: a static token (``cl_...``, named by
  ``codelists token create``) or a JWT access token (RFC 9068), named ``<client_id>@<issuer>``
  for a client or ``<sub>@<issuer>`` for a person.
- Names are compared in a canonical form (``canonical_name``), so that ``"a1 "``, ``"A1"`` and
  ``"a1\\u200b"`` are one person to the four-eyes rule and the audit log.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Set
from datetime import datetime
from functools import lru_cache
from typing import Literal

import msgspec

SCOPES = ("read", "sync", "admin", "approve")
# What each scope grants besides itself.
IMPLIED: dict[str, frozenset[str]] = {
    "admin": frozenset({"sync", "read"}),
    "sync": frozenset({"read"}),
}
# The scopes that may read (api.md "Read endpoints"; ``admin`` may do anything).
READ_SCOPES = frozenset({"read", "sync"})
SYNC_SCOPES = frozenset({"sync"})

Kind = Literal["token", "client", "person"]


def grants(held: Iterable[str], scope: str) -> bool:
    """Whether scopes ``held`` allow what ``scope`` allows (``admin`` implies ``sync``...)."""
    return any(scope == have or scope in IMPLIED.get(have, ()) for have in held)


@lru_cache(maxsize=256)
def grants_any(held: frozenset[str], wanted: frozenset[str]) -> bool:
    """Whether ``held`` allows one of ``wanted`` (any when ``wanted`` is empty); remembered,
    as the fast path asks it on every request (frozensets keep their hash)."""
    return not wanted or any(grants(held, scope) for scope in wanted)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is behind a valid token: its ``name`` (the one the audit log, a change set's author
    and the four-eyes rule use) and this service's scopes it holds.

    ``kind`` is ``token`` for a static token, ``client`` or ``person`` for a JWT; a JWT's
    ``issuer`` and ``client_id`` are kept for the audit log. ``token_id`` and ``last_used_at``
    belong to a static token (0 and None otherwise).
    """

    name: str
    scopes: frozenset[str]
    kind: Kind = "token"
    issuer: str | None = None
    client_id: str | None = None
    token_id: int = 0
    last_used_at: datetime | None = None

    def allows(self, scope: str) -> bool:
        """Whether the principal may do what ``scope`` allows."""
        return grants(self.scopes, scope)

    @property
    def canonical(self) -> str:
        """The name in canonical form (``canonical_name``)."""
        return canonical_name(self.name)


# Characters that change nothing a reader sees: format characters (Unicode category Cf: zero
# width space and joiners, bidi controls, soft hyphen, BOM, tags...) and the other default
# ignorable code points (Unicode's DerivedCoreProperties, Default_Ignorable_Code_Point: variation
# selectors, Hangul fillers, combining grapheme joiner...), plus control characters (Cc) that
# are not white space.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_WHITE_SPACE = re.compile(r"\s+")


def _invisible(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cf" or (category == "Cc" and not char.isspace()):
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in _IGNORABLE_RANGES)


@lru_cache(maxsize=4096)
def canonical_name(name: str) -> str:
    """``name`` as the service compares principals (issue 21, item 7): Unicode NFKC, invisible
    characters removed (category Cf, default ignorables, controls), case-folded, white space
    trimmed and every inner run of it one space.

    NFKC runs again after case folding (Unicode's NFKC_Casefold idea): folding can make a
    string that is no longer normalised.
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(char for char in text if not _invisible(char))
    text = unicodedata.normalize("NFKC", text.casefold())
    return _WHITE_SPACE.sub(" ", text).strip()


def same_principal(one: str, other: str) -> bool:
    """Whether two principal names name the same person or client (canonical forms equal)."""
    return canonical_name(one) == canonical_name(other)


# "<something>@<scheme>://...": the shape of a JWT principal's name (an issuer is a URL).
_ISSUER_NAME = re.compile(r"@[a-z][a-z0-9+.\-]*:")


def looks_like_jwt_principal(name: str) -> bool:
    """Whether ``name`` (in canonical form) has the shape of a JWT principal's name, an ``@``
    followed by a URL scheme: such a name is refused for a static token, so that no static
    token can pose as a client or person of an issuer."""
    return bool(_ISSUER_NAME.search(canonical_name(name)))


def jwt_principal_name(*, issuer: str, subject: str | None, client_id: str | None) -> str:
    """The name of a JWT's principal (issue 17, item 5): ``<client_id>@<issuer>`` when the
    token was issued to a client for itself (no ``sub``, or ``sub`` equal to ``client_id``,
    RFC 9068 section 2.2), else ``<sub>@<issuer>`` (a person). Raises ValueError when the
    token names neither."""
    if client_id and (not subject or subject == client_id):
        return f"{client_id}@{issuer}"
    if subject:
        return f"{subject}@{issuer}"
    raise ValueError("the token has neither sub nor client_id")


def name_problem(name: str, existing: Iterable[str]) -> str | None:
    """Why ``name`` cannot be given to a new static token, or None when it can (issue 21,
    item 7; issue 17, item 5): empty in canonical form; the shape of a JWT principal's name;
    or the same in canonical form as an ``existing`` name without being the same text (one
    person holds their tokens under exactly one spelling)."""
    canonical = canonical_name(name)
    if not canonical:
        return "a token's name must have a visible character"
    if looks_like_jwt_principal(name):
        return "a token's name may not have the form <name>@<issuer URL> (a JWT principal's)"
    for other in existing:
        if other != name and canonical_name(other) == canonical:
            return f"the name is another spelling of the existing name {other!r}; use that"
    return None


def mapped_scopes(granted: Iterable[str], table: dict[str, str]) -> frozenset[str]:
    """This service's scopes for an issuer's ``granted`` scope names through ``table``
    (issuer name -> service scope); names not in it grant nothing."""
    return frozenset(table[scope] for scope in granted if scope in table)


def issuer_names_for(wanted: Set[str], table: dict[str, str]) -> list[str]:
    """The issuer's scope names that grant one of ``wanted`` (through ``table``), sorted: what
    a client must ask its issuer for (RFC 6750 section 3.1, ``scope``)."""
    return sorted(
        name for name, scope in table.items() if grants_any(frozenset({scope}), frozenset(wanted))
    )
