"""Review endpoints (api.md "Admin endpoints"): approve and reject change sets, who am I, and
the audit log."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_200_OK

from app.api.admin import ChangeSetOut, _well_formed
from app.api.auth import Authenticator, admin_access, any_token, approve_access, principal_of
from app.api.dependencies import ClockDep, EngineDep, ReviewDep
from app.api.errors import DECIDE, DENIED, problem
from app.api.openapi import BODY
from app.api.params import MAX_POSITION, PathChangeSetId, integer_query
from app.domain.errors import FieldError, from_msgspec
from app.domain.principals import Principal
from app.store import audit
from app.store.audit import AuditEntry
from app.store.review import FourEyes, approve, reject

AnyRequest = Request[Any, Any, Any]
MAX_COMMENT = 5000
Comment = Annotated[str, msgspec.Meta(max_length=MAX_COMMENT)]
# A comment that says something has a character that is not white space. The class is the same
# set in Python's ``re`` (which counts \x1c-\x1f and \x85 as white space) and in the
# ECMAScript patterns of JSON Schema (which count \ufeff): what the server refuses as blank is
# what the OpenAPI document calls invalid, whichever engine checks it.
NON_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"
_NON_BLANK = re.compile(NON_BLANK)
T = TypeVar("T")


class ApproveBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    comment: Comment | None = None


class RejectBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    comment: Comment | None = None  # required: checked by hand, to name the path


# The bodies as the OpenAPI document describes them: the handlers read them themselves, to
# answer every error as a 422 with its path (``_body``).
_APPROVAL: dict[str, Any] = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "title": "Approval",
                "additionalProperties": False,
                "properties": {
                    "comment": {
                        "oneOf": [
                            {"type": "string", "maxLength": MAX_COMMENT},
                            {"type": "null"},
                        ],
                        "description": "Recorded with the approval in the audit log.",
                    }
                },
            }
        }
    },
}
_REJECTION: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "title": "Rejection",
                "additionalProperties": False,
                "required": ["comment"],
                "properties": {
                    "comment": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_COMMENT,
                        "pattern": NON_BLANK,
                        "description": "Why: not blank (a character other than white space).",
                    }
                },
            }
        }
    },
}


class WhoAmI(msgspec.Struct, omit_defaults=True):
    """The principal of the token used: its name (as the audit log records it), this
    service's scopes it holds, and for a JWT its kind (client or person), issuer and client."""

    name: str
    scopes: list[str]
    kind: str = "token"
    issuer: str | None = None
    client_id: str | None = None


class AuditPage(msgspec.Struct):
    entries: list[AuditEntry]
    next_after: int
    has_more: bool


def _invalid(errors: list[FieldError]) -> Exception:
    detail = "; ".join(f"{e.path or '(body)'}: {e.message}" for e in errors)
    return problem(422, f"Invalid request body: {detail}", title="Invalid request", errors=errors)


async def _body(request: AnyRequest, kind: type[T]) -> T:
    """The JSON body as ``kind``; an empty body is ``{}``. Errors are 422 with their paths."""
    raw = await request.body()
    try:
        return msgspec.json.decode(raw or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        raise _invalid([from_msgspec(exc, "")]) from None
    except msgspec.DecodeError as exc:
        raise _invalid([FieldError("", f"malformed JSON: {exc}")]) from None


def _principal(request: AnyRequest) -> Principal:
    owner = principal_of(request)  # set by the guard
    if owner is None:  # pragma: no cover - every route here is guarded
        raise NotAuthorizedException("A bearer token is required.")
    return owner


class ReviewController(Controller):
    path = "/v1/admin/changesets"
    tags = ["admin"]
    guards = [approve_access]

    @post(
        "/{changeset_id:str}/approve",
        summary="Approve a planned change set (four eyes)",
        raises=DECIDE,
        status_code=HTTP_200_OK,
        opt={BODY: _APPROVAL},
    )
    async def approve(
        self,
        request: AnyRequest,
        engine: EngineDep,
        clock: ClockDep,
        review: ReviewDep,
        changeset_id: PathChangeSetId,
    ) -> ChangeSetOut:
        body = await _body(request, ApproveBody)
        approver = _principal(request)
        try:
            record = await approve(
                engine,
                _well_formed(changeset_id),
                approver=approver.name,
                comment=body.comment,
                now=clock.now(),
                require_approval=review.require_approval,
            )
        except FourEyes as exc:
            authenticator: Authenticator = request.app.state.authenticator
            await authenticator.refused(request, 403, approver.name)
            raise problem(403, str(exc), title="Four eyes") from None
        return ChangeSetOut.of(record)

    @post(
        "/{changeset_id:str}/reject",
        summary="Reject a change set, with a comment",
        raises=DECIDE,
        status_code=HTTP_200_OK,
        opt={BODY: _REJECTION},
    )
    async def reject(
        self, request: AnyRequest, engine: EngineDep, clock: ClockDep, changeset_id: PathChangeSetId
    ) -> ChangeSetOut:
        body = await _body(request, RejectBody)
        if body.comment is None or not _NON_BLANK.search(body.comment):
            raise _invalid([FieldError("comment", "a comment saying why is required")])
        record = await reject(
            engine,
            _well_formed(changeset_id),
            rejecter=_principal(request).name,
            comment=body.comment,
            now=clock.now(),
        )
        return ChangeSetOut.of(record)


@get(
    "/v1/admin/whoami",
    tags=["admin"],
    summary="The name and scopes of the token used",
    raises=[NotAuthorizedException],
    guards=[any_token],
)
async def whoami(request: AnyRequest) -> WhoAmI:
    principal = _principal(request)
    return WhoAmI(
        name=principal.name,
        scopes=sorted(principal.scopes),
        kind=principal.kind,
        issuer=principal.issuer,
        client_id=principal.client_id,
    )


@get(
    "/v1/admin/audit",
    tags=["admin"],
    summary="The audit log, oldest first, by seq",
    raises=[*DENIED, ValidationException],
    guards=[admin_access],
)
async def audit_log(
    engine: EngineDep,
    after: Annotated[int, integer_query(0, MAX_POSITION)] = 0,
    limit: Annotated[int, integer_query(1, 1000)] = 100,
) -> AuditPage:
    async with engine.connect() as connection:
        entries, more = await audit.page(connection, after=after, limit=limit)
    next_after = entries[-1].seq if entries else after
    return AuditPage(entries=entries, next_after=next_after, has_more=more)
