"""Settings from the environment (docs/operations.md "Settings"): a setting that is not valid
stops the service and every command at start, with one line naming the variable."""

from __future__ import annotations

import pytest

from app.server.settings import Settings, SettingsError

INVALID = {
    "CODELISTS_MAX_AGE": "soon",
    "CODELISTS_CACHE_MB": "0",
    "CODELISTS_LOG_LEVEL": "LOUD",
    "CODELISTS_TIMEZONE": "Mars/Base",
    "CODELISTS_WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/33",
    "CODELISTS_PURGE_URLS": "notaurl",
    "CODELISTS_CORS_ORIGINS": "https://app.example/path",
}


@pytest.mark.parametrize(("variable", "value"), INVALID.items())
def test_an_invalid_setting_is_one_line_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})
    message = str(raised.value)
    assert message.startswith(f"invalid setting {variable}: "), message
    assert "\n" not in message


@pytest.mark.parametrize(
    "value",
    [
        "ftp://varnish:6081",
        "http://",
        "http://varnish:port",
        "varnish:6081",
        "http://varnish:6081, //nohost",
    ],
)
def test_purge_urls_are_http_urls_with_a_host(value: str) -> None:
    with pytest.raises(SettingsError, match="CODELISTS_PURGE_URLS"):
        Settings.from_env({"CODELISTS_PURGE_URLS": value})


def test_valid_urls_and_origins_are_taken_as_they_are() -> None:
    settings = Settings.from_env(
        {
            "CODELISTS_PURGE_URLS": "http://varnish:6081, https://cdn.example/",
            "CODELISTS_CORS_ORIGINS": "https://app.example, http://localhost:3000/",
        }
    )
    assert settings.purge_urls == ("http://varnish:6081", "https://cdn.example/")
    assert settings.cors_origins == ("https://app.example", "http://localhost:3000/")
    assert Settings.from_env({"CODELISTS_CORS_ORIGINS": "*"}).cors_origins == ("*",)
