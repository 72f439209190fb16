"""The OpenAPI document, completed when it is first served (api.md, first paragraph).

Litestar documents each operation's success answer and a 400 in its own error shape. Here, in one
place, every operation gets every status it can answer, each error as RFC 9457 problem details
(``application/problem+json``), derived from how the route is built:

- every operation: 400 (a bad or unknown parameter, app/api/strict_query.py), 500, 503;
- a guarded operation: 401 and 403 (app/api/auth.py);
- a path with parameters: 404;
- an operation that takes a body (every POST, PUT, PATCH): 413, and 400 for a body nesting
  too deeply;
- whatever a handler lists under ``opt[PROBLEMS]`` (409, 415, 422, ...).

An operation that needs a token names the security schemes under ``security``: every guarded
one but the reads, which are public unless CODELISTS_PUBLIC_READ is false (app/api/auth.py).
The schemes come from the security configuration (``app.identity.metadata``): the bearer token,
and one OpenID Connect scheme per trusted issuer.

A handler that reads its body itself (rather than through a ``data`` parameter) describes it
under ``opt[BODY]``, as an OpenAPI Request Body object.

Fields litestar cannot type (raw JSON passed through, ``Any``) are given their schemas, and the
parameters examples from the seed (``fravaer``, code ``59``); litestar's random examples are off.
A body struct that refuses unknown fields (msgspec's ``forbid_unknown_fields``) says so with
``additionalProperties: false``, which litestar leaves out.

The document is served as ``application/json`` and revalidated like every read answer (strong
ETag, 304, compression, Cache-Control): ``DocumentResponse`` on ``schema_router``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, Router
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response.base import ASGIResponse
from litestar.routes import HTTPRoute

from app.api.auth import read_access, sync_access
from app.api.openapi_schemas import (
    COMPONENTS,
    EXAMPLES,
    FIELD_SCHEMAS,
    PARAMETER_EXAMPLES,
    PROBLEM,
    RESPONSE_CONTENT,
)
from app.http.answer import Answer
from app.http.conditional import CachePolicy, respond
from app.identity.issuers import Issuer
from app.identity.metadata import security_requirement, security_schemes

PROBLEMS = "problems"  # the key in a handler's ``opt``: extra statuses it answers
BODY = "body"  # the key in a handler's ``opt``: the body it reads itself (a Request Body object)
PROBLEM_MEDIA_TYPE = "application/problem+json"

_WHY = {
    400: "Invalid request: a parameter or body that the endpoint does not take, with `errors`",
    401: "No valid bearer token (WWW-Authenticate: Bearer)",
    403: "The token lacks the scope",
    404: "The list, value or resource does not exist",
    409: "Conflicts with the current state",
    413: "The body is too large",
    415: "The body's media type is not one this endpoint reads",
    422: "Invalid document or field values, with every error and its path",
    500: "An unexpected error (logged)",
    503: "The database is not reachable; retry after Retry-After seconds",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer realm"}},
    503: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# The guards that let everyone through while reads are public (CODELISTS_PUBLIC_READ).
_PUBLIC_READ_GUARDS = frozenset({read_access, sync_access})


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _WHY.get(status, HTTPStatus(status).phrase),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def error_statuses(
    *, guarded: bool, path_parameters: bool, reads_body: bool, extra: Iterable[int]
) -> set[int]:
    """The error statuses an operation can answer, by the rules in this module's docstring."""
    statuses = {400, 500, 503, *extra}
    if guarded:
        statuses |= {401, 403}
    if path_parameters:
        statuses.add(404)
    if reads_body:
        statuses.add(413)
    return statuses


