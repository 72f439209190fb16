"""A parameter an endpoint does not take is a 400 (api.md "Time and validity").

Litestar ignores query parameters a handler does not declare; a client that sends ``version``
to the index or to ``diff`` would then get an answer to another question than it asked. The
parameters each handler takes (its own and its dependencies') are read once from litestar's
route table, and every request is checked against them before its handler runs.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.routes import HTTPRoute

from app.domain.errors import FieldError, InvalidRequest

_ACCEPTED = "litestar_accepted_query"


def learn_accepted_parameters(app: Litestar) -> None:
    """Record, per route handler, the query parameter names it takes (once, at app creation)."""
    accepted: dict[int, frozenset[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler, kwargs_model in route.route_handler_map.values():
                names = {p.field_alias for p in kwargs_model.expected_query_params}
                accepted[id(handler)] = frozenset(names)
    app.state[_ACCEPTED] = accepted


async def refuse_unknown_parameters(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: InvalidRequest (400) naming every parameter not taken."""
    accepted: dict[int, frozenset[str]] = request.app.state[_ACCEPTED]
    names = accepted.get(id(request.route_handler))
    if names is None:
        return
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        raise InvalidRequest(
            [FieldError(name, "this endpoint does not take this parameter") for name in unknown]
        )
