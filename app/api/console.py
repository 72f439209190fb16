"""The administrators' console (api.md "Administrators' console"): pages and their static files.

Every page is the same small HTML document with its own title, heading and menu state; the
scripts in ``app/console/static`` fill it from the public API, sending the administrator's
token (kept in the tab's ``sessionStorage``) as ``Authorization: Bearer``. Nothing here reads a
token or a cookie: the console's pages and files are the same for everyone, and every
privileged action is an API call that carries its credential explicitly, which is what makes
the console immune to cross-site request forgery (docs/console.md).

Every answer carries a strict Content-Security-Policy: scripts, styles and connections only
from this origin, no inline script, no framing.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from app.api.dependencies import ReviewDep
from app.domain.review import ReviewPolicy

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Pages and files are revalidated on every load (cheap: a 304), so a new release is seen at once.
_REVALIDATE = "no-cache"
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# The menu: (page, path, label).
_MENU = (
    ("lists", "/console/", "Kodelister"),
    ("changesets", "/console/changesets", "Ændringssæt"),
    ("audit", "/console/audit", "Revisionslog"),
)
_MAX_TITLE = 80

AnyRequest = Request[Any, Any, Any]
# The pages' own query parameters are read by the script, not here; they are declared so that
# the service's check for parameters an endpoint does not take lets them through. Any text is
# accepted: a bad date or version is the API's to refuse, and the page shows that answer.
Text = Annotated[str | None, QueryParameter(required=False)]


@dataclass(frozen=True)
class _File:
    body: bytes
    media_type: str
    etag: str


def _load_static() -> dict[str, _File]:
    """Every file in app/console/static, read once: they are small and never change at run time."""
    files: dict[str, _File] = {}
    for entry in resources.files("app.console").joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in _TYPES:
            body = entry.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            files[entry.name] = _File(body, _TYPES[suffix], etag)
    return files


_STATIC = _load_static()
_PAGE = Template(resources.files("app.console").joinpath("page.html").read_text("utf-8"))


def _matches(request: AnyRequest, etag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") in {etag, "*"} for tag in wanted.split(","))


def _page(review: ReviewPolicy, page: str, title: str) -> Response[bytes]:
    """The console's one HTML document, titled for ``page``; the script does the rest.

    It tells the script whether publishing needs an approval first (api.md "Review, approval
    and scheduling"), so that "Udgiv" is offered only where it can succeed.
    """
    title = title if len(title) <= _MAX_TITLE else title[: _MAX_TITLE - 1] + "…"
    current = ' aria-current="page"'
    nav = "\n".join(
        f'      <li><a href="{path}"{current if name == page else ""}>{label}</a></li>'
        for name, path, label in _MENU
    )
    body = _PAGE.substitute(
        title=html.escape(title),
        heading=html.escape(title),
        page=page,
        nav=nav,
        require_approval="true" if review.require_approval else "false",
    ).encode()
    return Response(
        body,
        media_type="text/html",
        headers={**SECURITY_HEADERS, "Cache-Control": _REVALIDATE},
    )


class ConsoleController(Controller):
    """``/console/...``: the pages, and ``/console/static/{name}`` for their scripts and styles."""

    path = "/console"
    include_in_schema = False

    @get("/", name="console:lists")
    async def lists(
        self, request: AnyRequest, review: ReviewDep, at: Text = None, version: Text = None
    ) -> Response[bytes] | Redirect:
        # Pages link to each other by absolute paths, but the canonical address ends in "/".
        # litestar routes both with the slash stripped; the raw path tells them apart.
        if not request.scope.get("raw_path", b"/").endswith(b"/"):
            return Redirect("/console/", status_code=308)
        return _page(review, "lists", "Kodelister")

    @get("/lists/{key:str}")
    async def codelist(
        self,
        review: ReviewDep,
        key: FromPath[str],
        at: Text = None,
        version: Text = None,
        code: Text = None,
    ) -> Response[bytes]:
        return _page(review, "list", f"Kodeliste {key}")

    @get("/changesets")
    async def changesets(self, review: ReviewDep, status: Text = None) -> Response[bytes]:
        return _page(review, "changesets", "Ændringssæt")

    @get("/changesets/{changeset_id:str}")
    async def changeset(self, review: ReviewDep, changeset_id: FromPath[str]) -> Response[bytes]:
        return _page(review, "changeset", f"Ændringssæt {changeset_id}")

    @get("/audit")
    async def audit(self, review: ReviewDep, after: Text = None) -> Response[bytes]:
        return _page(review, "audit", "Revisionslog")

    @get("/static/{name:str}")
    async def static(self, request: AnyRequest, name: FromPath[str]) -> Response[bytes]:
        file = _STATIC.get(name)
        if file is None:
            raise NotFoundException(f"The console has no file {name!r}.")
        headers = {**SECURITY_HEADERS, "Cache-Control": _REVALIDATE, "ETag": file.etag}
        if _matches(request, file.etag):
            return Response(b"", status_code=304, headers=headers)
        return Response(file.body, media_type=file.media_type, headers=headers)