def _operations(app: Litestar) -> Iterable[tuple[str, str, HTTPRouteHandler, set[int]]]:
    """(path, method, handler, error statuses) for every documented operation."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if not handler.resolve_include_in_schema():
                continue
            statuses = error_statuses(
                guarded=bool(handler.resolve_guards()),
                path_parameters=bool(route.path_parameters),
                # Every body is read and measured before its handler runs (app/api/bodies.py).
                reads_body=method in _BODY_METHODS,
                extra=handler.opt.get(PROBLEMS, ()),
            )
            yield route.path_format or "/", method.lower(), handler, statuses


# The wire structs the server fills with raw stored JSON (app/wire.py) are generic; litestar
# names their components after the parameter (``Change_msgspec.Raw_``).
_RAW_SUFFIX = "_msgspec.Raw_"
_REF = "#/components/schemas/"


def _closed_structs(kind: msgspec.inspect.Type, seen: set[type], closed: set[str]) -> None:
    """Add to ``closed`` the name of each struct in ``kind``, itself or inside, that refuses
    unknown fields; ``seen`` are the structs already walked."""
    if isinstance(kind, msgspec.inspect.StructType):
        if kind.cls in seen:
            return
        seen.add(kind.cls)
        if kind.forbid_unknown_fields:
            closed.add(kind.cls.__name__)
        for field in kind.fields:
            _closed_structs(field.type, seen, closed)
    elif isinstance(kind, msgspec.inspect.Metadata):
        _closed_structs(kind.type, seen, closed)
    elif isinstance(kind, msgspec.inspect.UnionType):
        for option in kind.types:
            _closed_structs(option, seen, closed)
    elif isinstance(kind, msgspec.inspect.DictType):
        _closed_structs(kind.value_type, seen, closed)
    elif isinstance(kind, msgspec.inspect.CollectionType):  # lists, sets, tuples of one type
        _closed_structs(kind.item_type, seen, closed)


def _close_bodies(document: dict[str, Any], app: Litestar) -> None:
    """``additionalProperties: false`` on the component of every struct a ``data`` body holds
    that refuses unknown fields."""
    seen: set[type] = set()
    closed: set[str] = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler, _ in route.route_handler_map.values():
                data = handler.parsed_fn_signature.parameters.get("data")
                if data is not None:
                    _closed_structs(msgspec.inspect.type_info(data.annotation), seen, closed)
    schemas = document["components"]["schemas"]
    # Litestar names a component after its struct; tests/api/test_openapi.py checks that every
    # body is closed, should it ever name one otherwise.
    for name in closed & set(schemas):
        schemas[name]["additionalProperties"] = False


def _rename_raw_generics(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    renamed = {
        name: name.removesuffix(_RAW_SUFFIX) for name in schemas if name.endswith(_RAW_SUFFIX)
    }
    for old, new in renamed.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    refs = {_REF + old: _REF + new for old, new in renamed.items()}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                node["$ref"] = refs.get(node["$ref"], node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def _needs_token(handler: HTTPRouteHandler, *, public_read: bool) -> bool:
    """Whether a request to ``handler`` needs a bearer token (api.md "Read endpoints")."""
    guards = handler.resolve_guards()
    if public_read:
        return any(guard not in _PUBLIC_READ_GUARDS for guard in guards)
    return bool(guards)


# The document changes only when the service is upgraded: kept five minutes, then revalidated.
_DOCUMENT_CACHING = CachePolicy(max_age=300)


@lru_cache(maxsize=4)  # one document per app (the tests make several apps)
def _document_answer(body: bytes) -> Answer:
    """The rendered document as an answer (its ETags and compressed forms), made once."""
    return Answer(body, last_modified=datetime.now(UTC))


class DocumentResponse(Response[bytes]):
    """The document answered like every read (app/http/conditional.py): ``application/json``,
    a strong ETag per content coding, 304 to a matching If-None-Match (or If-Modified-Since),
    gzip or brotli, Cache-Control.

    The response class of ``schema_router``: litestar's handler returns the rendered bytes and
    cannot see the request's headers; this class can.
    """

    def to_asgi_response(
        self, app: Litestar | None, request: Request[Any, Any, Any], **options: Any
    ) -> ASGIResponse:
        """The 200 or 304 for the request; anything but the document as litestar makes it."""
        if self.status_code != HTTPStatus.OK or not isinstance(self.content, bytes):
            return super().to_asgi_response(app, request, **options)
        status, headers, body = respond(
            _document_answer(self.content),
            list(request.scope["headers"]),
            now=datetime.now(UTC),
            policy=_DOCUMENT_CACHING,
        )
        return ASGIResponse(
            status_code=status,
            body=body,
            headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
        )


def schema_router() -> Router:
    """The router litestar serves ``/schema/openapi.json`` from (``OpenAPIConfig``'s
    ``openapi_router``), answering through ``DocumentResponse``."""
    return Router(
        "/schema",
        route_handlers=[],
        include_in_schema=False,
        response_class=DocumentResponse,
        dto=None,
        return_dto=None,
    )


class CompletedOpenAPIJson(JsonRenderPlugin):
    """Serves ``/schema/openapi.json``: litestar's document, completed and encoded on its first
    request, then the same bytes every time.

    Litestar builds the document on first request and keeps it; completing it then rather
    than at app creation keeps building the document (a quarter of a second) off every start.
    """

    def __init__(self, *, public_read: bool, issuers: tuple[Issuer, ...] = ()) -> None:
        # Plain JSON, as api.md says of everything it does not say otherwise of; litestar's
        # default, application/vnd.oai.openapi+json, is one no integrator expects.
        super().__init__(media_type=MediaType.JSON)
        self.public_read = public_read
        self.issuers = issuers
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The document as JSON bytes; ``openapi_schema`` is litestar's kept dict."""
        if self._rendered is None:  # render is synchronous: no other request comes in between
            complete_openapi(
                openapi_schema, request.app, public_read=self.public_read, issuers=self.issuers
            )
            self._rendered = super().render(request, openapi_schema)
        return self._rendered


def complete_openapi(
    document: dict[str, Any],
    app: Litestar,
    *,
    public_read: bool,
    issuers: tuple[Issuer, ...] = (),
) -> None:
    """Complete ``document``, litestar's OpenAPI document of ``app``, in place; reads need no
    token when ``public_read``; ``issuers`` are the trusted issuers of JWT access tokens."""
    _rename_raw_generics(document)
    _close_bodies(document, app)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    document["components"]["securitySchemes"] = security_schemes(issuers)
    security = security_requirement(issuers)
    schemas.update(COMPONENTS)
    for (component, field), schema in FIELD_SCHEMAS.items():
        if component in schemas:
            schemas[component]["properties"][field] = schema
    for component, example in EXAMPLES.items():
        if component in schemas:
            schemas[component]["example"] = example
    for path, method, handler, statuses in _operations(app):
        operation = document["paths"][path][method]
        if BODY in handler.opt:
            operation["requestBody"] = handler.opt[BODY]
        if _needs_token(handler, public_read=public_read):
            operation["security"] = security
        responses = operation.setdefault("responses", {})
        # Litestar's own error entries (from ``raises``) are replaced too: every error is a problem.
        declared = {int(status) for status in responses if status.isdigit() and int(status) >= 400}
        for status in sorted(statuses | declared):
            responses[str(status)] = _problem_response(status)
        for status, response in responses.items():
            content = RESPONSE_CONTENT.get((path, status))
            if content is not None:
                response["content"] = content
            if status in ("204", "304"):
                response.pop("content", None)  # no body, whatever litestar guessed
        for parameter in operation.get("parameters", []):
            example = PARAMETER_EXAMPLES.get(parameter["name"])
            if example is not None:
                parameter["example"] = example
