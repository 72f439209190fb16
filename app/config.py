"""Settings, read once from environment variables (api.md "Running")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

# Environment variable -> setting. Everything has a default: the service runs with none set.
_ENVIRONMENT = {
    "DATABASE_URL": "database_url",
    "CODELISTS_TIMEZONE": "timezone",
    "CODELISTS_MAX_AGE": "max_age",
    "CODELISTS_PUBLIC_READ": "public_read",
    "CODELISTS_CORS_ORIGINS": "cors_origins",
    "CODELISTS_CACHE_MB": "cache_mb",
    "CODELISTS_POLL_SECONDS": "poll_seconds",
    "CODELISTS_SECRET_KEY": "secret_key",
    "CODELISTS_LOG_LEVEL": "log_level",
}


class SettingsError(ValueError):
    pass


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite+aiosqlite:///./codelists.db"
    timezone: str = "Europe/Copenhagen"
    max_age: Annotated[int, Meta(ge=0, le=31536000)] = 300
    public_read: bool = True
    # "*" for any origin, else the allowed origins (comma-separated in the environment).
    cors_origins: tuple[str, ...] = ("*",)
    # Upper bound of the in-process answer cache.
    cache_mb: Annotated[int, Meta(ge=1, le=65536)] = 64
    # How often a replica checks for publishes by others when it cannot LISTEN (SQLite), and
    # the safety net next to LISTEN on PostgreSQL.
    poll_seconds: Annotated[float, Meta(gt=0, le=3600)] = 1.0
    # Key for encrypting webhook secrets at rest; without it a key is derived per database
    # file, which is fine for the embedded default but not for production.
    secret_key: str | None = None
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        raw: dict[str, object] = {}
        for variable, name in _ENVIRONMENT.items():
            if variable in environ:
                value: object = environ[variable]
                if name == "cors_origins":
                    value = tuple(part.strip() for part in str(value).split(",") if part.strip())
                raw[name] = value
        try:
            settings = msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            variable = _variable_for(str(exc))
            raise SettingsError(f"invalid setting {variable}: {exc}") from None
        settings.zone()  # fail at start-up, not on the first request
        return settings

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"unknown time zone {self.timezone!r}") from None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _variable_for(message: str) -> str:
    for variable, name in _ENVIRONMENT.items():
        if f"$.{name}" in message:
            return variable
    return "(environment)"
