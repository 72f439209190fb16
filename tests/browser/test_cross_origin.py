"""Administration is never cross-origin, in a real browser (issue 21, item 5; api.md "CORS").

A page on another origin that holds an admin token (stolen, or pasted by a tricked user) tries
what an attacker's page would: submit and reject change sets, read admin answers. Chromium
must refuse it all through CORS, while the same page still reads code lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import Page

from app.identity import tokens
from app.store.database import create_engine
from tests.browser.servers import FrontEnd, Service
from tests.conftest import _run_apart

ATTACK = """
async (args) => {
  const { service, token, document } = args;
  const auth = { Authorization: `Bearer ${token}` };
  const attempt = async (path, init) => {
    try {
      const response = await fetch(service + path, init);
      return { status: response.status, body: await response.text() };
    } catch (error) {
      return { refused: String(error) };
    }
  };
  return {
    submit: await attempt("/v1/admin/changesets", {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify(document),
    }),
    submitYaml: await attempt("/v1/admin/changesets", {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/yaml" },
      body: JSON.stringify(document),
    }),
    reject: await attempt("/v1/admin/changesets/planned-by-ops/reject", {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ comment: "nej" }),
    }),
    list: await attempt("/v1/admin/changesets", { headers: auth }),
    whoami: await attempt("/v1/admin/whoami", { headers: auth }),
    audit: await attempt("/v1/admin/audit", { headers: auth }),
    subscriptions: await attempt("/v1/admin/subscriptions", { headers: auth }),
    anonymous: await attempt("/v1/admin/whoami", {}),
    read: await attempt("/v1/codelists/fravaer/options", {}),
    readWithToken: await attempt("/v1/codelists/fravaer/options", { headers: auth }),
  };
}
"""


def rename(changeset_id: str) -> dict[str, Any]:
    return {
        "id": changeset_id,
        "release": "2026-1",
        "reason": "Nyt navn",
        "reference": "test",
        "changes": [{"op": "set", "list": "fravaer", "codes": ["10"], "fields": {"name": "Ferie"}}],
    }


async def _admin_token(database_url: str, made: list[str]) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            made.append(
                await tokens.create(connection, name="ops", scopes=["admin"], now=datetime.now(UTC))
            )
    finally:
        await engine.dispose()


def test_a_page_on_another_origin_can_neither_administer_nor_read_admin_answers(
    page: Page, start_service: Callable[..., Service], front: FrontEnd
) -> None:
    service = start_service()
    made: list[str] = []
    _run_apart(_admin_token(service.database_url, made))
    (token,) = made
    api = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {token}"})
    with api:
        planned = api.post("/v1/admin/changesets", json=rename("planned-by-ops"))
        assert planned.status_code == 201, planned.text
        front.pages["/attack"] = "<!doctype html><title>Andet sted</title><p>hej</p>"
        page.goto(front.url + "/attack")
        tried = page.evaluate(
            ATTACK, {"service": service.url, "token": token, "document": rename("from-elsewhere")}
        )
        for name in ("submit", "submitYaml", "reject", "list", "whoami", "audit", "subscriptions"):
            assert "refused" in tried[name], (name, tried[name])
        assert "refused" in tried["anonymous"]  # not even a 401 is readable there
        for name in ("read", "readWithToken"):
            assert tried[name]["status"] == 200, (name, tried[name])
            assert json.loads(tried[name]["body"])["key"] == "fravaer"
        # Nothing was done on the service's side either.
        assert api.get("/v1/admin/changesets/from-elsewhere").status_code == 404
        assert api.get("/v1/admin/changesets/planned-by-ops").json()["status"] == "planned"
