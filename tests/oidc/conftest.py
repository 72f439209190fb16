"""Fixtures of the resource server tests: one real OpenID Provider per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oidc.provider import OpenIDProvider


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIDProvider]:
    started = OpenIDProvider(tmp_path_factory.mktemp("op") / "provider.log")
    yield started
    started.stop()
