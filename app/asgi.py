"""The ASGI app: litestar for routing, with the cached-answer fast path and CORS in front."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from app.api.admin import ChangeSetController
from app.api.codelists import CodeListController, validate_many
from app.api.components import ComponentController
from app.api.errors import problem_details_plugin
from app.api.service import docs, live, ready
from app.api.subscriptions import SubscriptionController
from app.api.sync import changes, export_all
from app.config import Settings
from app.http.cors import CORSMiddleware
from app.http.fastpath import FastPath
from app.services import Services


def create_litestar(services: Services) -> Litestar:
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
            ChangeSetController,
            changes,
            export_all,
            SubscriptionController,
            live,
            ready,
            docs,
            PrometheusController,
            ComponentController,
        ],
        dependencies={"services": Provide(lambda: services, use_cache=True, sync_to_thread=False)},
        plugins=[problem_details_plugin()],
        middleware=[PrometheusConfig(app_name="codelists", group_path=True).middleware],
        openapi_config=OpenAPIConfig(
            title="Code lists",
            version="1",
            description="Versioned code lists for the Danish employment system (api.md).",
            path="/schema",
            render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        lifespan=[lifespan],
        request_max_body_size=1024 * 1024,  # change sets allow more
    )
    app.state.services = services
    return app


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Any:
    """The ASGI app for a server (``codelists serve``, granian's ``--factory``) or a test."""
    services = services or Services.create(settings or Settings.from_env())
    app: Any = create_litestar(services)
    if services.settings.public_read:
        # Only public answers may be served without the guards that run inside the framework.
        app = FastPath(app, services.answers)
    return CORSMiddleware(app, services.settings.cors_origins)
