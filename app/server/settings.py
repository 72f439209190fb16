"""Settings, read once from environment variables (api.md "Running")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

from app.domain.destinations import Network, parse_networks
from app.identity.issuers import Issuer, parse_issuers

# Environment variable -> setting. Everything has a default: the service runs with none set.
_ENVIRONMENT = {
    "DATABASE_URL": "database_url",
    "CODELISTS_TIMEZONE": "timezone",
    "CODELISTS_MAX_AGE": "max_age",
    "CODELISTS_SHARED_MAX_AGE": "shared_max_age",
    "CODELISTS_PUBLIC_READ": "public_read",
    "CODELISTS_CORS_ORIGINS": "cors_origins",
    "CODELISTS_CACHE_MB": "cache_mb",
    "CODELISTS_POLL_SECONDS": "poll_seconds",
    "CODELISTS_SECRET_KEY": "secret_key",
    "CODELISTS_SECRET_KEY_FILE": "secret_key_file",
    "CODELISTS_WEBHOOK_RETRY_SECONDS": "webhook_retry_seconds",
    "CODELISTS_WEBHOOK_TIMEOUT_SECONDS": "webhook_timeout_seconds",
    "CODELISTS_LOG_LEVEL": "log_level",
    "CODELISTS_LOG_BUFFER_LINES": "log_buffer_lines",
    "CODELISTS_WEBHOOK_ALLOWED_NETWORKS": "webhook_allowed_networks",
    "CODELISTS_REQUIRE_APPROVAL": "require_approval",
    "CODELISTS_SCHEDULER_SECONDS": "scheduler_seconds",
    "CODELISTS_PURGE_URLS": "purge_urls",
    "CODELISTS_PURGE_RETRY_SECONDS": "purge_retry_seconds",
    "CODELISTS_CLOCK_OFFSET_SECONDS": "clock_offset_seconds",
    "CODELISTS_OAUTH_ISSUERS": "oauth_issuers",
    "CODELISTS_OAUTH_AUDIENCE": "oauth_audience",
    "CODELISTS_OAUTH_JWKS_CACHE_SECONDS": "oauth_jwks_cache_seconds",
    "CODELISTS_OAUTH_JWKS_COOLDOWN_SECONDS": "oauth_jwks_cooldown_seconds",
    "CODELISTS_OAUTH_TIMEOUT_SECONDS": "oauth_timeout_seconds",
}
# Comma-separated in the environment.
_LISTS = frozenset({"cors_origins", "webhook_allowed_networks", "purge_urls"})


class SettingsError(ValueError):
    pass


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite+aiosqlite:///./codelists.db"
    timezone: str = "Europe/Copenhagen"
    max_age: Annotated[int, Meta(ge=0, le=31536000)] = 300
    # s-maxage of public answers for shared caches (api.md "Shared caches and CDNs"); unset: none.
    shared_max_age: Annotated[int, Meta(ge=0, le=31536000)] | None = None
    public_read: bool = True
    # "*" for any origin, else the allowed origins (comma-separated in the environment).
    cors_origins: tuple[str, ...] = ("*",)
    # Upper bound of the in-process answer cache.
    cache_mb: Annotated[int, Meta(ge=1, le=65536)] = 64
    # How often a replica checks for publishes by others when it cannot LISTEN (SQLite), and
    # the safety net next to LISTEN on PostgreSQL.
    poll_seconds: Annotated[float, Meta(gt=0, le=3600)] = 0.25
    # Key for encrypting webhook secrets at rest (they must be readable to sign, so they are
    # encrypted, not hashed). Without it a random key is kept in ``secret_key_file``, created
    # on first use: fine for one machine; replicas must share CODELISTS_SECRET_KEY.
    secret_key: str | None = None
    secret_key_file: str = "codelists.key"  # noqa: S105 - a file name, not a secret
    # First retry delay of a failed webhook delivery; doubles per attempt, up to 10 minutes.
    webhook_retry_seconds: Annotated[float, Meta(gt=0, le=600)] = 2.0
    webhook_timeout_seconds: Annotated[float, Meta(gt=0, le=120)] = 10.0
    # Networks (CIDRs) webhooks may reach besides public addresses, e.g. 10.20.0.0/16 for a
    # receiver inside a closed network. Default: public addresses only.
    webhook_allowed_networks: tuple[str, ...] = ()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # JSON log lines waiting for stdout, at most; more are dropped and counted (app/server/logs.py).
    log_buffer_lines: Annotated[int, Meta(ge=1, le=1_000_000)] = 10_000
    # Change sets submitted through the API are published only once someone else approved them.
    require_approval: bool = False
    # How often each process looks for due scheduled change sets when none is due sooner.
    scheduler_seconds: Annotated[float, Meta(gt=0, le=5)] = 1.0
    # Shared caches to purge after every publish (api.md "Shared caches and CDNs"): base URLs
    # such as http://varnish:6081; every service process needs the same list.
    purge_urls: tuple[str, ...] = ()
    # First retry delay of a purge a cache did not take; doubles per attempt, up to 5 s.
    purge_retry_seconds: Annotated[float, Meta(gt=0, le=60)] = 0.25
    # Only for tests of midnights: the service's clock runs this many seconds ahead.
    clock_offset_seconds: float = 0.0
    # Trusted issuers of JWT access tokens: a JSON array (app/identity/issuers.py,
    # docs/operations.md "Signing in with an identity provider"). Empty: static tokens only.
    oauth_issuers: str = ""
    # This service's resource identifier: the audience its JWTs must carry (unless an issuer
    # names its own) and ``resource`` in the protected resource metadata (RFC 9728).
    oauth_audience: str | None = None
    # How long an issuer's keys are trusted without a fresh fetch: a key it stops publishing is
    # refused at most this long after.
    oauth_jwks_cache_seconds: Annotated[float, Meta(gt=0, le=86400)] = 300.0
    # At most one fetch of an issuer's keys per this many seconds for tokens with a kid it
    # does not know (a flood of made-up kids cannot hammer the issuer).
    oauth_jwks_cooldown_seconds: Annotated[float, Meta(ge=0, le=300)] = 2.0
    # Time limit of one request to an issuer (discovery, keys).
    oauth_timeout_seconds: Annotated[float, Meta(gt=0, le=60)] = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        raw: dict[str, object] = {}
        for variable, name in _ENVIRONMENT.items():
            if variable in environ:
                value: object = environ[variable]
                if name == "log_level":
                    value = str(value).upper()
                if name in _LISTS:
                    value = tuple(part.strip() for part in str(value).split(",") if part.strip())
                raw[name] = value
        try:
            settings = msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            variable = _variable_for(str(exc))
            raise SettingsError(f"invalid setting {variable}: {exc}") from None
        # Fail at start-up, not on the first request or the first publish.
        settings.zone()
        settings.allowed_networks()
        _check_urls("CODELISTS_PURGE_URLS", settings.purge_urls, origins=False)
        _check_urls("CODELISTS_CORS_ORIGINS", settings.cors_origins, origins=True)
        settings.issuers()
        return settings

    def issuers(self) -> tuple[Issuer, ...]:
        """CODELISTS_OAUTH_ISSUERS as issuers; SettingsError if it is not valid."""
        try:
            return parse_issuers(self.oauth_issuers, audience=self.oauth_audience)
        except ValueError as exc:
            raise SettingsError(f"invalid setting CODELISTS_OAUTH_ISSUERS: {exc}") from None

    def allowed_networks(self) -> tuple[Network, ...]:
        """CODELISTS_WEBHOOK_ALLOWED_NETWORKS as networks; SettingsError if one is not."""
        try:
            return parse_networks(self.webhook_allowed_networks)
        except ValueError as exc:
            raise SettingsError(
                f"invalid setting CODELISTS_WEBHOOK_ALLOWED_NETWORKS: {exc}"
            ) from None

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"invalid setting CODELISTS_TIMEZONE: unknown time zone {self.timezone!r}"
            ) from None


def _check_urls(variable: str, urls: tuple[str, ...], *, origins: bool) -> None:
    """Each of ``urls`` is an http(s) URL with a host (an origin, RFC 6454 section 6.1: no
    path, query or fragment, when ``origins``; ``*`` also stands for any origin there).
    Raises SettingsError naming ``variable``."""
    for url in urls:
        if origins and url == "*":
            continue
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as exc:
            raise SettingsError(f"invalid setting {variable}: {url!r}: {exc}") from None
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise SettingsError(
                f"invalid setting {variable}: {url!r} is not an http(s) URL with a host"
            )
        if origins and (parts.path.strip("/") or parts.query or parts.fragment):
            raise SettingsError(
                f"invalid setting {variable}: {url!r} is not an origin "
                "(scheme://host[:port], nothing after it)"
            )


def _variable_for(message: str) -> str:
    for variable, name in _ENVIRONMENT.items():
        if f"$.{name}" in message:
            return variable
    return "(environment)"
