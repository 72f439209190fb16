"""Figures for <codelist-select> (issue 10): size, requests per page, time to options shown.

    uv run python -m bench.component [--loads 20]

Starts ``codelists serve`` on a freshly seeded SQLite database (the repository's seed: four
lists), a recording proxy in front of it and a front-end origin, and drives Debian's Chromium
(/usr/bin/chromium, or CODELISTS_CHROMIUM) headless with Playwright. Prints:

- the module's bytes as the service sends it gzipped (and brotli, and plain);
- requests the service sees for a page with 10 elements over 4 lists: first visit and a new
  load of the page within max-age;
- the time from DOMContentLoaded to every element showing its options on a warm HTTP cache,
  median (and spread) of ``--loads`` loads.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from tests.browser.chromium import launch
from tests.browser.servers import FrontEnd, Recorder, Service, seed

ROOT = Path(__file__).resolve().parents[1]
# 10 elements over 4 lists, with stored values (one retired) as an edit form has them.
ELEMENTS = [
    ("fravaer", "59"),
    ("fravaer", "1"),
    ("fravaer", ""),
    ("fravaer", "60"),
    ("kontaktgruppe", ""),
    ("kontaktgruppe", ""),
    ("tilmeldekategori", ""),
    ("tilmeldekategori", ""),
    ("slettepolitik", ""),
    ("slettepolitik", ""),
]
# Notes when every element has shown the options of its load (aria-busy gone).
TIMING = """<script>
const observer = new MutationObserver(() => {
  const elements = document.querySelectorAll('codelist-select');
  if (elements.length === %d && [...elements].every(
      (e) => e.select && e.select.options.length > 1 && !e.select.hasAttribute('aria-busy'))) {
    window.shownAt = performance.now();
    observer.disconnect();
  }
});
observer.observe(document, {subtree: true, childList: true, attributes: true});
</script>"""


def page(module: str) -> str:
    fields = "\n".join(
        f'<label for="e{i}">{key} {i}</label>'
        f'<codelist-select id="e{i}" name="e{i}" list="{key}" value="{value}"></codelist-select>'
        for i, (key, value) in enumerate(ELEMENTS)
    )
    return f"""<!doctype html><html lang="da"><head><meta charset="utf-8"><title>Bench</title>
{TIMING % len(ELEMENTS)}<script type="module" src="{module}"></script></head>
<body><main><form>{fields}</form></main></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=20)
    loads = parser.parse_args().loads

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        seed(url, ROOT / "seed")
        service = Service(url, Path(tmp) / "serve.log").start()
        recorder = Recorder(service.port)
        front = FrontEnd()
        try:
            module = f"{service.url}/components/codelist-select.js"
            for coding in ("gzip", "br", "identity"):
                answer = httpx.get(module, headers={"Accept-Encoding": coding})
                size = answer.num_bytes_downloaded
                print(f"module, {coding}: {size} bytes")

            front.pages["/"] = page(f"{recorder.url}/components/codelist-select.js")
            with sync_playwright() as playwright:
                browser = launch(playwright)
                tab = browser.new_context().new_page()
                tab.goto(front.url + "/")
                tab.wait_for_function("window.shownAt !== undefined")
                first = [(s.method, s.path, s.status) for s in recorder.seen]
                print(f"first visit: {len(first)} requests to the service")
                for request in first:
                    print("   ", *request)
                recorder.seen.clear()
                times = []
                for _ in range(loads):
                    tab.goto(front.url + "/")
                    tab.wait_for_function("window.shownAt !== undefined")
                    times.append(
                        tab.evaluate(
                            "window.shownAt - performance.getEntriesByType('navigation')[0]"
                            ".domContentLoadedEventStart"
                        )
                    )
                again = len(recorder.seen)
                print(f"{loads} new loads within max-age: {again} requests to the service")
                print(
                    f"DOMContentLoaded to options shown, warm cache: median "
                    f"{statistics.median(times):.1f} ms (min {min(times):.1f}, "
                    f"max {max(times):.1f}, {loads} loads)"
                )
                browser.close()
        finally:
            front.close()
            recorder.close()
            service.stop()


if __name__ == "__main__":
    main()
