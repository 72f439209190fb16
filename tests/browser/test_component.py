"""<codelist-select> in Debian's Chromium against the real service (api.md "Drop-down component").

Pages come from a second origin (``FrontEnd``), as in a real front end; the module is loaded
from the service unless a test stops the service, where the front end serves its own copy.
"""

from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.servers import FrontEnd, Recorder, Service, free_port

# True once every element on the page has shown the options of its latest load.
LOADED = """() => [...document.querySelectorAll('codelist-select')].every(
    (e) => e.select && !e.select.hasAttribute('aria-busy'))"""
# Per element: [value, text, disabled, selected] of each option, placeholder left out.
OPTIONS = """(e) => [...e.select.options].filter((o) => o.value !== '').map(
    (o) => [o.value, o.text, o.disabled, o.selected])"""


def html(body: str, module: str) -> str:
    return f"""<!doctype html><html lang="da"><head><meta charset="utf-8"><title>Test</title>
<script>window.seen = [];</script>
<script type="module" src="{module}"></script></head><body><main>{body}</main></body></html>"""


def show(page: Page, front: FrontEnd, body: str, module: str, path: str = "/") -> None:
    front.pages[path] = html(body, module)
    page.goto(front.url + path)
    page.wait_for_function(LOADED)


def options_of(service: Service, key: str, **query: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{service.url}/v1/codelists/{key}/options", params=query)
    answer.raise_for_status()
    return list(answer.json()["options"])


def shown(page: Page, selector: str) -> list[list[Any]]:
    return list(page.eval_on_selector(selector, OPTIONS))


def test_options_and_order_equal_the_service_on_the_demo_page(page: Page, service: Service) -> None:
    page.goto(f"{service.url}/components/")
    page.wait_for_function(LOADED)
    keys = [item["key"] for item in httpx.get(f"{service.url}/v1/codelists").json()["codelists"]]
    elements = page.eval_on_selector_all("codelist-select", "(es) => es.map((e) => e.id)")
    assert len(elements) == len(keys) >= 5
    for key in keys:
        expected = [[o["code"], o["name"], False, False] for o in options_of(service, key)]
        assert shown(page, f"#list-{key}") == expected, key
        # a native <select> in the element's light DOM, named by the page's <label>
        name = page.eval_on_selector(
            f"#list-{key}",
            """(e) => e.querySelector(':scope > select') === e.select
                && e.select.getAttribute('aria-labelledby').split(' ')
                       .map((id) => document.getElementById(id).textContent).join(' ')""",
        )
        assert name == next(
            item["name"]
            for item in httpx.get(f"{service.url}/v1/codelists").json()["codelists"]
            if item["key"] == key
        )
    # the date field evaluates every list on that date
    page.fill("#at", "2025-01-01")
    page.wait_for_function(LOADED)
    for key in keys:
        expected = [
            [o["code"], o["name"], False, False] for o in options_of(service, key, at="2025-01-01")
        ]
        assert shown(page, f"#list-{key}") == expected, key


def test_retired_value_is_kept_selected_and_submitted_unchanged(
    page: Page, service: Service, front: FrontEnd
) -> None:
    front.pages["/sent"] = "<!doctype html><title>Sendt</title><p>sendt</p>"
    show(
        page,
        front,
        """<form action="/sent"><label for="a">Fraværsårsag</label>
        <codelist-select id="a" name="absence" list="fravaer" value="59"></codelist-select>
        <button>Send</button></form>""",
        f"{service.url}/components/codelist-select.js",
    )
    options = shown(page, "#a")
    retired = [o for o in options if o[0] == "59"]
    assert retired == [["59", "6 måneders bonus for danskkundskaber (udgået)", True, True]]
    # every other option is the service's selectable list, in its order
    assert [o[0] for o in options if o[0] != "59"] == [
        o["code"] for o in options_of(service, "fravaer")
    ]
    assert page.eval_on_selector("#a", "(e) => [e.value, e.select.value]") == ["59", "59"]
    page.click("button")
    page.wait_for_url("**/sent*")
    assert parse_qs(urlsplit(page.url).query) == {"absence": ["59"]}


def test_one_request_per_list_however_many_elements(
    page: Page, recorder: Recorder, front: FrontEnd
) -> None:
    show(
        page,
        front,
        """<label for="a">A</label><codelist-select id="a" list="fravaer" value="59"></codelist-select>
        <label for="b">B</label><codelist-select id="b" list="fravaer" value="60"></codelist-select>
        <label for="c">C</label><codelist-select id="c" list="fravaer"></codelist-select>
        <label for="d">D</label><codelist-select id="d" list="kontaktgruppe"></codelist-select>""",
        f"{recorder.url}/components/codelist-select.js",
    )
    fravaer = recorder.requests("/fravaer/options")
    assert [(s.path, s.status) for s in fravaer] == [
        ("/v1/codelists/fravaer/options?include=59,60", 200)
    ]
    assert len(recorder.requests("/kontaktgruppe/options")) == 1
    assert page.eval_on_selector_all("codelist-select", "(es) => es.map((e) => e.value)") == [
        "59",
        "60",
        "",
        "",
    ]
    assert [o[0] for o in shown(page, "#b") if o[3]] == ["60"]


def test_reload_within_max_age_makes_no_request_and_after_it_gets_a_304(
    page: Page, start_service: Any, front: FrontEnd
) -> None:
    service = start_service(max_age=3)
    recorder = Recorder(service.port)
    try:
        body = """<label for="a">A</label>
        <codelist-select id="a" list="fravaer" value="59"></codelist-select>"""
        show(page, front, body, f"{recorder.url}/components/codelist-select.js")
        first = time.monotonic()
        assert [s.status for s in recorder.requests()] == [200]
        page.goto(front.url + "/")
        page.wait_for_function(LOADED)
        page.reload()
        page.wait_for_function(LOADED)
        assert time.monotonic() - first < 3, "too slow to test within max-age"
        assert len(recorder.requests()) == 1  # no request since the first visit
        assert len(recorder.requests("/components/")) == 1
        assert [o[0] for o in shown(page, "#a") if o[3]] == ["59"]
        time.sleep(3.5 - (time.monotonic() - first))
        page.goto(front.url + "/")
        page.wait_for_function(LOADED)
        deadline = time.monotonic() + 5  # (a stale-while-revalidate one runs after the load)
        while len(recorder.requests()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        revalidation = recorder.requests()[-1]
        assert len(recorder.requests()) == 2
        assert revalidation.if_none_match and revalidation.status == 304
        assert [o[0] for o in shown(page, "#a") if o[3]] == ["59"]
    finally:
        recorder.close()


FRONT_END_BODY = """<label for="a">Fraværsårsag</label>
<codelist-select id="a" list="fravaer" value="59" service="{service}"></codelist-select>
<script>document.getElementById('a').addEventListener('error',
    (event) => window.seen.push(['error', event.detail.message]));</script>"""


def test_stopped_service_after_a_first_visit_uses_the_last_copy(
    browser: Browser, context: BrowserContext, page: Page, start_service: Any, front: FrontEnd
) -> None:
    service = start_service()
    show(page, front, FRONT_END_BODY.format(service=service.url), "/codelist-select.js")
    first = shown(page, "#a")
    assert page.get_attribute("#a", "stale") is None
    # A later visit whose HTTP cache no longer has the answer (a new profile keeping the
    # origin's localStorage), while the service is down.
    storage = context.storage_state()
    service.stop()
    later = browser.new_context(storage_state=storage)
    try:
        again = later.new_page()
        again.goto(front.url + "/")
        again.wait_for_function(LOADED)
        assert again.get_attribute("#a", "stale") == ""
        assert again.get_attribute("#a", "error") is None
        assert shown(again, "#a") == first
        assert again.evaluate("window.seen") == []
        assert "gemt kopi" in again.inner_text("#a [aria-live]")
    finally:
        later.close()


def test_unreachable_service_before_any_visit_is_an_error(page: Page, front: FrontEnd) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    show(page, front, FRONT_END_BODY.format(service=nowhere), "/codelist-select.js")
    assert page.get_attribute("#a", "error") == ""
    assert page.get_attribute("#a", "stale") is None
    assert shown(page, "#a") == [["59", "59", False, True]]
    assert page.eval_on_selector("#a", "(e) => e.value") == "59"
    seen = page.evaluate("window.seen")
    assert len(seen) == 1 and seen[0][0] == "error"
    live = page.locator("#a [aria-live]")
    assert live.get_attribute("role") == "alert"
    assert "kunne ikke hentes" in live.inner_text()
    described = page.eval_on_selector("#a", "(e) => e.select.getAttribute('aria-describedby')")
    assert described == live.get_attribute("id")


FORM = """<form action="/sent"><label for="a">Kontaktgruppe</label>
<codelist-select id="a" name="gruppe" list="kontaktgruppe" {attributes}></codelist-select>
<button>Send</button></form>
<script>for (const type of ['change', 'input'])
  document.addEventListener(type, (e) => window.seen.push([type, e.target.id, e.target.value]));
</script>"""


def _module(service: Service) -> str:
    return f"{service.url}/components/codelist-select.js"


def test_required(page: Page, service: Service, front: FrontEnd) -> None:
    front.pages["/sent"] = "<!doctype html><title>Sendt</title><p>sendt</p>"
    show(page, front, FORM.format(attributes='required placeholder="Vælg …"'), _module(service))
    assert page.eval_on_selector(
        "#a", "(e) => [e.validity.valueMissing, e.form.checkValidity(), e.matches(':invalid')]"
    ) == [True, False, True]
    assert page.eval_on_selector("#a", "(e) => e.select.options[0].text") == "Vælg …"
    page.click("button")
    time.sleep(0.3)
    assert "/sent" not in page.url  # the browser refused to submit
    code = options_of(service, "kontaktgruppe")[0]["code"]
    page.select_option("#a select", code)
    assert page.eval_on_selector("#a", "(e) => [e.validity.valid, e.value]") == [True, code]
    page.click("button")
    page.wait_for_url("**/sent*")
    assert parse_qs(urlsplit(page.url).query) == {"gruppe": [code]}


def test_events_and_form_reset(page: Page, service: Service, front: FrontEnd) -> None:
    codes = [o["code"] for o in options_of(service, "kontaktgruppe")]
    stored, chosen = codes[0], codes[1]
    show(page, front, FORM.format(attributes=f'value="{stored}"'), _module(service))
    page.select_option("#a select", chosen)
    assert page.evaluate("window.seen") == [["input", "a", chosen], ["change", "a", chosen]]
    assert page.eval_on_selector("#a", "(e) => [e.value, new FormData(e.form).get('gruppe')]") == [
        chosen,
        chosen,
    ]
    page.eval_on_selector("#a", "(e) => e.form.reset()")
    assert page.eval_on_selector(
        "#a", "(e) => [e.value, e.select.value, new FormData(e.form).get('gruppe')]"
    ) == [stored, stored, stored]
    # keyboard: the label's click focuses the <select>, arrow keys choose
    page.evaluate("window.seen = []")
    page.click("label[for=a]")
    assert page.evaluate("document.activeElement === document.querySelector('#a').select")
    page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("#a", "(e) => e.value") == codes[1]
    assert ["change", "a", codes[1]] in page.evaluate("window.seen")
    page.eval_on_selector("#a", "(e) => e.form.reset()")
    # script sets the value like a <select>'s; disabled leaves the form data
    page.eval_on_selector("#a", f"(e) => {{ e.value = '{chosen}'; e.disabled = true; }}")
    assert page.get_attribute("#a", "disabled") == ""
    assert page.eval_on_selector(
        "#a", "(e) => [e.select.value, e.select.disabled, new FormData(e.form).has('gruppe')]"
    ) == [chosen, True, False]


def _visible(page: Page) -> list[str]:
    return [o[0] for o in shown(page, "#a")]


def test_filter_matches_like_q_with_danish_case_folding(
    page: Page, service: Service, front: FrontEnd
) -> None:
    show(
        page,
        front,
        """<label for="a">By</label>
        <codelist-select id="a" name="by" list="byer" value="85" filter></codelist-select>""",
        _module(service),
    )
    everything = [o["code"] for o in options_of(service, "byer")]
    assert _visible(page) == everything
    assert page.get_attribute("#a input[type=search]", "aria-label") == "Søg i By"
    for needle in ["æ", "Æ", "aa", "AA", "Aa", "ø", "ss", "Odense", "hus", "8"]:
        page.fill("#a input[type=search]", needle)
        expected = [o["code"] for o in options_of(service, "byer", q=needle)]
        # the stored value stays, selected, whatever the filter
        assert _visible(page) == [c for c in everything if c in expected or c == "85"], needle
        assert page.eval_on_selector("#a", "(e) => [e.value, e.select.value]") == ["85"] * 2
    page.fill("#a input[type=search]", "aa")
    assert "82" not in _visible(page)  # like q: "aa" is not "å" (Ålborg)
    decomposed = unicodedata.normalize("NFD", "å")
    assert len(decomposed) == 2
    page.fill("#a input[type=search]", decomposed)
    assert _visible(page) == ["85", "82"]  # Odense (stored), Ålborg: the service's order
    page.fill("#a input[type=search]", "")
    assert _visible(page) == everything


def test_axe_finds_no_violation_on_the_demo_page(
    page: Page, service: Service, axe_script: Any
) -> None:
    page.goto(f"{service.url}/components/")
    page.wait_for_function(LOADED)
    # Evaluated through the debugger protocol: the page's CSP (no inline script) does not
    # apply to it, as it would to an added <script> tag.
    page.evaluate(Path(axe_script).read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document)")
    violations = [
        {"id": v["id"], "nodes": [n["html"] for n in v["nodes"]]} for v in result["violations"]
    ]
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)
    assert result["passes"]


def test_postgresql_smoke(page: Page, postgres_service: Service) -> None:
    page.goto(f"{postgres_service.url}/components/")
    page.wait_for_function(LOADED)
    expected = [
        [o["code"], o["name"], False, False] for o in options_of(postgres_service, "fravaer")
    ]
    assert shown(page, "#list-fravaer") == expected


def test_the_filter_folds_text_as_the_service_folds_q(
    page: Page, service: Service, front: FrontEnd
) -> None:
    """The module's ``fold`` gives the service's search form (app/domain/matching.py)."""
    from app.domain.matching import search_form

    samples = [
        "Ærø",
        "ærø",
        "Aarhus",
        "Ålborg",
        unicodedata.normalize("NFD", "Ålborg"),
        "Große Straße",
        "GROẞE",
        "ΣΟΦΊΑΣ σοφίας",
        "ﬁskeri",
        "Kontor １２",
        "İstanbul",
    ]
    show(page, front, "", _module(service))
    folded = page.evaluate(
        "async ([url, samples]) => { const m = await import(url); return samples.map(m.fold); }",
        [_module(service), samples],
    )
    assert folded == [search_form(sample) for sample in samples]


def test_elements_added_later_reuse_the_answer_or_ask_once_more(
    page: Page, recorder: Recorder, front: FrontEnd
) -> None:
    show(
        page,
        front,
        """<label for="a">A</label><codelist-select id="a" list="fravaer" value="59"></codelist-select>
        <label for="d">D</label>
        <codelist-select id="d" list="fravaer" at="2025-01-01" value="59"></codelist-select>""",
        f"{recorder.url}/components/codelist-select.js",
    )
    assert sorted(s.path for s in recorder.requests("/fravaer/options")) == [
        "/v1/codelists/fravaer/options?include=59",
        "/v1/codelists/fravaer/options?include=59&at=2025-01-01",
    ]
    add = """([id, value]) => {
        const label = Object.assign(document.createElement('label'), {htmlFor: id, textContent: id});
        const element = Object.assign(document.createElement('codelist-select'), {id});
        element.setAttribute('list', 'fravaer');
        if (value) element.setAttribute('value', value);
        document.querySelector('main').append(label, element);
    }"""
    # a selectable value or none: the answer the page has already
    page.evaluate(add, ["b", "1"])
    page.evaluate(add, ["c", ""])
    page.wait_for_function(LOADED)
    assert len(recorder.requests("/fravaer/options")) == 2
    # a retired value the answer lacks: one more request, for every stored value so far
    page.evaluate(add, ["e", "60"])
    page.wait_for_function(LOADED)
    assert recorder.requests("/fravaer/options")[-1].path == (
        "/v1/codelists/fravaer/options?include=59,60"
    )
    assert [o for o in shown(page, "#e") if o[3]] == [
        ["60", "Dispensation fra danskprøve (udgået)", True, True]
    ]
