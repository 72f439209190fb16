"""The service as an OAuth 2.0 resource server (issue 17), against a real OpenID Provider.

Tokens come from the provider's token endpoint (client_credentials, private_key_jwt) or are
crafted by the test with a key the provider publishes (tests/oidc/provider.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.identity import tokens
from tests.conftest import AppClient, FixedClock, app_client
from tests.oidc.provider import AUDIENCE, OpenIDProvider, SigningKey

READ = "/v1/codelists/fravaer"
DOCUMENT = {
    "id": "jwt-author",
    "reason": "a client of an issuer submits",
    "changes": [{"op": "set", "list": "fravaer", "codes": ["11"], "fields": {"name": "Andet"}}],
}


@asynccontextmanager
async def service(
    engine: AsyncEngine, clock: FixedClock, provider: OpenIDProvider, **settings: Any
) -> AsyncIterator[AppClient]:
    """The app with reads behind a token, trusting ``provider``."""
    settings = {
        "public_read": False,
        "oauth_issuers": provider.issuer_setting(),
        "oauth_audience": AUDIENCE,
        **settings,
    }
    async with app_client(engine, clock, **settings) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge(response: httpx.Response) -> dict[str, str]:
    """The parameters of a ``WWW-Authenticate: Bearer ...`` header."""
    value = response.headers["www-authenticate"]
    assert value.startswith("Bearer ")
    params = {}
    for part in value.removeprefix("Bearer ").split('", '):
        name, _, quoted = part.partition("=")
        params[name.strip()] = quoted.strip('"')
    return params


def claims(provider: OpenIDProvider, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    made = {
        "iss": provider.issuer,
        "sub": "supplier",
        "client_id": "supplier",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "scope": "read admin",
    }
    made.update(changes)
    return {name: value for name, value in made.items() if value is not None}


async def test_a_token_of_the_provider_reads_and_administers_by_its_scopes(
    seeded: AsyncEngine, clock: FixedClock, provider: OpenIDProvider
) -> None:
    async with service(seeded, clock, provider) as client:
        reader = await provider.client_credentials("read")
        assert (await client.get(READ, headers=bearer(reader))).status_code == 200
        assert (await client.get(READ, headers=bearer(reader))).status_code == 200  # fast path
        refused = await client.post("/v1/admin/changesets", json=DOCUMENT, headers=bearer(reader))
        assert refused.status_code == 403
        assert challenge(refused)["error"] == "insufficient_scope"
        assert challenge(refused)["scope"] == "admin"
        assert refused.headers["content-type"] == "application/problem+json"

        admin = await provider.client_credentials("admin")
        who = (await client.get("/v1/admin/whoami", headers=bearer(admin))).json()
        assert who["name"] == f"supplier@{provider.issuer}"
        assert who["scopes"] == ["admin"]
        assert who["kind"] == "client"
        created = await client.post("/v1/admin/changesets", json=DOCUMENT, headers=bearer(admin))
        assert created.status_code == 201, created.text
        assert created.json()["author"] == f"supplier@{provider.issuer}"
        # A scope the table does not map grants nothing.
        other = await provider.client_credentials("other")
        assert (await client.get(READ, headers=bearer(other))).status_code == 403


async def test_no_token_is_a_bearer_challenge_naming_the_metadata(
    seeded: AsyncEngine, clock: FixedClock, provider: OpenIDProvider
) -> None:
    async with service(seeded, clock, provider) as client:
        response = await client.get(READ)
        assert response.status_code == 401
        params = challenge(response)
        assert params["realm"] == "codelists"
        assert "error" not in params
        assert params["resource_metadata"] == (
            "http://testserver/.well-known/oauth-protected-resource"
        )
        metadata = await client.get("/.well-known/oauth-protected-resource")
        assert metadata.status_code == 200
        assert metadata.json() == {
            "resource": AUDIENCE,
            "authorization_servers": [provider.issuer],
            "scopes_supported": ["admin", "approve", "read", "sync"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Kodelister",
        }
        document = (await client.get("/schema/openapi.json")).json()
        schemes = document["components"]["securitySchemes"]
        assert schemes["oauth2"]["type"] == "openIdConnect"
        assert schemes["oauth2"]["openIdConnectUrl"] == (
            f"{provider.issuer}/.well-known/openid-configuration"
        )
        operation = document["paths"]["/v1/admin/whoami"]["get"]
        assert {"oauth2": []} in operation["security"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tampered(provider: OpenIDProvider, key: SigningKey) -> str:
    head, _, signature = key.sign(claims(provider, scope="read")).split(".")
    return ".".join([head, _b64(json.dumps(claims(provider, scope="admin")).encode()), signature])


def _unsigned(provider: OpenIDProvider, key: SigningKey) -> str:
    header = {"alg": "none", "typ": "at+jwt", "kid": key.kid}
    return ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims(provider)).encode()), ""]
    )


def _hs256_with_public_key(provider: OpenIDProvider, key: SigningKey) -> str:
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    signing_input = ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims(provider)).encode())]
    )
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import serialization

    secret = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


BAD_TOKENS = {
    "expired beyond the leeway": lambda p, k: k.sign(
        claims(p, exp=int(time.time()) - 61, iat=int(time.time()) - 400)
    ),
    "nbf in the future": lambda p, k: k.sign(claims(p, nbf=int(time.time()) + 120)),
    "iss with a trailing slash": lambda p, k: k.sign(claims(p, iss=p.issuer + "/")),
    "iss of another issuer": lambda p, k: k.sign(claims(p, iss="https://idp.example")),
    "aud of another service": lambda p, k: k.sign(claims(p, aud="https://other.example")),
    "no aud": lambda p, k: k.sign(claims(p, aud=None)),
    "alg none": _unsigned,
    "HS256 with the public key": _hs256_with_public_key,
    "an algorithm outside the list": lambda p, k: k.sign(claims(p), alg="PS256"),
    "typ JWT": lambda p, k: k.sign(claims(p), typ="JWT"),
    "no typ": lambda p, k: k.sign(claims(p), typ=""),
    "an unknown crit": lambda p, k: k.sign(
        claims(p), crit=["urn:example:x"], **{"urn:example:x": 1}
    ),
    "a tampered payload": _tampered,
    "no kid": lambda p, k: k.sign(claims(p), kid=None),
    "a kid never published": lambda p, k: SigningKey().sign(claims(p)),
    "signed by another key under the kid": lambda p, k: SigningKey(k.kid).sign(claims(p)),
    "no sub or client_id": lambda p, k: k.sign(claims(p, sub=None, client_id=None)),
    "not a JWT at all": lambda p, k: "a.b.c",
}


async def test_bad_tokens_are_invalid_token(
    seeded: AsyncEngine, clock: FixedClock, provider: OpenIDProvider
) -> None:
    key = SigningKey()
    provider.use_keys(key)
    async with service(seeded, clock, provider, oauth_jwks_cooldown_seconds=0.2) as client:
        good = key.sign(claims(provider))
        assert (await client.get(READ, headers=bearer(good))).status_code == 200
        # Within the leeway a token is still taken.
        late = key.sign(claims(provider, exp=int(time.time()) - 30, iat=int(time.time()) - 400))
        assert (await client.get(READ, headers=bearer(late))).status_code == 200
        for why, make in BAD_TOKENS.items():
            token = make(provider, key)
            response = await client.get(READ, headers=bearer(token))
            assert response.status_code == 401, why
            params = challenge(response)
            assert params["error"] == "invalid_token", why
            assert params["error_description"], why
            assert token not in response.headers["www-authenticate"], why
            assert token not in response.text, why
        # Refusals are audited with the issuer and client the token claimed.
        await client.services.denials.flush_expired(everything=True)
        admin_token = key.sign(claims(provider, scope="admin"))
        page = (await client.get("/v1/admin/audit?limit=1000", headers=bearer(admin_token))).json()
        denied = [e for e in page["entries"] if e["action"] == "access.denied"]
        assert any(e["detail"].get("issuer") == provider.issuer for e in denied)
        assert any(e["detail"].get("client_id") == "supplier" for e in denied)


async def test_keys_rotate_without_a_restart_with_one_fetch(
    seeded: AsyncEngine, clock: FixedClock, provider: OpenIDProvider
) -> None:
    provider.use_keys(SigningKey())
    async with service(seeded, clock, provider) as client:
        first = await provider.client_credentials("read")
        assert (await client.get(READ, headers=bearer(first))).status_code == 200
        provider.admin("rotate")
        rotated = await provider.client_credentials("read")
        assert jwt.get_unverified_header(rotated)["kid"] != jwt.get_unverified_header(first)["kid"]
        before = provider.jwks_fetches()
        answers = await asyncio.gather(
            *(client.get(READ, headers=bearer(rotated)) for _ in range(50))
        )
        assert [answer.status_code for answer in answers] == [200] * 50
        assert provider.jwks_fetches() == before + 1
        # The old key is still published: its tokens still work.
        assert (await client.get(READ, headers=bearer(first))).status_code == 200


async def test_a_flood_of_unknown_kids_costs_a_couple_of_fetches(
    seeded: AsyncEngine, clock: FixedClock, provider: OpenIDProvider
) -> None:
    provider.use_keys(SigningKey())
    async with service(seeded, clock, provider) as client:
        good = await provider.client_credentials("read")
        assert (await client.get(READ, headers=bearer(good))).status_code == 200
        before = provider.jwks_fetches()
        strangers = [SigningKey() for _ in range(4)]
        made_up = [
            strangers[n % 4].sign(claims(provider), kid=uuid.uuid4().hex) for n in range(400)
        ]
        answers = await asyncio.gather(*(client.get(READ, headers=bearer(t)) for t in made_up))
        assert {answer.status_code for answer in answers} == {401}
        assert provider.jwks_fetches() - before <= 2


async def test_the_last_keys_hold_while_the_provider_is_down_and_a_retired_key_is_refused(
    seeded: AsyncEngine, clock: FixedClock, provider: OpenIDProvider
) -> None:
    old, new = SigningKey(), SigningKey()
    provider.use_keys(old)
    settings = {"oauth_jwks_cache_seconds": 1.0, "oauth_jwks_cooldown_seconds": 0.2}
    async with service(seeded, clock, provider, **settings) as client:
        token = old.sign(claims(provider, jti="a"))
        assert (await client.get(READ, headers=bearer(token))).status_code == 200
        provider.admin("outage", {"down": True})
        try:
            await asyncio.sleep(1.5)  # past the cache time: a fetch is tried, and fails
            again = old.sign(claims(provider, jti="b"))
            assert (await client.get(READ, headers=bearer(again))).status_code == 200
        finally:
            provider.admin("outage", {"down": False})
        provider.use_keys(new)  # the old key is no longer published
        await asyncio.sleep(1.5)
        retired = old.sign(claims(provider, jti="c"))
        response = await client.get(READ, headers=bearer(retired))
        assert response.status_code == 401
        assert challenge(response)["error"] == "invalid_token"
        assert (
            await client.get(READ, headers=bearer(new.sign(claims(provider))))
        ).status_code == 200


async def test_a_jwt_principal_cannot_approve_its_own_change_set(
    seeded: AsyncEngine, clock: FixedClock, provider: OpenIDProvider
) -> None:
    key = SigningKey()
    provider.use_keys(key)
    async with service(seeded, clock, provider, require_approval=True) as client:
        author = key.sign(claims(provider, scope="admin approve"))
        created = await client.post("/v1/admin/changesets", json=DOCUMENT, headers=bearer(author))
        assert created.status_code == 201, created.text
        # The same client in another spelling of its name, through another token.
        again = key.sign(claims(provider, scope="approve", client_id="SUPPLIER", sub="SUPPLIER"))
        for token in (author, again):
            refused = await client.post(
                "/v1/admin/changesets/jwt-author/approve", json={}, headers=bearer(token)
            )
            assert refused.status_code == 403, refused.text
        # No static token can take the JWT principal's name, in any spelling.
        name = f"supplier@{provider.issuer}"
        for spelling in (name, name.upper(), f" {name}\u200b"):
            async with seeded.begin() as connection:
                with pytest.raises(tokens.InvalidTokenName):
                    await tokens.create(
                        connection, name=spelling, scopes=["approve"], now=clock.now()
                    )
        # Another person of the issuer may approve.
        other = key.sign(claims(provider, scope="approve", sub="anna", client_id="console"))
        approved = await client.post(
            "/v1/admin/changesets/jwt-author/approve", json={}, headers=bearer(other)
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["approved_by"] == f"anna@{provider.issuer}"


async def test_static_tokens_still_work_and_revoke_within_a_second(
    seeded: AsyncEngine, clock: FixedClock, provider: OpenIDProvider
) -> None:
    async with seeded.begin() as connection:
        static = await tokens.create(connection, name="ops", scopes=["read"], now=clock.now())
    async with service(seeded, clock, provider) as client:
        assert (await client.get(READ, headers=bearer(static))).status_code == 200
        async with seeded.begin() as connection:
            await tokens.revoke(connection, "ops", clock.now())
        await asyncio.sleep(1.0)
        response = await client.get(READ, headers=bearer(static))
        assert response.status_code == 401
        assert challenge(response)["error"] == "invalid_token"
