"""A real OpenID Provider for the tests: npm ``oidc-provider`` (tests/oidc/provider.mjs) on the
machine's Node.js, on a free port of 127.0.0.1.

Its npm dependencies are pinned by tests/oidc/package-lock.json; ``npm ci`` installs them on
first use when node_modules is missing (``.ci/run`` does it beforehand), so the README's test
command works on a fresh clone. Node.js and npm must be installed: without them the tests fail.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = Path(__file__).resolve().parent
AUDIENCE = "https://kodelister.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def install() -> None:
    """``npm ci`` in tests/oidc when its node_modules is missing (under a lock: test workers
    may start at once)."""
    if (HERE / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed for the OpenID Provider of the tests (install Node.js)")
    with (HERE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (HERE / "node_modules" / "oidc-provider").is_dir():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=600
            )


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SigningKey:
    """An RSA key the test holds: its private JWK (for the provider) and PyJWT signing."""

    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self, *, private: bool = True) -> dict[str, str]:
        public = self.private.public_key().public_numbers()
        key = {"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig"}
        key |= {"n": _b64(public.n), "e": _b64(public.e)}
        if private:
            numbers = self.private.private_numbers()
            key |= {
                "d": _b64(numbers.d),
                "p": _b64(numbers.p),
                "q": _b64(numbers.q),
                "dp": _b64(numbers.dmp1),
                "dq": _b64(numbers.dmq1),
                "qi": _b64(numbers.iqmp),
            }
        return key

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        headers = {"kid": self.kid, "typ": "at+jwt", **header}
        headers = {name: value for name, value in headers.items() if value is not None}
        # PyJWT leaves typ out when it is given empty.
        algorithm = headers.pop("alg", "RS256")
        return jwt.encode(claims, self.private, algorithm=algorithm, headers=headers)


class OpenIDProvider:
    """``node provider.mjs``, started and stopped by the tests; ``issuer`` is its URL."""

    def __init__(self, log: Path, *, console_redirect_uris: tuple[str, ...] = ()) -> None:
        install()
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_key = SigningKey()
        config = {
            "port": self.port,
            "audience": AUDIENCE,
            "clientJwks": [self.client_key.jwk(private=False)],
            "consoleRedirectUris": list(console_redirect_uris),
            "accessTokenTTL": 300,
        }
        self._log = log.open("w")
        self.process = subprocess.Popen(
            ["node", str(HERE / "provider.mjs")],
            cwd=HERE,
            env={**os.environ, "OP_CONFIG": json.dumps(config)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log = log
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the OpenID Provider ended: {self.log.read_text()}")
            try:
                httpx.get(f"{self.issuer}/test/stats", timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"the OpenID Provider did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def admin(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A test-only endpoint of the provider (``/test/...``, provider.mjs)."""
        response = httpx.post(f"{self.issuer}/test/{path}", json=body or {}, timeout=30)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def jwks_fetches(self) -> int:
        return int(httpx.get(f"{self.issuer}/test/stats", timeout=10).json()["jwks"])

    def use_keys(self, *keys: SigningKey) -> None:
        """Sign with the first of ``keys`` from now on; publish all of them."""
        self.admin("keys", {"keys": [key.jwk() for key in keys]})

    async def client_credentials(self, scope: str, **_: Any) -> str:
        """An access token (a JWT) for the ``supplier`` client, which authenticates with a
        signed client assertion (``private_key_jwt``, RFC 7523)."""
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": "supplier",
                "sub": "supplier",
                "aud": self.issuer,
                "jti": uuid.uuid4().hex,
                "iat": now,
                "exp": now + 60,
            },
            self.client_key.private,
            algorithm="RS256",
            headers={"kid": self.client_key.kid},
        )
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.post(
                f"{self.issuer}/token",
                data={
                    "grant_type": "client_credentials",
                    "scope": scope,
                    "resource": AUDIENCE,
                    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:"
                    "jwt-bearer",
                    "client_assertion": assertion,
                },
                timeout=30,
            )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def issuer_setting(self, **overrides: Any) -> str:
        """CODELISTS_OAUTH_ISSUERS for this provider (its keys found by discovery)."""
        return json.dumps([{"issuer": self.issuer, "audience": AUDIENCE, **overrides}])
