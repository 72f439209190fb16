"""JWT access tokens (RFC 9068), checked with RFC 8725's rules.

PyJWT (with ``cryptography``) verifies the signature and the registered claims (``exp``,
``nbf``, ``iat`` with the leeway, ``iss`` exactly, ``aud``) and refuses an unknown ``crit``
extension. What is ours: choosing the issuer and its key before anything is trusted, the
header rules (an ``alg`` from the issuer's explicit list, the ``typ``, a ``kid``), and turning
the claims into a principal with this service's scopes.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt

from app.domain.principals import Principal, jwt_principal_name, mapped_scopes
from app.identity.issuers import Issuer
from app.identity.keys import KeySet

_REQUIRED = ["exp", "iat", "iss", "aud"]


class InvalidToken(Exception):
    """A token that is not valid (RFC 6750 ``invalid_token``): ``description`` says why in a
    few words, never quoting the token; ``issuer`` and ``client_id`` are what the token
    claimed, when it could be read (for the audit log, not trusted)."""

    def __init__(
        self, description: str, *, issuer: str | None = None, client_id: str | None = None
    ) -> None:
        super().__init__(description)
        self.description = description
        self.issuer = issuer
        self.client_id = client_id


# PyJWT's refusals, in words for error_description (RFC 6750 section 3).
_WHY: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token is not meant for this service (aud)"),
    (jwt.InvalidIssuerError, "the token's issuer is not trusted"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted"),
    (jwt.InvalidIssuedAtError, "the token's iat is not a time"),
    (jwt.DecodeError, "the token is not a well-formed JWT"),
]


def _why(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token lacks the claim {exc.claim}"
    for kind, words in _WHY:
        if isinstance(exc, kind):
            return words
    if "crit" in str(exc):
        return "the token has a critical header extension this service does not know"
    return "the token is not valid"


def _claim(claims: dict[str, Any], name: str) -> object:
    """A claim by name; a dotted name reaches into objects (``realm_access.roles``)."""
    if name in claims:
        return claims[name]
    found: object = claims
    for part in name.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return found


def granted_scopes(claims: dict[str, Any], claim: str) -> list[str]:
    """The issuer's scope names in ``claim``: a space-separated string (RFC 8693 ``scope``) or
    a list of strings (``scp``, ``roles``); anything else grants nothing."""
    value = _claim(claims, claim)
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


class AccessTokens:
    """Verifies JWT access tokens of the trusted ``issuers`` into principals."""

    def __init__(
        self,
        issuers: tuple[Issuer, ...],
        client: httpx.AsyncClient,
        *,
        cache_seconds: float,
        cooldown_seconds: float,
    ) -> None:
        self.issuers = {issuer.issuer: issuer for issuer in issuers}
        self.client = client
        self.key_sets = {
            issuer.issuer: KeySet(
                issuer, client, cache_seconds=cache_seconds, cooldown_seconds=cooldown_seconds
            )
            for issuer in issuers
        }

    async def verify(self, token: str) -> tuple[Principal, float]:
        """The principal of a valid ``token`` and its ``exp`` (seconds since the epoch).

        Raises ``InvalidToken``.
        """
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise InvalidToken("the token is not a well-formed JWT") from None
        claimed = unverified.get("iss")
        client_id = unverified.get("client_id")
        client_id = client_id if isinstance(client_id, str) else None
        issuer = self.issuers.get(claimed) if isinstance(claimed, str) else None
        said = {"issuer": claimed if isinstance(claimed, str) else None, "client_id": client_id}
        if issuer is None:
            raise InvalidToken("the token's issuer is not trusted", **said)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in issuer.algorithms:
            raise InvalidToken("the token's algorithm is not accepted", **said)
        if not issuer.accepts_type(header.get("typ")):
            raise InvalidToken("the token's type (typ) is not accepted", **said)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no key (kid)", **said)
        key = await self.key_sets[issuer.issuer].key(kid, alg)
        if key is None:
            raise InvalidToken("the token's key (kid) is not one its issuer publishes", **said)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(issuer.algorithms),
                audience=issuer.audience,
                issuer=issuer.issuer,
                leeway=issuer.leeway_seconds,
                options={"require": _REQUIRED},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(_why(exc), **said) from None
        subject = claims.get("sub")
        try:
            name = jwt_principal_name(
                issuer=issuer.issuer,
                subject=subject if isinstance(subject, str) else None,
                client_id=client_id,
            )
        except ValueError as exc:
            raise InvalidToken(str(exc), **said) from None
        person = isinstance(subject, str) and bool(subject) and subject != client_id
        principal = Principal(
            name=name,
            scopes=mapped_scopes(granted_scopes(claims, issuer.scope_claim), issuer.scopes),
            kind="person" if person else "client",
            issuer=issuer.issuer,
            client_id=client_id,
        )
        return principal, float(claims["exp"])

    async def refresh_all(self) -> None:
        """Fetch every issuer's keys once (the timer of ``Identity.run``)."""
        for key_set in self.key_sets.values():
            await key_set.refresh()
