"""The administrators' console (api.md "Administrators' console") in headless Chromium.

The real service runs as ``codelists serve`` with CODELISTS_REQUIRE_APPROVAL=true on a SQLite
database seeded without the 2025-4 reform. "A" submits the reform through the API; "B" reviews,
approves and publishes it in the console. Chromium must be installed (Debian's ``chromium``):
without it these tests fail, they never skip.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.console_server import (
    REFORM_ID,
    ROOT,
    ConsoleService,
    install_axe,
    make_template,
)

REVIEW = f"/console/changesets/{REFORM_ID}"
# The review page's screenshot in docs/ is rewritten only when asked (it changes every run).
UPDATE_SCREENSHOT = os.environ.get("CODELISTS_UPDATE_SCREENSHOT") == "1"
SCREENSHOT = ROOT / "docs" / "console-review.png"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    return make_template(tmp_path_factory.mktemp("console-template"))


@pytest.fixture
def service(template: tuple[Path, dict[str, str]], tmp_path: Path) -> Iterator[ConsoleService]:
    database, tokens = template
    running = ConsoleService(tmp_path, database, tokens).start()
    yield running
    running.stop()
    assert "/console/" in running.log  # it logs every request
    for token in tokens.values():  # but never a token
        assert token not in running.log


class Visitor:
    """One person's browser tab on the console, noting every URL it requested."""

    def __init__(self, browser: Browser, service: ConsoleService) -> None:
        self.service = service
        self.context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.urls: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.urls.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )

    def open(self, path: str) -> Page:
        self.page.goto(self.service.url + path)
        expect(self.page.locator("body[data-ready=true]")).to_have_count(1)
        return self.page

    def sign_in(self, name: str) -> None:
        self.page.get_by_label("Token").fill(self.service.tokens[name])
        self.page.get_by_role("button", name="Log ind").click()
        expect(self.page.locator("#who")).to_contain_text(f"Logget ind som {name} ")

    def close(self) -> None:
        cookies = self.context.cookies()
        self.context.close()
        assert cookies == []  # the token is never in a cookie
        for url in self.urls:
            assert url.startswith(self.service.url), f"asset from another host: {url}"
            for token in self.service.tokens.values():
                assert token not in url, "a token in a URL"
        assert self.errors == []


@pytest.fixture
def visitors(browser: Browser, service: ConsoleService) -> Iterator[list[Visitor]]:
    made: list[Visitor] = []
    yield made
    for visitor in made:
        visitor.close()


def visit(visitors: list[Visitor], browser: Browser, service: ConsoleService) -> Visitor:
    visitor = Visitor(browser, service)
    visitors.append(visitor)
    return visitor


def changeset(service: ConsoleService) -> dict[str, object]:
    with service.api("A") as client:
        answer: dict[str, object] = client.get(f"/v1/admin/changesets/{REFORM_ID}").json()
    return answer


def audit_actions(service: ConsoleService) -> list[tuple[str, str]]:
    with service.api("B") as client:
        entries = client.get("/v1/admin/audit", params={"limit": 1000}).json()["entries"]
    return [(entry["actor"], entry["action"]) for entry in entries]


