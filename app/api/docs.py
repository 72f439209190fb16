"""``GET /docs``: Swagger UI for ``/schema/openapi.json``, with no request to another host.

Swagger UI's scripts and styles come from the packaged ``swagger-ui-bundle-v2`` distribution
and are served by the service under ``/docs/assets/`` (api.md "Service endpoints": the page
works with no internet). The validator badge, which would call validator.swagger.io, is off.

The page sends a Content-Security-Policy (api.md "Security headers"): scripts only from this
origin, so the script that starts Swagger UI is a file of its own (``docs-init.js``, served as
``/docs/init.js``); styles from this origin and inline (Swagger UI sets ``style`` attributes
as it renders), images from this origin and ``data:`` URLs (its icons); no framing.
"""

from __future__ import annotations

from html import escape
from importlib import resources

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType
from litestar.response import Response
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from app.http.security import page_headers

ASSETS = "/docs/assets"
INIT = "/docs/init.js"
TITLE = "Code lists API"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = {name.decode(): value.decode() for name, value in page_headers(CSP)}
_INIT_SCRIPT = resources.files("app.api").joinpath("docs-init.js").read_bytes()

_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(TITLE)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/swagger-ui-standalone-preset.js"></script>
<script src="{INIT}"></script>
</body>
</html>
""".encode()


@get("/docs", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def docs() -> Response[bytes]:
    """The OpenAPI UI page; its assets are ``docs_assets``."""
    return Response(_PAGE, headers={**_HEADERS, "Cache-Control": "no-cache"})


@get(INIT, media_type="text/javascript", include_in_schema=False, sync_to_thread=False)
def docs_init() -> Response[bytes]:
    """The script starting Swagger UI on the page (``docs-init.js``)."""
    return Response(_INIT_SCRIPT, headers={"Cache-Control": "no-cache"})


# The files of one Swagger UI release never change: a day's caching is safe.
docs_assets: Router = create_static_files_router(
    path=ASSETS,
    directories=[swagger_ui_path],
    name="docs_assets",
    cache_control=CacheControlHeader(public=True, max_age=86400),
    include_in_schema=False,
)
