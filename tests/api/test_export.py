"""GET /v1/export as CSV: plain RFC 4180, and the spreadsheet dialect (api.md "Sync endpoints")."""

from __future__ import annotations

import csv
import io

from tests.conftest import AppClient

# A name (or, for tab and carriage return, which a one-line name cannot hold, a description)
# starting with each character a spreadsheet would read as the start of a formula.
DANGEROUS = {
    "eq": ('=HYPERLINK("http://evil.example","klik")', None),
    "plus": ("+45 12 34 56 78", None),
    "minus": ("-2+3", None),
    "at": ("@SUM(1+1)", None),
    "tab": ("Tabulator", "\t=1+1"),
    "cr": ("Vognretur", "\r=1+1"),
}
AWKWARD = 'Fravær; "særligt" tilfælde'


async def _publish_awkward_list(client: AppClient) -> None:
    values = [
        {"code": code, "name": name, "valid_from": "2020-01-01"}
        | ({"description": description} if description else {})
        for code, (name, description) in DANGEROUS.items()
    ]
    values.append({"code": "semi", "name": AWKWARD, "valid_from": "2020-01-01"})
    values.append({"code": "+1", "name": "Kode med plus", "valid_from": "2020-01-01"})
    await client.publish(
        "awkward-1",
        {"op": "create_list", "list": "akavet", "name": "Akavede navne"},
        {"op": "upsert", "list": "akavet", "values": values},
    )


def _rows(text: str, delimiter: str) -> dict[str, dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    return {row["code"]: row for row in reader if row["list"] == "akavet"}


async def test_excel_dialect_has_a_bom_semicolons_and_inert_cells(client: AppClient) -> None:
    await _publish_awkward_list(client)
    response = await client.get("/v1/export", params={"format": "csv", "dialect": "excel"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    body = response.content
    assert body.startswith(b"\xef\xbb\xbflist;code;name;description;valid_from;")
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    rows = _rows(text, ";")
    for code, (name, description) in DANGEROUS.items():
        if description is None:
            assert rows[code]["name"] == "'" + name
        else:
            assert rows[code]["name"] == name
            assert rows[code]["description"] == "'" + description
    assert rows["'+1"]["name"] == "Kode med plus"  # every cell is made inert, codes too
    assert rows["semi"]["name"] == AWKWARD  # quoted in the file, read back whole
    assert '"Fravær; ""særligt"" tilfælde"' in text
    # Every other row of the seed is there, with its Danish letters intact.
    assert len(_all_rows(text, ";")) == 13 + 7 + 8 + 9 + len(DANGEROUS) + 2
    assert "6 måneders bonus for danskkundskaber" in text


def _all_rows(text: str, delimiter: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


async def test_plain_csv_is_unchanged_rfc_4180(client: AppClient) -> None:
    await _publish_awkward_list(client)
    response = await client.get("/v1/export", params={"format": "csv"})
    assert response.status_code == 200
    body = response.content
    assert body.startswith(b"list,code,name,description,valid_from,valid_to,active,")
    text = body.decode("utf-8")
    rows = _rows(text, ",")
    for code, (name, description) in DANGEROUS.items():
        assert rows[code]["name"] == name
        assert rows[code]["description"] == (description or "")
    assert rows["+1"]["code"] == "+1"
    assert rows["semi"]["name"] == AWKWARD
    assert '"Fravær; ""særligt"" tilfælde"' in text
    explicit = await client.get("/v1/export", params={"format": "csv", "dialect": "rfc4180"})
    assert explicit.content == body


async def test_unknown_dialect_is_a_400_problem(client: AppClient) -> None:
    for params in (
        {"format": "csv", "dialect": "lotus"},
        {"format": "json", "dialect": "excel"},
        {"dialect": "excel"},
    ):
        response = await client.get("/v1/export", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 400
        assert [error["path"] for error in problem["errors"]] == ["dialect"], problem


async def test_excel_export_is_cached_apart_from_plain(client: AppClient) -> None:
    excel = await client.get("/v1/export", params={"format": "csv", "dialect": "excel"})
    plain = await client.get("/v1/export", params={"format": "csv"})
    assert excel.headers["etag"] != plain.headers["etag"]
    again = await client.get(
        "/v1/export",
        params={"format": "csv", "dialect": "excel"},
        headers={"If-None-Match": excel.headers["etag"]},
    )
    assert again.status_code == 304
