"""Webhook subscriptions (scope admin): create one, list them, see its delivery log, end it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from app.api.auth import admin_access, principal_of
from app.api.dependencies import CatalogDep, ClockDep, EngineDep, NetworksDep, SecretsDep
from app.api.openapi import PROBLEMS
from app.api.params import path_parameter
from app.domain.destinations import Network
from app.domain.documents import ListKey
from app.domain.errors import FieldError, InvalidRequest, InvalidSubscription, NotFound
from app.store import audit, subscriptions
from app.store.secrets import new_secret
from app.store.subscriptions import DeliveryStatus, Subscription
from app.workers.destinations import destination_problem

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PathId = Annotated[str, path_parameter(pattern=_UUID.pattern, max_length=36)]


class NewSubscription(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    lists: Annotated[list[ListKey], msgspec.Meta(min_length=1, max_length=1000)] | None = None


class CreatedSubscription(msgspec.Struct, kw_only=True):
    id: str
    url: str
    secret: str  # shown once, here; stored encrypted
    lists: list[str] | None


class SubscriptionOut(msgspec.Struct, kw_only=True):
    id: str
    url: str
    lists: list[str] | None
    created_at: datetime
    active: bool

    @classmethod
    def of(cls, record: Subscription) -> SubscriptionOut:
        """The stored subscription without its (encrypted) secret."""
        return msgspec.convert(record, cls, from_attributes=True)


class SubscriptionsOut(msgspec.Struct):
    subscriptions: list[SubscriptionOut]


class DeliveryOut(msgspec.Struct, kw_only=True):
    id: str
    first_seq: int
    last_seq: int
    attempts: int
    status: DeliveryStatus
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None


class DeliveriesOut(msgspec.Struct):
    deliveries: list[DeliveryOut]


class SubscriptionNotFound(NotFound):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"there is no subscription '{subscription_id}'")


async def _check(
    body: NewSubscription, known_lists: set[str], allowed: tuple[Network, ...]
) -> None:
    """InvalidSubscription (422) for a URL that may not be used, InvalidRequest for lists."""
    problem = await destination_problem(body.url, allowed)
    if problem:
        raise InvalidSubscription([FieldError("url", problem)])
    errors = [
        FieldError(f"lists[{index}]", f"list '{key}' does not exist")
        for index, key in enumerate(body.lists or [])
        if key not in known_lists
    ]
    if errors:
        raise InvalidRequest(errors)


def _actor(request: Request[Any, Any, Any]) -> str:
    owner = principal_of(request)
    return owner.name if owner is not None else "unknown"


def _without_query(url: str) -> str:
    # A query string may carry a receiver's key: the audit log keeps scheme, host and path.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


class SubscriptionController(Controller):
    path = "/v1/admin/subscriptions"
    tags = ["sync"]
    guards = [admin_access]

    @post(
        "/",
        summary="Subscribe a URL to signed webhooks",
        status_code=HTTP_201_CREATED,
        opt={PROBLEMS: (422,)},
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        engine: EngineDep,
        clock: ClockDep,
        catalog: CatalogDep,
        secrets: SecretsDep,
        webhook_networks: NetworksDep,
        data: JSONBody[NewSubscription],
    ) -> Response[CreatedSubscription]:
        await _check(data, set(catalog.latest), webhook_networks)
        secret = new_secret()
        async with engine.begin() as connection:
            record = await subscriptions.create(
                connection,
                url=data.url,
                lists=sorted(set(data.lists)) if data.lists else None,
                sealed=secrets.seal(secret),
                now=clock.now(),
            )
            await audit.append(
                connection,
                actor=_actor(request),
                action="subscription.created",
                target=f"subscription:{record.id}",
                now=clock.now(),
                detail={"url": _without_query(record.url), "lists": record.lists},
            )
        # RFC 9110 section 15.3.2: a 201 names the resource it created (DELETE ends it).
        return Response(
            CreatedSubscription(id=record.id, url=record.url, secret=secret, lists=record.lists),
            status_code=HTTP_201_CREATED,
            headers={"Location": f"{self.path}/{record.id}"},
        )

    @get("/", summary="Active subscriptions (without their secrets)")
    async def index(self, engine: EngineDep) -> SubscriptionsOut:
        async with engine.connect() as connection:
            records = await subscriptions.all_active(connection)
        return SubscriptionsOut([SubscriptionOut.of(record) for record in records])

    @get("/{subscription_id:str}/deliveries", summary="The delivery log of a subscription")
    async def deliveries(self, engine: EngineDep, subscription_id: PathId) -> DeliveriesOut:
        if not _UUID.match(subscription_id):  # not looked up: see app/api/admin.py
            raise SubscriptionNotFound(subscription_id)
        async with engine.connect() as connection:
            if await subscriptions.get(connection, subscription_id) is None:
                raise SubscriptionNotFound(subscription_id)
            records = await subscriptions.deliveries_of(connection, subscription_id)
        return DeliveriesOut(msgspec.convert(records, list[DeliveryOut], from_attributes=True))

    @delete("/{subscription_id:str}", summary="End a subscription (no further deliveries)")
    async def end(
        self,
        request: Request[Any, Any, Any],
        engine: EngineDep,
        clock: ClockDep,
        subscription_id: PathId,
    ) -> Response[None]:
        if not _UUID.match(subscription_id):
            raise SubscriptionNotFound(subscription_id)
        async with engine.begin() as connection:
            if not await subscriptions.deactivate(connection, subscription_id):
                raise SubscriptionNotFound(subscription_id)
            await audit.append(
                connection,
                actor=_actor(request),
                action="subscription.deleted",
                target=f"subscription:{subscription_id}",
                now=clock.now(),
            )
        return Response(None, status_code=204)
