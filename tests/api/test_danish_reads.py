"""Danish order and `q` (api.md, options) through the API, on both databases: options of real
Danish names in ICU's `da` order, and `q` matching whatever the Unicode normalisation or case."""

from __future__ import annotations

import unicodedata
from typing import Any

import icu

from tests.conftest import AppClient
from tests.unit.test_collation import real_danish_names


def values(names: list[str]) -> list[dict[str, Any]]:
    return [
        {"code": str(index), "name": name, "valid_from": "2026-01-01"}
        for index, name in enumerate(names, start=1)
    ]


async def publish_list(client: AppClient, key: str, names: list[str]) -> None:
    await client.publish(
        f"{key}-1",
        {"op": "create_list", "list": key, "name": key},
        {"op": "upsert", "list": key, "values": values(names)},
    )


async def option_names(client: AppClient, key: str, **params: str) -> list[str]:
    response = await client.get(f"/v1/codelists/{key}/options", params=params)
    assert response.status_code == 200, response.text
    return [option["name"] for option in response.json()["options"]]


async def test_options_of_real_danish_names_come_in_icus_da_order(client: AppClient) -> None:
    names = real_danish_names()
    await publish_list(client, "steder", names)
    collator = icu.Collator.createInstance(icu.Locale("da"))
    served = await option_names(client, "steder")
    assert served == sorted(names, key=collator.getSortKey)
    assert served.index("Aabenraa") > served.index("Ølstykke")
    assert served.index("Aarhus") > served.index("Østergaard")


DECOMPOSED = unicodedata.normalize("NFD", "Ålsgårde")
COMPOSED = unicodedata.normalize("NFC", "Århus")


async def test_q_matches_whatever_the_unicode_normalisation(client: AppClient) -> None:
    await publish_list(client, "byer", [DECOMPOSED, COMPOSED, "Aalborg", "Vrå", "Varde"])
    assert DECOMPOSED != "Ålsgårde" and len(DECOMPOSED) == len("Ålsgårde") + 2
    composed_query = unicodedata.normalize("NFC", "gå")
    assert await option_names(client, "byer", q=composed_query) == [DECOMPOSED]
    decomposed_query = unicodedata.normalize("NFD", "århu")
    assert await option_names(client, "byer", q=decomposed_query) == [COMPOSED]
    assert await option_names(client, "byer", q="\u00e5") == ["Vrå", DECOMPOSED, COMPOSED]
    assert await option_names(client, "byer", q="a\u030a") == ["Vrå", DECOMPOSED, COMPOSED]
    # A plain "a" is not found inside an "å": in Danish they are different letters.
    assert await option_names(client, "byer", q="va") == ["Varde"]


async def test_q_uses_unicode_case_folding(client: AppClient) -> None:
    await publish_list(client, "gader", ["Große Straße", "ÆBLEHAVEN", "Østergade", "ÅBYHØJ"])
    assert await option_names(client, "gader", q="STRASSE") == ["Große Straße"]
    assert await option_names(client, "gader", q="æblehaven") == ["ÆBLEHAVEN"]
    assert await option_names(client, "gader", q="ØSTER") == ["Østergade"]
    decomposed_lower = unicodedata.normalize("NFD", "åbyhøj")
    assert await option_names(client, "gader", q=decomposed_lower) == ["ÅBYHØJ"]
