"""Reads of one list seen through a relation to another (issue 18): the dependent drop-down
(``/options?related=LIST:CODE``) and the ``rules`` of ``POST /v1/validate``.

A relation joins two lists; a list read "related to" a code of the other list keeps what the
relation allows with that code, with the verdicts of ``check`` (app/domain/relations.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import msgspec

from app.domain.errors import BadParameter
from app.domain.relations import NO_QUALIFIER, Reason, Verdict, verdict
from app.domain.values import State
from app.reads.catalog import Catalog, ListSnapshot, UnknownList, UnknownRelation
from app.reads.relation_snapshot import RelationSnapshot
from app.store.relation_queries import RelationVersion


class RuleOut(msgspec.Struct, kw_only=True):
    """One relation's verdict on a validated item (``POST /v1/validate`` with ``related``)."""

    relation: str
    allowed: bool
    reasons: list[Reason]


def state_of(snapshot: ListSnapshot, code: str, day: date) -> State | None:
    value = snapshot.by_code.get(code)
    return None if value is None else value.state_on(day)


class RelatedView(msgspec.Struct, frozen=True, kw_only=True):
    """One list seen through ``relation`` with ``code`` of the other list on a date."""

    relation: RelationSnapshot
    this_is_source: bool
    other: ListSnapshot
    other_code: str
    qualifier: str | None

    def verdict(self, code: str, state: State | None, day: date) -> Verdict:
        """May ``code`` of this list (in ``state`` on ``day``) go with the other code?"""
        other_state = state_of(self.other, self.other_code, day)
        if self.this_is_source:
            row = self.relation.row(code, self.other_code)
            source_state, target_state = state, other_state
        else:
            row = self.relation.row(self.other_code, code)
            source_state, target_state = other_state, state
        return verdict(
            row,
            day,
            qualifier=self.qualifier,
            has_qualifiers=self.relation.info.qualifier_list is not None,
            source_state=source_state or "unknown",
            target_state=target_state or "unknown",
        )

    def change_dates(self) -> set[date]:
        dates = set(self.relation.change_dates)
        other = self.other.by_code.get(self.other_code)
        if other is not None:
            dates.update(other.state_changes())
        return dates


def joining(
    relations: Mapping[str, RelationVersion], one: str, other: str
) -> list[RelationVersion]:
    """The relations joining lists ``one`` and ``other``, by key."""
    return [info for _, info in sorted(relations.items()) if info.info().joins(one, other)]


async def related_view(
    catalog: Catalog,
    list_key: str,
    related: str,
    *,
    qualifier: str | None = None,
    relation: str | None = None,
) -> RelatedView:
    """List ``list_key`` seen with ``related`` (``LIST:CODE``) through the one relation joining
    the two lists (or ``relation``, which must join them).

    Raises ``BadParameter`` at ``related`` (not LIST:CODE, an unknown list or code, no relation
    joining the lists), at ``relation`` (unknown, not joining them, or needed because two
    relations join them) and at ``qualifier`` (on a relation without a qualifier list, or a
    code its qualifier list does not have).
    """
    other_list, separator, other_code = related.partition(":")
    if not separator or not other_list or not other_code:
        raise BadParameter("related", "related must be LIST:CODE, e.g. kontaktgruppe:13")
    try:
        other = await catalog.snapshot(other_list)
    except UnknownList:
        raise BadParameter("related", f"there is no code list '{other_list}'") from None
    if other_code not in other.by_code:
        raise BadParameter("related", f"code '{other_code}' does not exist in list '{other_list}'")
    candidates = joining(catalog.relations, list_key, other_list)
    if relation is not None:
        try:
            chosen = catalog.relation_head(relation)
        except UnknownRelation:
            raise BadParameter("relation", f"there is no relation '{relation}'") from None
        if chosen not in candidates:
            raise BadParameter(
                "relation", f"relation '{relation}' does not join '{list_key}' and '{other_list}'"
            )
    elif not candidates:
        raise BadParameter("related", f"no relation joins '{list_key}' and '{other_list}'")
    elif len(candidates) > 1:
        keys = ", ".join(info.key for info in candidates)
        raise BadParameter(
            "relation", f"relations {keys} join '{list_key}' and '{other_list}': name one"
        )
    else:
        chosen = candidates[0]
    snapshot = await catalog.relation_snapshot(chosen.key)
    await check_qualifier(catalog, snapshot.info, qualifier)
    return RelatedView(
        relation=snapshot,
        this_is_source=snapshot.info.source_list == list_key,
        other=other,
        other_code=other_code,
        qualifier=qualifier,
    )


async def check_qualifier(catalog: Catalog, info: RelationVersion, qualifier: str | None) -> None:
    """Raises ``BadParameter`` at ``qualifier`` for a relation without a qualifier list, or a
    code (other than ``none``) its qualifier list does not have."""
    if qualifier is None:
        return
    if info.qualifier_list is None:
        raise BadParameter("qualifier", f"relation '{info.key}' has no qualifier list")
    if qualifier == NO_QUALIFIER:
        return
    qualifiers = await catalog.snapshot(info.qualifier_list)
    if qualifier not in qualifiers.by_code:
        raise BadParameter(
            "qualifier",
            f"code '{qualifier}' does not exist in list '{info.qualifier_list}' (or use "
            f"'{NO_QUALIFIER}')",
        )


async def rules(
    catalog: Catalog, list_key: str, code: str, state: State | None, day: date,
    related: Mapping[str, str],
) -> list[RuleOut]:  # fmt: skip
    """The verdict of every relation joining ``list_key`` to a list in ``related`` (list key
    -> code), with the code ``related`` gives the relation's qualifier list as qualifier (none
    given: "with some qualifier or none"). A related list that is unknown or joined by no
    relation gives no rule; a related code that is unknown is not selectable."""
    found: list[RuleOut] = []
    for other_list, other_code in sorted(related.items()):
        if other_list not in catalog.latest:
            continue
        other = await catalog.snapshot(other_list)
        for info in joining(catalog.relations, list_key, other_list):
            snapshot = await catalog.relation_snapshot(info.key)
            qualifier = related.get(info.qualifier_list) if info.qualifier_list else None
            view = RelatedView(
                relation=snapshot,
                this_is_source=info.source_list == list_key,
                other=other,
                other_code=other_code,
                qualifier=qualifier,
            )
            outcome = view.verdict(code, state, day)
            found.append(
                RuleOut(relation=info.key, allowed=outcome.allowed, reasons=outcome.reasons)
            )
    return found
