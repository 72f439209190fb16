"""The drop-down component and its demo page (api.md "Drop-down component").

``GET /components/codelist-select.js`` serves the ES module whose one source is
``clients/js/codelist-select.js`` (shipped in the wheel through the symlink in
``app/components/``), with the caching of every other answer (api.md "HTTP caching"): strong
ETag per content coding, 304, HEAD, gzip/brotli, Cache-Control; CORS comes from the middleware
around the whole app. ``GET /components/`` is a Danish page showing the element for every list,
with a date field: a live demo and a DKFDS markup example, with no asset from another host.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from app.api.auth import read_access
from app.api.dependencies import AnswersDep, CatalogDep
from app.http.answer import Answer
from app.http.raw import RawResponse

MODULE_NAME = "codelist-select.js"
JAVASCRIPT = b"text/javascript; charset=utf-8"
HTML = b"text/html; charset=utf-8"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


CSS = b"text/css; charset=utf-8"
# The demo page's own script and styles: files, since its CSP allows nothing inline.
DEMO_FILES = {"demo.js": JAVASCRIPT, "demo.css": CSS}


@cache
def file_answer(name: str = MODULE_NAME, media_type: bytes = JAVASCRIPT) -> Answer:
    """The bytes of ``app/components/<name>`` as an encoded answer, made once per process.

    Last-Modified is the file's modification time (in a wheel: the build's fixed time); the
    ETag, which browsers revalidate with, comes from the bytes.
    """
    source = resources.files("app.components") / name
    body = source.read_bytes()
    with resources.as_file(source) as path:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return Answer(body, last_modified=min(modified, datetime.now(UTC)), media_type=media_type)


def _page(lists: list[tuple[str, str]]) -> bytes:
    """The demo page: one labelled element per list (key, name), in DKFDS form markup."""
    fields = "\n".join(
        f"""      <div class="form-group">
        <label class="form-label" for="list-{html.escape(key)}">{html.escape(name)}</label>
        <codelist-select id="list-{html.escape(key)}" name="{html.escape(key)}" \
list="{html.escape(key)}" placeholder="Vælg …" filter>
          <select class="form-select"></select>
        </codelist-select>
      </div>"""
        for key, name in lists
    )
    return _PAGE.replace("{fields}", fields or "<p>Der er endnu ingen lister.</p>").encode()


class ComponentController(Controller):
    """The component module and its demo page."""

    path = "/components"
    tags = ["components"]
    include_in_schema = False

    @get("/codelist-select.js")
    async def module(self, request: Request[Any, Any, Any], answers: AnswersDep) -> RawResponse:
        """The ES module defining ``<codelist-select>`` (text/javascript, cached, CORS)."""

        async def build(_: date) -> Answer:
            return file_answer()

        return await answers.serve(request.scope, build)

    @get("/{name:str}")
    async def demo_file(
        self, request: Request[Any, Any, Any], answers: AnswersDep, name: FromPath[str]
    ) -> RawResponse:
        """The demo page's script (``demo.js``) and styles (``demo.css``)."""
        media_type = DEMO_FILES.get(name)
        if media_type is None:
            raise NotFoundException(f"The component has no file {name!r}.")

        async def build(_: date) -> Answer:
            return file_answer(name, media_type)

        return await answers.serve(request.scope, build)

    @get("/", guards=[read_access])
    async def page(
        self, request: Request[Any, Any, Any], answers: AnswersDep, catalog: CatalogDep
    ) -> RawResponse:
        """The demo page: every list (a read of the catalog, so guarded like the reads)."""

        async def build(_: date) -> Answer:
            heads = sorted(catalog.latest.values(), key=lambda head: head.key)
            published = max((head.published_at for head in heads), default=EPOCH)
            body = _page([(head.key, head.name) for head in heads])
            # It depends on the set of lists: purged with the index (api.md "Shared caches").
            return Answer(body, last_modified=published, media_type=HTML, index=True)

        return await answers.serve(request.scope, build)


_PAGE = """<!doctype html>
<html lang="da">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Kodelister: drop-down-komponenten codelist-select</title>
  <link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml">
  <script type="module" src="/components/codelist-select.js"></script>
  <script type="module" src="/components/demo.js"></script>
  <link rel="stylesheet" href="/components/demo.css">
</head>
<body>
  <main>
    <h1>Drop-down-komponenten <code>&lt;codelist-select&gt;</code></h1>
    <p>Siden viser komponenten for hver kodeliste i tjenesten. Vælg en dato for at se
    listerne, som de ser ud den dag. Markeringen følger DKFDS (<code>form-group</code>,
    <code>form-label</code>, <code>form-select</code>), så designsystemets typografi og
    fejlvisning virker som på en almindelig <code>&lt;select&gt;</code>.</p>
    <form id="demo">
      <div class="form-group">
        <label class="form-label" for="at">Dato (tom: i dag)</label>
        <input class="form-input" type="date" id="at">
      </div>
{fields}
      <button class="button" type="submit">Vis formularens værdier</button>
      <button class="button button-secondary" type="reset">Nulstil</button>
      <h2>Formularens værdier</h2>
      <output id="values" for="demo" aria-live="polite">(ikke sendt endnu)</output>
    </form>
    <h2>Sådan bruger du den</h2>
    <pre><code>&lt;script type="module" src="/components/codelist-select.js"&gt;&lt;/script&gt;
&lt;div class="form-group"&gt;
  &lt;label class="form-label" for="absence"&gt;Fraværsårsag&lt;/label&gt;
  &lt;codelist-select id="absence" name="absence" list="fravaer" value="59"&gt;
    &lt;select class="form-select"&gt;&lt;/select&gt;
  &lt;/codelist-select&gt;
&lt;/div&gt;</code></pre>
  </main>
</body>
</html>
"""
