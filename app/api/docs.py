"""``GET /docs``: Swagger UI for ``/schema/openapi.json``, with no request to another host.

Swagger UI's scripts and styles come from the packaged ``swagger-ui-bundle-v2`` distribution
and are served by the service under ``/docs/assets/`` (api.md "Service endpoints": the page
works with no internet). The validator badge, which would call validator.swagger.io, is off.
"""

from __future__ import annotations

from html import escape

from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType
from litestar.response import Response
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
SCHEMA = "/schema/openapi.json"
TITLE = "Code lists API"

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
<script>
window.ui = SwaggerUIBundle({{
  url: "{SCHEMA}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "BaseLayout"
}});
</script>
</body>
</html>
""".encode()


@get("/docs", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def docs() -> Response[bytes]:
    """The OpenAPI UI page; its assets are ``docs_assets``."""
    return Response(_PAGE, headers={"Cache-Control": "no-cache"})


# The files of one Swagger UI release never change: a day's caching is safe.
docs_assets: Router = create_static_files_router(
    path=ASSETS,
    directories=[swagger_ui_path],
    name="docs_assets",
    cache_control=CacheControlHeader(public=True, max_age=86400),
    include_in_schema=False,
)
