"""An issuer's signing keys (its JWKS, RFC 7517), kept current without a restart.

- fetched with httpx, asynchronously: the event loop never waits on the network;
- cached for ``cache_seconds`` (CODELISTS_OAUTH_JWKS_CACHE_SECONDS), refreshed by a timer
  (``Identity.run``) and, when stale, before a key is used: a key the issuer stopped publishing
  is refused once the cache time has passed;
- fetched again for a ``kid`` it does not know, so a key the issuer starts publishing is taken
  at once; but never more than once per ``cooldown_seconds``
  (CODELISTS_OAUTH_JWKS_COOLDOWN_SECONDS): a request with an unknown ``kid`` during the
  cool-down waits for the one fetch at its end, shared by every such request (single flight),
  so a flood of made-up ``kid``s costs the issuer one fetch per cool-down;
- the last good keys are kept when a fetch fails (the issuer down, a bad answer);
- a key of a type or algorithm PyJWT (with ``cryptography``) cannot use, or not meant for
  signatures, is skipped, not fatal.

PyJWT's own ``PyJWKClient`` is synchronous (urllib) and has no single flight or cool-down;
this module is the asynchronous cache around PyJWT's key parsing (``jwt.PyJWK``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt
from prometheus_client import Counter

from app.identity.issuers import SUPPORTED_ALGORITHMS, Issuer

log = logging.getLogger(__name__)
MAX_JWKS_BYTES = 512 * 1024  # far above any real key set
FETCHES = Counter("codelists_jwks_fetches", "JWKS fetches by outcome", ["outcome"])


class KeySet:
    """The keys of one issuer by ``kid``; ``key(kid)`` is all a verifier needs."""

    def __init__(
        self,
        issuer: Issuer,
        client: httpx.AsyncClient,
        *,
        cache_seconds: float,
        cooldown_seconds: float,
    ) -> None:
        self.issuer = issuer
        self.client = client
        self.cache_seconds = cache_seconds
        self.cooldown_seconds = cooldown_seconds
        self.keys: dict[str, dict[str, Any]] = {}  # JWKs by kid
        self._bound: dict[tuple[str, str], jwt.PyJWK] = {}
        self.fetched_at = float("-inf")  # monotonic time of the last good fetch
        self.tried_at = float("-inf")  # of the last attempt, good or not
        self._jwks_uri = issuer.jwks_uri
        self._flight: asyncio.Task[bool] | None = None

    @property
    def stale(self) -> bool:
        return time.monotonic() - self.fetched_at >= self.cache_seconds

    async def key(self, kid: str, alg: str) -> jwt.PyJWK | None:
        """The key ``kid`` bound to algorithm ``alg``, fetching the key set when stale or when
        ``kid`` is new to it; None when the issuer does not publish it, or publishes it for
        another algorithm."""
        refreshed = False
        if self.stale and time.monotonic() - self.tried_at >= self.cooldown_seconds:
            await self.refresh()
            refreshed = True
        if kid not in self.keys and not refreshed:
            await self.refresh(after=self.tried_at + self.cooldown_seconds)
        return self._bind(kid, alg)

    def _bind(self, kid: str, alg: str) -> jwt.PyJWK | None:
        entry = self.keys.get(kid)
        if entry is None or entry.get("alg", alg) != alg:
            return None
        bound = self._bound.get((kid, alg))
        if bound is None:
            try:
                bound = jwt.PyJWK(entry, algorithm=alg)  # an RSA key serves RS* and PS*
            except jwt.PyJWTError:
                return None
            self._bound[(kid, alg)] = bound
        return bound

    async def refresh(self, *, after: float = 0.0) -> bool:
        """Fetch the key set (not before monotonic time ``after``), sharing one fetch with
        every caller meanwhile. True when it was fetched; on failure the keys stay as they were."""
        flight = self._flight
        if flight is None or flight.done():
            flight = self._flight = asyncio.ensure_future(self._fetch(after))
        return await asyncio.shield(flight)

    async def _fetch(self, after: float) -> bool:
        wait = after - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self.tried_at = time.monotonic()
        try:
            document = await self._get_json(await self._keys_url())
            keys = usable_keys(document)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the last good keys
            FETCHES.labels(outcome="failed").inc()
            log.warning(
                "could not fetch the keys of issuer %s (keeping %d): %s",
                self.issuer.issuer,
                len(self.keys),
                exc,
            )
            return False
        FETCHES.labels(outcome="fetched").inc()
        if keys != self.keys:
            self.keys, self._bound = keys, {}
        self.fetched_at = time.monotonic()
        return True

    async def _keys_url(self) -> str:
        if self._jwks_uri is None:
            self._jwks_uri = await self._discover()
        return self._jwks_uri

    async def _discover(self) -> str:
        """``jwks_uri`` from OpenID Connect Discovery 1.0 section 4, else RFC 8414 section 3
        (the well-known path inserted before the issuer's path); the metadata's ``issuer``
        must be the configured one."""
        issuer = self.issuer.issuer
        base, _, path = issuer.partition("://")[2].partition("/")
        scheme = issuer.partition("://")[0]
        candidates = [
            issuer.rstrip("/") + "/.well-known/openid-configuration",
            f"{scheme}://{base}/.well-known/oauth-authorization-server"
            + (f"/{path}" if path else ""),
        ]
        problems = []
        for url in candidates:
            try:
                metadata = await self._get_json(url)
            except Exception as exc:  # noqa: BLE001 - the next way is tried
                problems.append(f"{url}: {exc}")
                continue
            if metadata.get("issuer") != issuer or not isinstance(metadata.get("jwks_uri"), str):
                problems.append(f"{url}: issuer differs or no jwks_uri")
                continue
            return str(metadata["jwks_uri"])
        raise LookupError("; ".join(problems))

    async def _get_json(self, url: str) -> dict[str, Any]:
        response = await self.client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("answer too large")
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        return document


def usable_keys(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The signature keys of a JWKS document by ``kid``: keys without a ``kid``, meant for
    encryption (``use`` other than ``sig``), for an algorithm not supported, or of a type
    PyJWT cannot read are skipped. Raises ValueError when ``keys`` is not a list."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("no 'keys' list")
    keys: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        alg = entry.get("alg")
        if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
            continue
        if alg is not None and alg not in SUPPORTED_ALGORITHMS:
            continue
        try:
            jwt.PyJWK(entry)  # readable at all (kty, crv, parameters)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            log.info("skipping key %r: %s", kid, exc)
            continue
        keys[kid] = entry
    return keys
