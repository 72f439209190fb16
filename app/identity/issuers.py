"""The trusted issuers of JWT access tokens (CODELISTS_OAUTH_ISSUERS, docs/operations.md).

Each issuer is a JSON object; the setting is a JSON array of them. Only ``issuer`` is required
besides an audience (the issuer's own ``audience`` or CODELISTS_OAUTH_AUDIENCE).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta

from app.domain.principals import SCOPES

# RFC 8725 section 3.1: an explicit list; none and every HMAC algorithm are refused, since the
# keys are the issuer's public keys (an HMAC "signed" with a public key is forgeable by anyone).
SUPPORTED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DEFAULT_SCOPES = {scope: scope for scope in SCOPES}


class Issuer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One trusted issuer (RFC 9068 with RFC 8725's rules).

    - ``issuer``: compared exactly with a token's ``iss`` (a trailing slash is a difference);
    - ``jwks_uri``: its keys; when absent, found through discovery (OpenID Connect Discovery,
      then RFC 8414) under ``issuer``;
    - ``audience``: the ``aud`` this service expects (default CODELISTS_OAUTH_AUDIENCE);
    - ``algorithms``: accepted ``alg`` values, asymmetric only;
    - ``token_types``: accepted ``typ`` values (``at+jwt``; ``JWT`` only when listed, as
      Keycloak sends); ``application/`` in front is the same type (RFC 7515 section 4.1.9);
    - ``leeway_seconds``: allowed clock skew for ``exp``, ``nbf`` and ``iat``;
    - ``scope_claim``: the claim with the scopes: a space-separated string or a list (``scope``,
      ``scp``, ``roles``; a dotted name reaches into objects, e.g. ``realm_access.roles``);
    - ``scopes``: the issuer's scope names -> this service's (read, sync, admin, approve);
    - ``console_client_id``: the console's public client at this issuer (at most one issuer),
      and ``console_scope``: the scope it asks for (default ``openid`` and every name in
      ``scopes``).
    """

    issuer: str
    jwks_uri: str | None = None
    audience: str | None = None
    algorithms: tuple[str, ...] = ("RS256",)
    token_types: tuple[str, ...] = ("at+jwt",)
    leeway_seconds: Annotated[float, Meta(ge=0, le=600)] = 60.0
    scope_claim: str = "scope"
    scopes: dict[str, str] = msgspec.field(default_factory=lambda: dict(DEFAULT_SCOPES))
    console_client_id: str | None = None
    console_scope: str | None = None

    def accepts_type(self, typ: object) -> bool:
        """Whether a JOSE header's ``typ`` is one of ``token_types`` (case-insensitive,
        ``application/`` optional, RFC 7515 section 4.1.9)."""
        if not isinstance(typ, str):
            return False
        wanted = typ.lower().removeprefix("application/")
        return any(wanted == kind.lower().removeprefix("application/") for kind in self.token_types)

    def login_scope(self) -> str:
        """The scope the console asks for when it signs in."""
        return self.console_scope or " ".join(["openid", *sorted(self.scopes)])


def parse_issuers(raw: str, *, audience: str | None) -> tuple[Issuer, ...]:
    """CODELISTS_OAUTH_ISSUERS: a JSON array of issuers (``Issuer``), each with its audience
    filled from ``audience`` when it has none. Raises ValueError saying what is wrong."""
    if not raw.strip():
        return ()
    try:
        issuers = msgspec.json.decode(raw.encode(), type=tuple[Issuer, ...])
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ValueError(str(exc)) from None
    checked = []
    for index, issuer in enumerate(issuers):
        where = f"[{index}]"
        _check_url(issuer.issuer, f"{where}.issuer")
        if issuer.jwks_uri is not None:
            _check_url(issuer.jwks_uri, f"{where}.jwks_uri")
        wrong = [alg for alg in issuer.algorithms if alg not in SUPPORTED_ALGORITHMS]
        if wrong or not issuer.algorithms:
            raise ValueError(
                f"{where}.algorithms: {wrong or 'empty'} not allowed; asymmetric algorithms "
                f"only: {sorted(SUPPORTED_ALGORITHMS)}"
            )
        if not issuer.token_types:
            raise ValueError(f"{where}.token_types: at least one type")
        unknown = sorted(set(issuer.scopes.values()) - set(SCOPES))
        if unknown:
            raise ValueError(f"{where}.scopes: {unknown} are not scopes of this service {SCOPES}")
        final = issuer.audience or audience
        if not final:
            raise ValueError(f"{where}.audience: none, and CODELISTS_OAUTH_AUDIENCE is not set")
        checked.append(msgspec.structs.replace(issuer, audience=final))
    if len({issuer.issuer for issuer in checked}) != len(checked):
        raise ValueError("an issuer is listed twice")
    if sum(1 for issuer in checked if issuer.console_client_id) > 1:
        raise ValueError("console_client_id: at most one issuer signs in to the console")
    return tuple(checked)


def _check_url(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{where}: {url!r} is not an http(s) URL with a host")
