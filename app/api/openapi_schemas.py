"""Schemas and examples the OpenAPI document gets beyond what litestar derives (app/api/openapi.py).

Examples are real: the seed's list ``fravaer`` (seed/0001-fravaer.yaml and the reform of
release 2025-4 that deactivated code 59 on 2025-07-01).
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import msgspec

from app.domain import documents
from app.domain.destinations import URL_PATTERN
from app.domain.documents import LIST_KEY_PATTERN, ChangeSetDocument
from app.domain.limits import Limit

_REF = "#/components/schemas/"


def _string_limit(hint: Any) -> int | None:
    """The ``Limit`` of the strings in a field typed ``hint``, through ``Annotated``, unions and
    lists (a struct inside has fields of its own); None when there is none."""
    origin = get_origin(hint)
    if origin is Annotated:
        base, *extras = get_args(hint)
        limits = [extra.chars for extra in extras if isinstance(extra, Limit)]
        return min(limits) if limits else _string_limit(base)
    if origin is Union or origin is types.UnionType or origin is list:
        found = [chars for arg in get_args(hint) if (chars := _string_limit(arg)) is not None]
        return min(found) if found else None
    return None


def _limit_strings(node: Any, chars: int) -> None:
    """``maxLength`` ``chars`` on every string schema in ``node`` (not through references)."""
    if isinstance(node, dict):
        if node.get("type") == "string":
            node["maxLength"] = chars
        for value in node.values():
            _limit_strings(value, chars)
    elif isinstance(node, list):
        for value in node:
            _limit_strings(value, chars)


def document_components() -> dict[str, dict[str, Any]]:
    """The change-set document as schema components, ``ChangeSetDocument`` and its parts.

    Made by msgspec from the structs the server decodes documents with
    (app/domain/documents.py), so every field, type and pattern is the server's, and every
    object refuses fields it does not name (``additionalProperties: false``), as the server
    does. The length limits, which the server checks as rule errors (app/domain/limits.py),
    become ``maxLength``.
    """
    _, components = msgspec.json.schema_components(
        [ChangeSetDocument], ref_template=_REF + "{name}"
    )
    for name, component in components.items():
        struct = getattr(documents, name)
        hints = get_type_hints(struct, include_extras=True)
        for field in msgspec.structs.fields(struct):
            chars = _string_limit(hints[field.name])
            if chars is not None:
                _limit_strings(component["properties"][field.encode_name], chars)
    components["ChangeSetDocument"]["description"] = (
        "A change-set document (changesets.md): what changes in which lists, and why."
    )
    return components


PROBLEM: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` lists every invalid field with its path.",
    "required": ["status", "title", "detail"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "example": {
        "status": 400,
        "title": "Invalid request",
        "detail": "Invalid request: at: must be a real date written YYYY-MM-DD",
        "errors": [{"path": "at", "message": "must be a real date written YYYY-MM-DD"}],
    },
}

# An attribute's stored value: string (also dates and ISO 8601 durations), integer or boolean
# (app/domain/attributes.py).
ATTRIBUTE_VALUES: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": ["string", "integer", "boolean"]},
}
# A field's value before or after a change: any field of a value or a list.
_FIELD_VALUE: dict[str, Any] = {
    "oneOf": [
        {"type": "string"},
        {"type": "integer"},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string"}},
        ATTRIBUTE_VALUES,
        {"type": "null"},
    ]
}
_VALUE = {"$ref": _REF + "Value"}

COMPONENTS: dict[str, dict[str, Any]] = {
    "CodeSystem": {
        "type": "object",
        "title": "CodeSystem",
        "description": "An HL7 FHIR R4 CodeSystem resource (https://hl7.org/fhir/R4/codesystem.html).",
        "required": ["resourceType", "id", "url", "version", "name", "status", "content"],
        "properties": {
            "resourceType": {"type": "string", "enum": ["CodeSystem"]},
            "id": {"type": "string", "pattern": r"^[A-Za-z0-9\-\.]{1,64}$"},
            "url": {"type": "string"},
            "identifier": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"system": {"type": "string"}, "value": {"type": "string"}},
                },
            },
            "version": {"type": "string"},
            "name": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "string"},
            "experimental": {"type": "boolean"},
            "date": {"type": "string"},
            "description": {"type": "string"},
            "caseSensitive": {"type": "boolean"},
            "hierarchyMeaning": {"type": "string"},
            "content": {"type": "string"},
            "count": {"type": "integer"},
            "property": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "type"],
                    "properties": {
                        "code": {"type": "string"},
                        "uri": {"type": "string"},
                        "description": {"type": "string"},
                        "type": {"type": "string"},
                    },
                },
            },
            "concept": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {
                        "code": {"type": "string"},
                        "display": {"type": "string"},
                        "definition": {"type": "string"},
                        "property": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["code"],
                                "properties": {
                                    "code": {"type": "string"},
                                    "valueCode": {"type": "string"},
                                    "valueBoolean": {"type": "boolean"},
                                    "valueDateTime": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    **document_components(),
}

# (component, field) -> the field's schema, where litestar's is untyped.
FIELD_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    # The feed passes the stored JSON through (msgspec.Raw): a Value's fields.
    ("Change", "value"): _VALUE,
    ("Change", "previous"): {"oneOf": [_VALUE, {"type": "null"}]},
    ("Value", "attributes"): ATTRIBUTE_VALUES,
    ("ValueOut", "attributes"): ATTRIBUTE_VALUES,
    ("ValueDetailOut", "attributes"): ATTRIBUTE_VALUES,
    ("ExportedValue", "attributes"): ATTRIBUTE_VALUES,
    # The form the server checks the URL for by hand (422 with the path url, not 400).
    ("NewSubscription", "url"): {
        "type": "string",
        "minLength": 1,
        "maxLength": 2000,
        "pattern": URL_PATTERN,
        "description": "http or https, without credentials; its host must resolve to public "
        "addresses only (or ones in CODELISTS_WEBHOOK_ALLOWED_NETWORKS), else 422.",
    },
    # msgspec's constraints on list items do not reach litestar's schema.
    ("NewSubscription", "lists"): {
        "oneOf": [
            {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": {"type": "string", "pattern": LIST_KEY_PATTERN, "maxLength": 64},
            },
            {"type": "null"},
        ]
    },
    # What an audited action records (a change set's id, versions, a comment): JSON values.
    ("AuditEntry", "detail"): {
        "type": "object",
        "additionalProperties": {
            "type": ["string", "integer", "number", "boolean", "array", "object", "null"]
        },
    },
    ("FieldChange", "from"): _FIELD_VALUE,
    ("FieldChange", "to"): _FIELD_VALUE,
}

VALUE_59: dict[str, Any] = {
    "code": "59",
    "name": "6 måneders bonus for danskkundskaber",
    "description": None,
    "valid_from": "2014-01-01",
    "valid_to": "2025-07-01",
    "active": False,
    "state": "deactivated",
    "selectable": False,
    "sort_order": 59,
    "parent": None,
    "replaced_by": [],
    "attributes": {},
}

EXAMPLES: dict[str, Any] = {
    "ValueOut": VALUE_59,
    "OptionOut": {"code": "59", "name": "6 måneders bonus for danskkundskaber", "selectable": True},
    "OptionsOut": {
        "key": "fravaer",
        "version": 2,
        "at": "2025-06-30",
        "options": [
            {"code": "1", "name": "Uddannelse", "selectable": True},
            {"code": "2", "name": "Midlertidigt arbejde", "selectable": True},
            {"code": "59", "name": "6 måneders bonus for danskkundskaber", "selectable": True},
        ],
    },
    "ValidationOut": {
        "key": "fravaer",
        "code": "59",
        "at": "2025-07-01",
        "valid": False,
        "state": "expired",
        "name": "6 måneders bonus for danskkundskaber",
        "replaced_by": [],
        "message": "Code '59' (6 måneders bonus for danskkundskaber) in list 'fravaer' expired "
        "on 2025-07-01.",
    },
    "ValidationItem": {"list": "fravaer", "code": "59", "at": "2025-06-30"},
    "ValidationRequest": {
        "items": [
            {"list": "fravaer", "code": "59"},
            {"list": "fravaer", "code": "1", "at": "2025-06-30", "version": 2},
        ]
    },
    # A literal public address: accepted as it stands, with no name to resolve (198.51.100.0/24
    # and the other documentation ranges are not public, so the service refuses them).
    "NewSubscription": {"url": "https://93.184.215.14/hooks/codelists", "lists": ["fravaer"]},
    "ChangeSetDocument": {
        "id": "2026-1-ferie-og-fridage",
        "release": "2026-1",
        "reason": "Koden dækker også afspadsering og andre fridage",
        "changes": [
            {
                "op": "set",
                "list": "fravaer",
                "codes": ["10"],
                "fields": {"name": "Ferie og fridage"},
            }
        ],
    },
}

# (path, status) -> the answer's content, for answers that are not litestar-encoded JSON.
RESPONSE_CONTENT: dict[tuple[str, str], dict[str, Any]] = {
    ("/v1/codelists/{key}/fhir", "200"): {
        "application/fhir+json": {"schema": {"$ref": _REF + "CodeSystem"}}
    },
    ("/v1/export", "200"): {
        "application/json": {"schema": {"$ref": _REF + "Export"}},
        "text/csv": {"schema": {"type": "string"}},
    },
    ("/metrics", "200"): {"text/plain": {"schema": {"type": "string"}}},
}

# Query and path parameters by name, wherever they occur.
PARAMETER_EXAMPLES: dict[str, Any] = {
    "key": "fravaer",
    "code": "59",
    "at": "2025-06-30",
    "version": 2,
    "include": "59",
    "q": "barsel",
    "from": 1,
    "to": 3,
    "after": 0,
    "limit": 100,
    "list": "fravaer",
    "wait": 0,
    "format": "json",
    "changeset_id": "2025-4-kontanthjaelpsreform",
    "subscription_id": "8f14e45f-ceea-467f-a0e6-4c6b4d3c1f2a",
    "publish": False,
}
