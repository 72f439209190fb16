"""The collaborators controllers may ask for, each under its explicit litestar dependency name.

The wiring (``app.server.wiring.Services.dependencies``) provides one object per name; a
handler declares ``engine: EngineDep`` and litestar hands it the process's engine.
"""

from __future__ import annotations

from typing import Any

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.clock import Clock
from app.domain.review import ReviewPolicy
from app.http.fastpath import AnswerCache
from app.reads.answers import Reads
from app.reads.catalog import Catalog
from app.store.secrets import SecretBox

EngineDep = NamedDependency[AsyncEngine]  # "engine"
ClockDep = NamedDependency[Clock]  # "clock": "today" in the service's time zone
CatalogDep = NamedDependency[Catalog]  # "catalog": the read model of published lists
ReadsDep = NamedDependency[Reads]  # "reads": builds read answers
AnswersDep = NamedDependency[AnswerCache]  # "answers": encoded answers by request
SecretsDep = NamedDependency[SecretBox]  # "secrets": webhook secrets at rest
# "webhook_networks": CODELISTS_WEBHOOK_ALLOWED_NETWORKS, a tuple of ipaddress networks (typed
# Any here: litestar validates dependencies with msgspec, which cannot take that union).
NetworksDep = NamedDependency[Any]
ReviewDep = NamedDependency[ReviewPolicy]  # "review": whether approval is required
# "resource_metadata": the RFC 9728 document (a dict), or None when no issuer is configured.
ResourceMetadataDep = NamedDependency[Any]
# "issuers": the trusted issuers (app.identity.issuers.Issuer), a tuple, possibly empty.
IssuersDep = NamedDependency[Any]
