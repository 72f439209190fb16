"""Errors a document or request can have, each with the path of what is wrong."""

from __future__ import annotations

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    path: str
    message: str


class InvalidDocument(Exception):
    """A change set or request body that cannot be accepted; ``errors`` says every reason."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path or '(document)'}: {e.message}" for e in errors))
        self.errors = errors
