"""A relation version as an HL7 FHIR R4 ``ConceptMap`` (issue 18), beside the CodeSystem export.

The map goes from the source list's CodeSystem (``urn:codelists:<source list>``) to the target
list's; each row in effect on the date is a target of its source code with equivalence
``relatedto`` ("the concepts are related to each other"; R4 ConceptMapEquivalence). A row with
qualifiers gives one target per allowed qualifier code, that code as ``dependsOn`` (property
``urn:codelists:<qualifier list>``, system that list's CodeSystem); ``none`` (allowed without a
qualifier) gives a target without ``dependsOn``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.domain.relations import NO_QUALIFIER
from app.domain.values import code_order
from app.reads.fhir import _name, fhir_id
from app.reads.relation_snapshot import RelationSnapshot


def concept_map(snapshot: RelationSnapshot, day: date) -> dict[str, Any]:
    """The rows of ``snapshot`` in effect on ``day`` as a ConceptMap (FHIR R4)."""
    info = snapshot.info
    system = f"urn:codelists:{info.source_list}"
    target_system = f"urn:codelists:{info.target_list}"
    elements = []
    for source in sorted(snapshot.by_source, key=code_order):
        targets: list[dict[str, Any]] = []
        for target, row in sorted(
            snapshot.by_source[source].items(), key=lambda i: code_order(i[0])
        ):
            if not row.in_effect_on(day):
                continue
            if info.qualifier_list is None:
                targets.append({"code": target, "equivalence": "relatedto"})
                continue
            for qualifier in row.qualifiers:
                entry: dict[str, Any] = {"code": target, "equivalence": "relatedto"}
                if qualifier != NO_QUALIFIER:
                    entry["dependsOn"] = [
                        {
                            "property": f"urn:codelists:{info.qualifier_list}",
                            "system": f"urn:codelists:{info.qualifier_list}",
                            "value": qualifier,
                        }
                    ]
                targets.append(entry)
        if targets:
            elements.append({"code": source, "target": targets})
    resource: dict[str, Any] = {
        "resourceType": "ConceptMap",
        "id": fhir_id(info.key),
        "url": f"urn:codelists:relation:{info.key}",
        "identifier": {"system": "urn:codelists:relation", "value": info.key},
        "version": str(info.version),
        "name": _name(info.key),
        "title": info.name,
        "status": "active",
        "experimental": False,
        "date": info.published_at.isoformat(),
    }
    if info.description:
        resource["description"] = info.description
    resource["sourceUri"] = system
    resource["targetUri"] = target_system
    resource["group"] = [{"source": system, "target": target_system, "element": elements}]
    return resource
