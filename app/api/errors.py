"""Every error as RFC 9457 problem details, validation errors with the path of each problem."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from sqlalchemy.exc import DBAPIError, OperationalError

from app.domain.errors import (
    BadInput,
    BadParameter,
    Conflict,
    FieldError,
    InvalidDocument,
    NotFound,
    Unavailable,
    field_error,
)

log = logging.getLogger(__name__)


class ConflictResponse(HTTPException):
    """Documents a 409 in the OpenAPI schema."""

    status_code = 409


class UnprocessableResponse(HTTPException):
    """Documents a 422 in the OpenAPI schema."""

    status_code = 422


# The problems each operation can answer, so the OpenAPI document lists them all.
DENIED = [NotAuthorizedException, PermissionDeniedException]
DECIDE = [*DENIED, NotFoundException, ConflictResponse, UnprocessableResponse]


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemDetailsException:
    extra: dict[str, Any] = {}
    if errors is not None:
        extra["errors"] = [{"path": e.path, "message": e.message} for e in errors]
    return ProblemDetailsException(
        status_code=status,
        title=title or HTTPStatus(status).phrase,
        detail=detail,
        extra=extra or None,
        # An error is about this moment (a list published a second later exists): no cache
        # should keep it.
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _from_http_exception(exc: HTTPException) -> ProblemDetailsException:
    if isinstance(exc, ValidationException):
        return _from_validation(exc)
    status = exc.status_code
    detail = exc.detail if exc.detail and exc.detail != HTTPStatus(status).phrase else ""
    return problem(status, detail or HTTPStatus(status).description, headers=exc.headers)


# Query parameters declared under another name than the one on the wire (a Python keyword, a
# builtin): litestar's errors name the declared one. tests/api/test_errors_paths.py checks
# that every such parameter of every route is here.
QUERY_NAMES = {
    "from_version": "from",
    "to_version": "to",
    "list_key": "list",
    "publish_now": "publish",
}
_MISSING = re.compile(r"Missing required \w+ parameter '(?P<name>[^']+)'")


def _from_validation(exc: ValidationException) -> ProblemDetailsException:
    """Litestar's parameter errors, e.g. ``at=2025-02-30``, with the parameter as the path."""
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, Mapping):
            name = str(item.get("key", ""))
            message = str(item.get("message", ""))
            if item.get("source") == "body" and name == "data":
                name = ""  # the body as a whole: its fields are the paths
                if message == "'data'":  # litestar's KeyError when there is no body at all
                    message = "a request body is required"
            errors.append(field_error(QUERY_NAMES.get(name, name), message))
    missing = _MISSING.search(str(exc.detail))
    if not errors and missing:
        errors.append(FieldError(missing["name"], "this parameter is required"))
    summary = "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in errors)
    summary = summary or str(exc.detail)
    return problem(400, f"Invalid request: {summary}", title="Invalid request", errors=errors)


def _from_bad_input(exc: BadInput) -> ProblemDetailsException:
    if isinstance(exc, InvalidDocument):
        count = len(exc.errors)
        detail = f"The document has {count} error{'s' if count != 1 else ''}; nothing was stored."
    elif isinstance(exc, BadParameter):
        detail = str(exc.message)
    else:
        # The same kind covers bodies and query parameters: say what is wrong, not where.
        detail = "Invalid request: " + "; ".join(
            f"{e.path or '(body)'}: {e.message}" for e in exc.errors
        )
    return problem(exc.status, detail, title=exc.title, errors=exc.errors)


def _not_found(exc: Exception) -> ProblemDetailsException:
    return problem(404, str(exc))


def _conflict(exc: Exception) -> ProblemDetailsException:
    return problem(409, str(exc))


def _unavailable(exc: Exception) -> ProblemDetailsException:
    log.warning("database unavailable: %s", type(exc).__name__)
    return problem(
        503,
        "The database is not reachable at the moment; try again shortly.",
        headers={"Retry-After": "5"},
    )


# SQLSTATEs of a database that is not there to answer, not of a wrong query (PostgreSQL,
# appendix A): class 08 connection exception, 53 insufficient resources, 57 operator
# intervention (a shutdown), and 3D000, the database does not exist (dropped or not yet made).
_UNAVAILABLE_STATES = ("08", "53", "57", "3D000")


def _database_error(exc: DBAPIError) -> ProblemDetailsException:
    """503 with Retry-After when the database cannot answer, else an unexpected 500."""
    state = str(getattr(exc.orig, "sqlstate", None) or "")
    if exc.connection_invalidated or (state and state.startswith(_UNAVAILABLE_STATES)):
        return _unavailable(exc)
    return _unexpected(exc)


def _too_deep(_: Exception) -> ProblemDetailsException:
    # A backstop: bodies are measured before decoding (app/api/bodies.py), but whatever still
    # recurses too deeply was given input nested too deeply, not a server fault.
    return problem(400, "The input nests too deeply.", errors=[FieldError("", "nested too deeply")])


def _unexpected(exc: Exception) -> ProblemDetailsException:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "An unexpected error occurred; it has been logged.")


# One entry per kind (app/domain/errors.py); litestar picks the closest base class.
_CONVERSIONS: dict[type[Any], Callable[[Any], ProblemDetailsException]] = {
    HTTPException: _from_http_exception,
    BadInput: _from_bad_input,
    NotFound: _not_found,
    Conflict: _conflict,
    Unavailable: _unavailable,
    # A connection that cannot be made or was lost, not a wrong query: the client may retry.
    OperationalError: _unavailable,
    DBAPIError: _database_error,
    ConnectionError: _unavailable,
    RecursionError: _too_deep,
    Exception: _unexpected,
}


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=_CONVERSIONS))