def test_reform_submitted_by_a_is_approved_and_published_by_b(
    browser: Browser, service: ConsoleService, visitors: list[Visitor], tmp_path: Path
) -> None:
    service.submit_reform(author="A")
    b = visit(visitors, browser, service)
    page = b.open(REVIEW)
    expect(page.get_by_role("button", name="Godkend")).to_have_count(0)  # not signed in
    b.sign_in("B")

    # The plan as a readable diff: per list, the deactivations set apart, each field from → to.
    expect(page.get_by_role("heading", name="fravaer: version 2 → 3")).to_be_visible()
    expect(page.get_by_role("heading", name="Deaktiveringer (3)").first).to_be_visible()
    deactivated = page.get_by_role("table", name="Værdier der deaktiveres i fravaer")
    row = deactivated.get_by_role("row").filter(has_text="6 måneders bonus for danskkundskaber")
    expect(row).to_contain_text("59")
    expect(row).to_contain_text("aktiv: fra ja → til nej")
    expect(
        page.get_by_role("table", name="Værdier der deaktiveres i tilmeldekategori").get_by_role(
            "row"
        )
    ).to_have_count(7)  # a header and six values
    expect(page.locator(".facts")).to_contain_text("planlagt")
    # Approval is required, so a planned change set cannot be published yet.
    expect(page.get_by_role("button", name="Udgiv")).to_have_count(0)
    shot = SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / "console-review.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")

    page.get_by_label("Kommentar").fill("Set og godkendt mod IT-nyhedsbrev 38.")
    page.get_by_role("button", name="Godkend").click()
    expect(page.get_by_role("status")).to_have_text("Ændringssættet er godkendt.")
    expect(page.locator(".facts")).to_contain_text("godkendt")
    expect(page.locator(".facts")).to_contain_text("Godkendt afB")
    stored = changeset(service)
    assert (stored["status"], stored["approved_by"]) == ("approved", "B")

    page.get_by_role("button", name="Udgiv").click()
    expect(page.get_by_role("status")).to_have_text("Ændringssættet er udgivet.")
    expect(page.locator(".facts")).to_contain_text("udgivet")
    expect(page.locator(".facts")).to_contain_text("fravaer v3")
    assert changeset(service)["status"] == "published"
    assert axe_violations(page, install_axe().read_text(encoding="utf-8")) == []
    value = httpx.get(f"{service.url}/v1/codelists/fravaer/values/59").json()
    assert (value["state"], value["history"][-1]["changeset"]) == ("deactivated", REFORM_ID)

    # The public pages show the new version; the audit log tells who did what.
    page = b.open("/console/lists/fravaer")
    row = page.get_by_role("table", name="Værdier i Fraværsårsager").get_by_role("row")
    expect(row.filter(has_text="6 måneders bonus")).to_contain_text("deaktiveret")
    expect(page.get_by_role("table", name=re.compile("^Versioner af"))).to_contain_text(REFORM_ID)
    page = b.open("/console/audit")
    log = page.get_by_role("table", name="Revisionslog")
    for actor, action in [
        ("A", "changeset.submitted"),
        ("B", "changeset.approved"),
        ("B", "changeset.published"),
    ]:
        expect(
            log.get_by_role("row").filter(has_text=action).filter(has_text=actor)
        ).not_to_have_count(0)
    assert ("B", "changeset.approved") in audit_actions(service)
    page = b.open("/console/audit?after=0")  # from the beginning: the seed's entries
    first = page.get_by_role("table", name="Revisionslog").get_by_role("row").nth(1)
    expect(first).to_contain_text("changeset.submitted")
    expect(first.get_by_role("rowheader")).to_have_text("1")


def test_the_author_cannot_approve_and_a_forced_approval_shows_the_403(
    browser: Browser, service: ConsoleService, visitors: list[Visitor]
) -> None:
    service.submit_reform(author="A")
    a = visit(visitors, browser, service)
    page = a.open(REVIEW)
    a.sign_in("A")
    expect(page.get_by_role("heading", name="fravaer: version 2 → 3")).to_be_visible()
    expect(page.get_by_role("button", name="Godkend")).to_have_count(0)
    expect(page.get_by_text("en anden skal godkende det")).to_be_visible()

    # Forced (a button added by hand): the API's 403 is shown, and nothing changes.
    page.evaluate(
        """() => {
          const button = document.createElement("button");
          button.type = "submit"; button.name = "action"; button.value = "approve";
          button.textContent = "Godkend";
          document.getElementById("review").append(button);
        }"""
    )
    page.get_by_role("button", name="Godkend").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Ikke tilladt (403)")
    assert changeset(service)["status"] == "planned"
    with service.api("B") as client:
        entries = client.get("/v1/admin/audit", params={"limit": 1000}).json()["entries"]
    assert any(
        entry["action"] == "access.denied" and entry["target"].endswith("/approve")
        for entry in entries
    )


