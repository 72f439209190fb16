"""Request bodies are measured before any decoder sees them (issue 9 item 19).

A body nesting deeper than ``MAX_DEPTH`` (app/domain/nesting.py) is refused with problem
details, for every endpoint that takes a body, before litestar or a handler decodes it; a
decoder's ``RecursionError`` would otherwise be a 500. Refused as ``InvalidRequest`` (400), or
as the kind a handler names in its ``opt`` under ``INVALID_BODY`` (the change-set endpoint: a
422, like any invalid document).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from anyio import to_thread
from litestar import Request

from app.domain.errors import BadInput, InvalidRequest
from app.domain.nesting import nesting_error

INVALID_BODY = "invalid_body"
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Measuring a YAML body of some megabytes takes seconds: past this size, off the event loop.
_MEASURED_IN_THREAD = 64 * 1024


async def refuse_deep_bodies(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: a body nesting too deeply (JSON, or YAML by its Content-Type)
    raises ``InvalidRequest`` or the handler's ``INVALID_BODY`` kind, with the path ``""``."""
    if request.method not in _BODY_METHODS:
        return
    raw = await request.body()  # kept by litestar for the handler: read once
    measure = partial(nesting_error, raw, yaml=request.content_type[0] in YAML_TYPES)
    error = await to_thread.run_sync(measure) if len(raw) > _MEASURED_IN_THREAD else measure()
    if error is not None:
        kind: type[BadInput] = request.route_handler.opt.get(INVALID_BODY, InvalidRequest)
        raise kind([error])
