"""The ASGI app: litestar for routing, with the cached-answer fast path and CORS in front."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.routes import HTTPRoute

from app.api.admin import ChangeSetController
from app.api.bodies import refuse_deep_bodies
from app.api.codelists import CodeListController, validate_many
from app.api.components import ComponentController
from app.api.console import ConsoleController
from app.api.docs import docs, docs_assets, docs_init
from app.api.errors import problem_details_plugin
from app.api.identity import protected_resource_metadata
from app.api.openapi import CompletedOpenAPIJson, schema_router
from app.api.review import ReviewController, audit_log, whoami
from app.api.service import live, ready
from app.api.strict_query import learn_accepted_parameters, refuse_unknown_parameters
from app.api.subscriptions import SubscriptionController
from app.api.sync import changes, export_all
from app.http.allow import AllowMiddleware, RouteMethods
from app.http.cors import CORSMiddleware, CORSPolicy
from app.http.fastpath import FastPath
from app.http.head import HeadAsGet
from app.http.security import SecurityHeaders
from app.server.access import AccessLog
from app.server.logs import configure_logging
from app.server.settings import Settings
from app.server.wiring import Services


async def before_each_request(request: Request[Any, Any, Any]) -> None:
    """Checks every request passes before its handler: parameters it takes, bodies it can read."""
    await refuse_unknown_parameters(request)
    await refuse_deep_bodies(request)


def create_litestar(services: Services) -> Litestar:
    """The litestar app: every route, its dependencies from ``services``, and the lifespan."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    app = Litestar(
        route_handlers=[
            CodeListController,
            validate_many,
            # Administration answers (tokens' names, a webhook secret once) are never stored by
            # a cache, a browser's included (RFC 9111 section 5.2.2.5).
            Router(
                "/",
                route_handlers=[
                    ChangeSetController,
                    ReviewController,
                    whoami,
                    audit_log,
                    SubscriptionController,
                ],
                cache_control=CacheControlHeader(no_store=True),
            ),
            changes,
            export_all,
            live,
            ready,
            protected_resource_metadata,
            docs,
            docs_init,
            docs_assets,
            PrometheusController,
            ComponentController,
            ConsoleController,
        ],
        dependencies=services.dependencies(),
        plugins=[problem_details_plugin()],
        middleware=[PrometheusConfig(app_name="codelists", group_path=True).middleware],
        openapi_config=OpenAPIConfig(
            title="Code lists",
            version="1",
            description="Versioned code lists for the Danish employment system (api.md).",
            openapi_router=schema_router(),
            # /docs is ours (app/api/docs.py): litestar's UI pages load from a CDN.
            render_plugins=[
                CompletedOpenAPIJson(
                    public_read=services.settings.public_read,
                    issuers=services.settings.issuers(),
                )
            ],
        ),
        lifespan=[lifespan],
        logging_config=None,  # configured once by serve_app (app/server/logs.py), not here
        before_request=before_each_request,
        request_max_body_size=1024 * 1024,  # change sets allow more
    )
    learn_accepted_parameters(app)
    app.state.authenticator = services.auth  # for the guards (app/api/auth.py)
    return app


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Any:
    """The ASGI app for a test or an embedding server: fast path, access log, CORS, litestar.

    Logging is left as the caller set it; ``serve_app`` is the production entry point.
    """
    services = services or Services.create(settings or Settings.from_env())
    cors = CORSPolicy(services.settings.cors_origins)
    litestar = create_litestar(services)
    methods = RouteMethods(
        (route.path, route.methods) for route in litestar.routes if isinstance(route, HTTPRoute)
    )
    framework = CORSMiddleware(AllowMiddleware(HeadAsGet(litestar), methods), cors)
    # nosniff on every answer, a page's CSP on every HTML page (app/http/security.py); the
    # fast path's answers carry theirs already.
    access_log = AccessLog(SecurityHeaders(framework))
    # In front of the framework: a cached answer gets the CORS headers from the same policy,
    # and, when reads need a token, is served only to a token the route's guard would admit;
    # its access line is written through the access log behind it.
    authorise = None if services.settings.public_read else services.auth.allows
    return FastPath(
        access_log, services.answers, cors=cors, authorise=authorise, access_log=access_log
    )


def serve_app() -> Any:
    """The app for ``codelists serve`` (granian's factory, in each worker process): settings
    from the environment, logging configured once for the process, then ``create_app``."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, buffer_lines=settings.log_buffer_lines)
    return create_app(settings)
