"""A list version as an HL7 FHIR R4 ``CodeSystem`` resource, evaluated on a date.

Concept properties use FHIR's standard concept-property URIs so terminology tooling reads them
without configuration: ``status`` (active/retired), ``inactive``, ``notSelectable`` (the
service's own verdict for the date), ``effectiveDate`` (valid_from), ``retirementDate``
(valid_to) and ``parent``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

from app.domain.values import Value
from app.reads.catalog import ListSnapshot

CONCEPT_PROPERTIES = "http://hl7.org/fhir/concept-properties#"
MEDIA_TYPE = b"application/fhir+json"

# FHIR R4 "id" datatype: [A-Za-z0-9\-\.]{1,64}. Ids without a dot are list keys as they are;
# every other key gets a dot and a hash of itself, so the two kinds never meet.
_PLAIN_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_NOT_ID = re.compile(r"[^A-Za-z0-9-]")
_HASH_CHARS = 12  # 48 bits of SHA-256: a collision between two real keys is out of reach
_ID_LENGTH = 64

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


def fhir_id(key: str) -> str:
    """A valid FHIR R4 resource id for the list ``key``, deterministic and collision-free.

    A key that is already an id without a dot (``fravaer``, ``a-b``, 64 characters) is kept as it
    is. Any other key (``a_b``, longer than 64 characters, empty) becomes its characters with
    each one outside ``[A-Za-z0-9-]`` replaced by ``-``, cut to fit, then ``.`` and the first 12
    hex digits of the key's SHA-256: ``a_b`` -> ``a-b.<hash>``. Ids of the first kind have no
    dot, of the second kind exactly one before the hash, so distinct keys get distinct ids
    (barring a 48-bit hash collision). Source: FHIR R4 datatypes, "id".
    """
    if _PLAIN_ID.fullmatch(key):
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:_HASH_CHARS]
    stem = _NOT_ID.sub("-", key)[: _ID_LENGTH - _HASH_CHARS - 1]
    return f"{stem}.{digest}"


def _name(key: str) -> str:
    # FHIR's constraint cnl-0: a name matches [A-Z]([A-Za-z0-9_]){0,254}.
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", key))
    return name if name[:1].isalpha() else f"L{name}"


def code_system(snapshot: ListSnapshot, day: date) -> dict[str, Any]:
    """The list version in ``snapshot`` as a CodeSystem, its concepts' states on ``day``.

    ``id`` is ``fhir_id(key)``; ``url`` (``urn:codelists:<key>``) and ``identifier`` carry the
    list key unchanged, ``name`` is the key in UpperCamelCase (FHIR's computer-friendly name).
    """
    info = snapshot.info
    resource: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": fhir_id(info.key),
        "url": f"urn:codelists:{info.key}",
        "identifier": [{"system": "urn:codelists", "value": info.key}],
        "version": str(info.version),
        "name": _name(info.key),
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
