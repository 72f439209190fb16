"""The protected resource metadata (RFC 9728): how a client finds the issuers to get a token
from, and the scope names to ask for."""

from __future__ import annotations

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.response import Response

from app.api.dependencies import ResourceMetadataDep
from app.identity.metadata import METADATA_PATH, ProtectedResourceMetadata

# Changes only with the configuration: kept an hour by clients and caches.
_CACHING = {"Cache-Control": "public, max-age=3600"}


@get(
    METADATA_PATH,
    tags=["service"],
    summary="Protected resource metadata (RFC 9728): the issuers and scopes this service trusts",
    raises=[NotFoundException],
)
async def protected_resource_metadata(
    resource_metadata: ResourceMetadataDep,
) -> Response[ProtectedResourceMetadata]:
    if resource_metadata is None:
        raise NotFoundException("This service trusts no issuer of access tokens.")
    return Response(resource_metadata, headers=_CACHING)
