"""A list version as an HL7 FHIR R4 ``CodeSystem`` resource, evaluated on a date.

Concept properties use FHIR's standard concept-property URIs so terminology tooling reads them
without configuration: ``status`` (active/retired), ``inactive``, ``notSelectable`` (the
service's own verdict for the date), ``effectiveDate`` (valid_from), ``retirementDate``
(valid_to) and ``parent``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.domain.values import Value
from app.reads.catalog import ListSnapshot

CONCEPT_PROPERTIES = "http://hl7.org/fhir/concept-properties#"
MEDIA_TYPE = b"application/fhir+json"

_PROPERTIES = [
    ("status", "code", "active, or retired when deactivated or expired on the date"),
    ("inactive", "boolean", "deactivated or expired on the date"),
    ("notSelectable", "boolean", "may not be chosen on the date"),
    ("effectiveDate", "dateTime", "valid from (inclusive)"),
    ("retirementDate", "dateTime", "valid until (exclusive)"),
    ("parent", "code", "the parent code"),
]


def _concept(value: Value, day: date) -> dict[str, Any]:
    state = value.state_on(day)
    retired = state in ("deactivated", "expired")
    properties: list[dict[str, Any]] = [
        {"code": "status", "valueCode": "retired" if retired else "active"},
        {"code": "inactive", "valueBoolean": retired},
        {"code": "notSelectable", "valueBoolean": state != "selectable"},
        {"code": "effectiveDate", "valueDateTime": value.valid_from.isoformat()},
    ]
    if value.valid_to is not None:
        properties.append({"code": "retirementDate", "valueDateTime": value.valid_to.isoformat()})
    if value.parent is not None:
        properties.append({"code": "parent", "valueCode": value.parent})
    concept: dict[str, Any] = {"code": value.code, "display": value.name}
    if value.description:
        concept["definition"] = value.description
    concept["property"] = properties
    return concept


def code_system(snapshot: ListSnapshot, day: date) -> dict[str, Any]:
    info = snapshot.info
    resource: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": info.key,
        "url": f"urn:codelists:{info.key}",
        "version": str(info.version),
        "name": "".join(part.capitalize() for part in info.key.replace("-", "_").split("_")),
        "title": info.name,
        "status": "active",
        "experimental": False,
        "date": info.published_at.isoformat(),
        "caseSensitive": True,
        "content": "complete",
        "count": len(snapshot.values),
    }
    if info.description:
        resource["description"] = info.description
    if any(value.parent for value in snapshot.values):
        resource["hierarchyMeaning"] = "is-a"
    resource["property"] = [
        {"code": code, "uri": CONCEPT_PROPERTIES + code, "description": text, "type": kind}
        for code, kind, text in _PROPERTIES
    ]
    resource["concept"] = [_concept(value, day) for value in snapshot.values]
    return resource
