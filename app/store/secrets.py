"""Webhook secrets at rest: encrypted with a key from the settings (Fernet: AES + HMAC).

A secret must be readable again to sign deliveries, so it cannot be hashed like a token.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)


def _key_material(key: str | None, key_file: str) -> bytes:
    if key:
        return key.encode()
    path = Path(key_file)
    try:
        # Created once, readable by the service's user only; O_EXCL: of several workers
        # starting together, one writes it and the others read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
        log.warning(
            "CODELISTS_SECRET_KEY is not set: webhook secrets are encrypted with a new key in "
            "%s; replicas must share one CODELISTS_SECRET_KEY instead",
            path,
        )
    for _ in range(50):  # another worker may be writing it this very moment
        material = path.read_bytes().strip()
        if material:
            return material
        time.sleep(0.02)
    raise RuntimeError(f"the key file {path} is empty")


class SecretUnreadable(Exception):
    """A sealed secret that this key cannot open: it was sealed with another key (the
    ``CODELISTS_SECRET_KEY`` or the key file changed, or replicas do not share one)."""


class SecretBox:
    """Encrypts and decrypts webhook secrets."""

    def __init__(self, key: str | None, key_file: str) -> None:
        """``key`` (CODELISTS_SECRET_KEY), else a random key kept in ``key_file``."""
        self._key = key
        self._key_file = key_file
        self._fernet: Fernet | None = None

    def _cipher(self) -> Fernet:
        # Made on first use, so a service without webhooks never needs a key.
        if self._fernet is None:
            digest = hashlib.sha256(_key_material(self._key, self._key_file)).digest()
            self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        return self._fernet

    def seal(self, secret: str) -> str:
        return self._cipher().encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret sealed in ``sealed``; raises SecretUnreadable when this key did not
        seal it."""
        try:
            return self._cipher().decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable from None


def new_secret() -> str:
    return secrets.token_urlsafe(32)
