"""What the service tells clients about how to get a token, from one configuration.

- ``protected_resource``: RFC 9728 protected resource metadata, served at ``METADATA_PATH``;
- ``security_schemes``: the OpenAPI security schemes (the static bearer token, and one
  OAuth 2.0 scheme per issuer), so that the document says what the service accepts.
"""

from __future__ import annotations

from typing import Any

import msgspec

from app.identity.issuers import Issuer

METADATA_PATH = "/.well-known/oauth-protected-resource"
BEARER = "bearer"


class ProtectedResourceMetadata(msgspec.Struct, frozen=True):
    """RFC 9728 section 2's fields that this service fills."""

    resource: str
    authorization_servers: list[str]
    scopes_supported: list[str]
    bearer_methods_supported: list[str]
    resource_name: str


def protected_resource(audience: str, issuers: tuple[Issuer, ...]) -> ProtectedResourceMetadata:
    """The RFC 9728 section 2 document: ``resource`` (the configured audience), the
    ``authorization_servers`` (the issuers), ``scopes_supported`` (every issuer's scope names
    that map to one of this service's) and ``bearer_methods_supported`` (the header only:
    never a token in a URL or a form)."""
    names = sorted({name for issuer in issuers for name in issuer.scopes})
    return ProtectedResourceMetadata(
        resource=audience,
        authorization_servers=[issuer.issuer for issuer in issuers],
        scopes_supported=names,
        bearer_methods_supported=["header"],
        resource_name="Kodelister",
    )


def scheme_name(index: int) -> str:
    """The OpenAPI name of the ``index``-th issuer's security scheme."""
    return "oauth2" if index == 0 else f"oauth2-{index + 1}"


def security_schemes(issuers: tuple[Issuer, ...]) -> dict[str, dict[str, Any]]:
    """OpenAPI ``components.securitySchemes``: the static bearer token, and for each issuer an
    OpenID Connect scheme (its discovery document) with its scope names in the description."""
    schemes: dict[str, dict[str, Any]] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "A token made with `codelists token create` (`Authorization: Bearer "
            "<token>`), or a JWT access token of a trusted issuer. Its scopes (read, sync, "
            "admin; approve apart) decide what it may do.",
        }
    }
    for index, issuer in enumerate(issuers):
        table = ", ".join(f"`{name}` = {scope}" for name, scope in sorted(issuer.scopes.items()))
        schemes[scheme_name(index)] = {
            "type": "openIdConnect",
            "openIdConnectUrl": issuer.issuer.rstrip("/") + "/.well-known/openid-configuration",
            "description": f"JWT access tokens (RFC 9068) from {issuer.issuer} for audience "
            f"{issuer.audience}; scopes: {table}.",
        }
    return schemes


def security_requirement(issuers: tuple[Issuer, ...]) -> list[dict[str, list[str]]]:
    """An operation's ``security``: the bearer token, or a token of any issuer."""
    requirement: list[dict[str, list[str]]] = [{BEARER: []}]
    return requirement + [{scheme_name(index): []} for index in range(len(issuers))]