def test_reject_needs_a_comment_and_is_final(
    browser: Browser, service: ConsoleService, visitors: list[Visitor]
) -> None:
    service.submit_reform(author="A")
    b = visit(visitors, browser, service)
    page = b.open(REVIEW)
    b.sign_in("B")
    page.get_by_role("button", name="Afvis").click()
    expect(page.get_by_role("alert")).to_contain_text("Kommentar")
    comment = page.get_by_label("Kommentar")
    expect(comment).to_be_focused()
    expect(comment).to_have_attribute("aria-invalid", "true")
    assert changeset(service)["status"] == "planned"

    comment.fill("Datoerne skal følge bekendtgørelsen; indsend igen.")
    page.get_by_role("button", name="Afvis").click()
    expect(page.get_by_role("status")).to_have_text("Ændringssættet er afvist.")
    expect(page.locator(".facts")).to_contain_text("afvist")
    assert axe_violations(page, install_axe().read_text(encoding="utf-8")) == []
    for name in ("Godkend", "Afvis", "Udgiv"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    assert changeset(service)["status"] == "rejected"
    with service.api("B") as client:
        assert client.post(f"/v1/admin/changesets/{REFORM_ID}/publish").status_code == 409
        entries = client.get("/v1/admin/audit", params={"limit": 1000}).json()["entries"]
    rejected = [entry for entry in entries if entry["action"] == "changeset.rejected"]
    assert "bekendtgørelsen" in json.dumps(rejected[-1]["detail"], ensure_ascii=False)

    page = b.open("/console/changesets?status=rejected")
    expect(page.get_by_role("table").get_by_role("link", name=REFORM_ID)).to_be_visible()
    page = b.open("/console/changesets?status=planned")
    expect(page.get_by_text("Ingen ændringssæt med status planlagt.")).to_be_visible()


def test_lists_show_states_in_words_on_a_chosen_date_and_version(
    browser: Browser, service: ConsoleService, visitors: list[Visitor]
) -> None:
    visitor = visit(visitors, browser, service)
    page = visitor.open("/console/?at=2013-12-31")
    expect(
        page.get_by_role("table", name="Fraværsårsager, version 2, på 2013-12-31")
    ).to_contain_text("ikke gyldig endnu")
    page = visitor.open("/console/lists/fravaer?at=2025-06-30&version=1")
    table = page.get_by_role("table", name="Værdier i Fraværsårsager")
    expect(table.get_by_role("row").filter(has_text="6 måneders bonus")).to_contain_text(
        "kan vælges"
    )
    page.get_by_label("Dato", exact=True).fill("2025-07-01")
    page.get_by_label("Version", exact=True).select_option("2")
    page.get_by_role("button", name="Vis").click()
    expect(page).to_have_url(re.compile(r"at=2025-07-01&version=2$"))
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    expect(table.get_by_role("row").filter(has_text="6 måneders bonus")).to_contain_text("udløbet")

    page.get_by_role("link", name="Historik for 59 6 måneders bonus for danskkundskaber").click()
    history = page.get_by_role("region", name=re.compile("^Historik for 59"))
    expect(history).to_be_visible()
    expect(history.get_by_role("row")).to_have_count(3)  # a header and versions 1 and 2
    expect(page.get_by_role("heading", name=re.compile("^Historik for 59"))).to_be_focused()
    with_deactivated = page.get_by_role("table", name=re.compile("^Versioner af"))
    expect(with_deactivated.get_by_role("row")).to_have_count(3)


def test_signed_in_pages_ask_for_a_token_and_security_headers_are_strict(
    browser: Browser, service: ConsoleService, visitors: list[Visitor]
) -> None:
    visitor = visit(visitors, browser, service)
    for path in ("/console/changesets", "/console/audit", REVIEW):
        page = visitor.open(path)
        expect(page.get_by_text("Log ind med en token")).to_be_visible()
    for path in (
        "/console/",
        "/console/lists/fravaer",
        "/console/changesets",
        REVIEW,
        "/console/audit",
        "/console/static/console.js",
    ):
        headers = httpx.get(service.url + path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    # Keyboard: the first Tab reaches the skip link, which leads into the main content; the
    # sign-in form is reached and sent by keyboard alone.
    page = visitor.open("/console/audit")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Gå til indhold")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.get_by_label("Token").focus()
    page.keyboard.type(service.tokens["B"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log ud")).to_be_focused()
    expect(page.get_by_role("table", name="Revisionslog")).to_be_visible()
    page.get_by_role("button", name="Log ud").press("Enter")
    expect(page.get_by_label("Token")).to_be_focused()
    assert page.evaluate("() => sessionStorage.length") == 0

    # A wrong token is refused and forgotten.
    page.get_by_label("Token").fill("cl_not-a-token")
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("alert")).to_contain_text("log ind igen")
    assert page.evaluate("() => sessionStorage.length") == 0


def axe_violations(page: Page, axe: str) -> list[object]:
    """axe-core's violations on the page as it is now (every rule axe runs by default)."""
    page.evaluate(axe)  # through the debugger protocol: the page's CSP does not apply to it
    found: list[object] = page.evaluate(
        """async () => (await axe.run(document)).violations.map(v => ({
            id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" "))}))"""
    )
    return found


PAGES = [
    "/console/",
    "/console/lists/fravaer?at=2025-07-01&version=2&code=59",
    "/console/changesets",
    REVIEW,
    "/console/audit",
]


def test_axe_finds_no_violations_on_any_page(
    browser: Browser, service: ConsoleService, visitors: list[Visitor]
) -> None:
    service.submit_reform(author="A")
    axe = install_axe().read_text(encoding="utf-8")
    visitor = visit(visitors, browser, service)
    found: dict[str, object] = {}

    def check(label: str, path: str) -> None:
        violations = axe_violations(visitor.open(path), axe)
        if violations:
            found[label] = violations

    for path in PAGES:
        check(f"signed out {path}", path)
    visitor.open("/console/")
    visitor.sign_in("B")
    for path in PAGES:
        check(f"signed in {path}", path)
    assert found == {}
