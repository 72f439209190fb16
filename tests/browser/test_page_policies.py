"""The service's HTML pages under their Content-Security-Policy, in Chromium (issue 21, item 8).

``/docs`` (Swagger UI) and ``/components/`` (the drop-down demo) must still work with scripts
from their own origin only: the page renders, and the browser reports no CSP violation. Neither
may be framed by another origin.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.browser.servers import FrontEnd, Service

# Records every violation the page reports, from the first script on.
_WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Watched:
    """A page's console errors and CSP violations."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._note)
        page.add_init_script(_WATCH)

    def _note(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(message.text)

    def violations(self) -> list[str]:
        found = list(self.page.evaluate("window.__violations"))
        found += [text for text in self.console if "Content Security Policy" in text]
        return found


@pytest.fixture
def watched(page: Page) -> Watched:
    return Watched(page)


def test_docs_renders_swagger_ui_without_a_csp_violation(
    watched: Watched, service: Service
) -> None:
    page = watched.page
    response = page.goto(service.url + "/docs")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    page.locator(".swagger-ui .info .title").filter(has_text="Code lists").wait_for()
    page.locator(".opblock-summary-path", has_text="/v1/codelists/{key}/options").first.wait_for()
    assert page.locator(".opblock").count() > 10
    # Opening an operation renders its parameters (more of Swagger UI's scripts and styles).
    page.locator(".opblock-summary", has_text="/v1/codelists/{key}/options").first.click()
    page.locator(".parameters-container").first.wait_for()
    page.wait_for_timeout(500)  # late violations (styles, images) are reported asynchronously
    assert watched.violations() == []
    assert watched.console == []


def test_components_page_works_without_a_csp_violation(watched: Watched, service: Service) -> None:
    page = watched.page
    response = page.goto(service.url + "/components/")
    assert response is not None
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    select = page.locator("codelist-select#list-fravaer select")
    select.locator("option[value='1']").wait_for(state="attached")  # Uddannelse
    # The page's own script (now /components/demo.js) shows the form's values.
    page.locator("button[type=submit]").click()
    page.locator("#values", has_text="fravaer = ").wait_for()
    # Its styles (now /components/demo.css) apply.
    weight = page.eval_on_selector(".form-label", "e => getComputedStyle(e).fontWeight")
    assert weight == "600"
    page.wait_for_timeout(500)
    assert watched.violations() == []


def test_no_page_can_be_framed_by_another_origin(
    page: Page, service: Service, front: FrontEnd
) -> None:
    paths = ["/docs", "/components/", "/console/"]
    front.pages["/frames"] = "<!doctype html><title>Rammer</title>" + "".join(
        f'<iframe src="{service.url}{path}"></iframe>' for path in paths
    )
    page.goto(front.url + "/frames")
    page.wait_for_timeout(1500)
    framed = [frame for frame in page.frames if frame != page.main_frame]
    assert len(framed) == len(paths)
    for frame in framed:
        # A refused frame holds Chromium's error page, never the service's document.
        assert not frame.url.startswith(service.url) or frame.evaluate(
            "document.querySelector('main, #swagger-ui, #app') === null"
        ), frame.url
