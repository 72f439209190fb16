"""Planning the relation operations of a change set (changesets.md, "Relations"), after its list
operations: every error at once, with its path, and the plan's warnings.

Pure: the caller passes the current lists and relations the document names; ``plan_all`` plans
the list operations (planning.py), then applies the relation operations in document order to
working copies of the relations, checked against the lists as the change set leaves them (a
row may name a value the same change set creates).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import msgspec
from msgspec import UNSET

from app.domain.documents import (
    ChangeSetDocument,
    CreateList,
    CreateRelation,
    RowPatch,
    RowSpec,
    SetRows,
    UpdateRelation,
    UpsertRows,
)
from app.domain.errors import FieldError, InvalidDocument, in_document_order
from app.domain.planning import (
    ChangeKind,
    ListState,
    Plan,
    PlannedList,
    plan_changeset,
    plan_document,
)
from app.domain.relation_plans import FromTo, PlanWarning, RelationPlan, RowChange
from app.domain.relations import (
    NO_QUALIFIER,
    RELATION_FIELDS,
    PairKey,
    RelationInfo,
    RelationState,
    Row,
    changed_row_fields,
    qualifier_order,
)
from app.domain.values import Value, code_order

RelationOp = CreateRelation | UpdateRelation | UpsertRows | SetRows


class RowTransition(msgspec.Struct, frozen=True):
    """One row's change in a publish: one change-feed entry."""

    kind: ChangeKind
    before: Row | None
    after: Row


@dataclass
class PlannedRelation:
    plan: RelationPlan
    before: RelationState | None
    after: RelationState
    transitions: list[RowTransition] = field(default_factory=list)


@dataclass
class PlannedChangeSet:
    """Everything a change set changes: lists and relations with their plans, and the plan."""

    lists: dict[str, PlannedList]
    relations: dict[str, PlannedRelation]
    plan: Plan


def referenced_relations(document: ChangeSetDocument) -> set[str]:
    return {op.relation for op in document.changes if isinstance(op, RelationOp)}


def relation_lists(document: ChangeSetDocument, relations: Mapping[str, RelationState]) -> set[str]:
    """The lists the relations named by ``document`` join (their codes are checked)."""
    found: set[str] = set()
    for op in document.changes:
        if isinstance(op, CreateRelation):
            found |= {op.source_list, op.target_list}
            if op.qualifier_list:
                found.add(op.qualifier_list)
    for state in relations.values():
        info = state.info
        found |= {info.source_list, info.target_list}
        if info.qualifier_list:
            found.add(info.qualifier_list)
    return found


def row_effective_date(before: Row | None, after: Row, published_on: date) -> date:
    """The date a row's change bites: a new ``valid_from``/``valid_to`` where that changed."""
    if before is None:
        return after.valid_from
    moved = [after.valid_from] if before.valid_from != after.valid_from else []
    if before.valid_to != after.valid_to and after.valid_to is not None:
        moved.append(after.valid_to)
    return min(moved) if moved else published_on


def _kind(before: Row | None, after: Row) -> ChangeKind:
    if before is None:
        return "created"
    if before.active != after.active:
        return "reactivated" if after.active else "deactivated"
    return "updated"


class _RelationPlanner:
    """Applies relation operations in order to working copies, collecting errors."""

    def __init__(
        self,
        current: Mapping[str, RelationState],
        lists: Mapping[str, ListState],
        created_lists: set[str],
    ) -> None:
        self.current = current
        self.lists = lists
        # Lists the document creates but whose planning failed: not reported missing again.
        self.created_lists = created_lists
        self.working: dict[str, RelationState] = {}
        self.errors: list[FieldError] = []
        self.touched: dict[tuple[str, PairKey], str] = {}
        # (relation, qualifiers as given) -> checked: a million rows repeat a few sets.
        self.checked: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}

    def error(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def target(self, key: str, path: str) -> RelationState | None:
        if key not in self.working and key in self.current:
            existing = self.current[key]
            self.working[key] = RelationState(
                info=existing.info, version=existing.version, rows=dict(existing.rows)
            )
        found = self.working.get(key)
        if found is None:
            self.error(f"{path}.relation", f"relation '{key}' does not exist")
        return found

    def known_list(self, key: str, path: str) -> bool:
        if key in self.lists or key in self.created_lists:
            return True
        self.error(path, f"list '{key}' does not exist")
        return False

    def create_relation(self, op: CreateRelation, path: str) -> None:
        if op.relation in self.working or op.relation in self.current:
            self.error(f"{path}.relation", f"relation '{op.relation}' already exists")
            return
        known = [
            self.known_list(key, f"{path}.{name}")
            for name, key in (
                ("source_list", op.source_list),
                ("target_list", op.target_list),
                ("qualifier_list", op.qualifier_list),
            )
            if key is not None
        ]
        if not all(known):
            return
        info = RelationInfo(
            key=op.relation,
            name=op.name,
            description=op.description,
            source=op.source,
            source_list=op.source_list,
            target_list=op.target_list,
            qualifier_list=op.qualifier_list,
        )
        self.working[op.relation] = RelationState(info=info, version=0)

    def update_relation(self, op: UpdateRelation, path: str) -> None:
        target = self.target(op.relation, path)
        if target is None:
            return
        changes = {
            name: value for name in RELATION_FIELDS if (value := getattr(op, name)) is not UNSET
        }
        if not changes:
            self.error(path, "update_relation must set name, description or source")
            return
        target.info = msgspec.structs.replace(target.info, **changes)

    def code_error(self, list_key: str, code: str, path: str) -> None:
        values = self._values(list_key)
        if values is not None and code not in values:
            self.error(path, f"code '{code}' does not exist in list '{list_key}'")

    def _values(self, list_key: str) -> Mapping[str, Value] | None:
        found = self.lists.get(list_key)
        return None if found is None else found.values

    def qualifiers(
        self, relation: RelationState, given: list[str], path: str
    ) -> tuple[str, ...] | None:
        memo = (relation.info.key, tuple(given))
        found = self.checked.get(memo)
        if found is not None:
            return found
        checked = self._qualifiers(relation, given, path)
        if checked is not None:
            self.checked[memo] = checked
        return checked

    def _qualifiers(
        self, relation: RelationState, given: list[str], path: str
    ) -> tuple[str, ...] | None:
        qualifier_list = relation.info.qualifier_list
        if qualifier_list is None:
            self.error(
                path,
                f"relation '{relation.info.key}' has no qualifier list, so its rows take no "
                "qualifiers",
            )
            return None
        ok = True
        for index, code in enumerate(given):
            if code == NO_QUALIFIER:
                continue
            values = self._values(qualifier_list)
            if values is not None and code not in values:
                self.error(
                    f"{path}[{index}]",
                    f"code '{code}' does not exist in list '{qualifier_list}' (use "
                    f"'{NO_QUALIFIER}' for allowed without a qualifier)",
                )
                ok = False
        return qualifier_order(given) if ok else None

    def upsert_rows(self, op: UpsertRows, path: str) -> None:
        relation = self.target(op.relation, path)
        if relation is None:
            return
        info = relation.info
        seen: set[PairKey] = set()
        for index, spec in enumerate(op.rows):
            entry = f"{path}.rows[{index}]"
            pair = (spec.source, spec.target)
            if pair in seen:
                self.error(
                    entry,
                    f"the pair ({spec.source}, {spec.target}) appears twice in this upsert_rows",
                )
                continue
            seen.add(pair)
            before = len(self.errors)
            self.code_error(info.source_list, spec.source, f"{entry}.source")
            self.code_error(info.target_list, spec.target, f"{entry}.target")
            base = relation.rows.get(pair) or Row(
                source=spec.source, target=spec.target, valid_from=spec.valid_from
            )
            updated = self.patched(relation, base, spec, entry)
            if updated is not None and len(self.errors) == before:
                relation.rows[pair] = updated
                self.touched[(info.key, pair)] = entry

    def set_rows(self, op: SetRows, path: str) -> None:
        relation = self.target(op.relation, path)
        if relation is None:
            return
        patch = op.fields
        if all(getattr(patch, name) is UNSET for name in patch.__struct_fields__):
            self.error(f"{path}.fields", "set_rows must name at least one field")
            return
        entry = f"{path}.fields"
        seen: set[PairKey] = set()
        for index, spec in enumerate(op.pairs):
            pair = (spec.source, spec.target)
            where = f"{path}.pairs[{index}]"
            if pair in seen:
                self.error(
                    where, f"the pair ({spec.source}, {spec.target}) appears twice in this set_rows"
                )
                continue
            seen.add(pair)
            row = relation.rows.get(pair)
            if row is None:
                self.error(
                    where,
                    f"relation '{op.relation}' has no row for the pair ({spec.source}, "
                    f"{spec.target})",
                )
                continue
            updated = self.patched(relation, row, patch, entry, report=index == 0)
            if updated is not None:
                relation.rows[pair] = updated
                self.touched[(relation.info.key, pair)] = entry

    def patched(
        self,
        relation: RelationState,
        row: Row,
        patch: RowSpec | RowPatch,
        entry: str,
        *,
        report: bool = True,
    ) -> Row | None:
        """``row`` with every field the patch names replaced; None if the patch is invalid."""
        changes = {
            name: value
            for name in ("valid_from", "valid_to", "active", "qualifiers")
            if (value := getattr(patch, name)) is not UNSET
        }
        if "qualifiers" in changes:
            if not report:  # the patch's qualifiers were checked on its first pair
                changes["qualifiers"] = qualifier_order(changes["qualifiers"])
            else:
                checked = self.qualifiers(relation, changes["qualifiers"], f"{entry}.qualifiers")
                if checked is None:
                    return None
                changes["qualifiers"] = checked
        return msgspec.structs.replace(row, **changes)

    def check_results(self) -> None:
        for (key, pair), entry in self.touched.items():
            row = self.working[key].rows[pair]
            if row.valid_to is not None and row.valid_to <= row.valid_from:
                self.error(
                    f"{entry}.valid_to",
                    f"valid_to {row.valid_to} of the pair ({pair[0]}, {pair[1]}) must be after "
                    f"valid_from {row.valid_from}",
                )

    def warnings(self) -> list[PlanWarning]:
        """A row in effect on dates when its source or target value is not selectable."""
        found: list[PlanWarning] = []
        for (key, pair), entry in self.touched.items():
            row = self.working[key].rows[pair]
            if not row.active:
                continue
            info = self.working[key].info
            for list_key, code in ((info.source_list, pair[0]), (info.target_list, pair[1])):
                values = self._values(list_key)
                value = values.get(code) if values is not None else None
                problem = _not_selectable_while_in_effect(row, value)
                if problem:
                    found.append(
                        PlanWarning(
                            entry,
                            f"the row ({pair[0]}, {pair[1]}) of relation '{key}' is in effect "
                            f"{_span(row.valid_from, row.valid_to)}, but code '{code}' of list "
                            f"'{list_key}' {problem}",
                        )
                    )
        return found


def _span(start: date, end: date | None) -> str:
    return f"from {start}" + (f" to {end}" if end else " on")


def _not_selectable_while_in_effect(row: Row, value: Value | None) -> str | None:
    """What is wrong with ``value`` on some day ``row`` is in effect, or None."""
    if value is None:
        return None  # reported as an error
    if not value.active:
        return "is deactivated"
    starts_late = row.valid_from < value.valid_from
    ends_early = value.valid_to is not None and (
        row.valid_to is None or row.valid_to > value.valid_to
    )
    if starts_late or ends_early:
        return f"is selectable only {_span(value.valid_from, value.valid_to)}"
    return None


def plan_all(
    document: ChangeSetDocument,
    lists: Mapping[str, ListState],
    relations: Mapping[str, RelationState],
    *,
    document_bytes: int | None = None,
) -> PlannedChangeSet:
    """The lists and relations this change set changes, with the plan; raises
    ``InvalidDocument`` with every error of both, in document order.

    ``lists`` holds the latest state of every list the document names or whose codes its
    relation operations use (``referenced_lists | relation_lists``); ``relations`` that of
    every relation it names.
    """
    errors: list[FieldError] = []
    try:
        planned_lists = plan_changeset(document, lists, document_bytes=document_bytes)
    except InvalidDocument as exc:
        errors.extend(exc.errors)
        planned_lists = {}
    created = {op.list for op in document.changes if isinstance(op, CreateList)}
    after_lists = {**lists, **{key: item.after for key, item in planned_lists.items()}}
    planner = _RelationPlanner(relations, after_lists, created - set(after_lists))
    for index, op in enumerate(document.changes):
        path = f"changes[{index}]"
        if isinstance(op, CreateRelation):
            planner.create_relation(op, path)
        elif isinstance(op, UpdateRelation):
            planner.update_relation(op, path)
        elif isinstance(op, UpsertRows):
            planner.upsert_rows(op, path)
        elif isinstance(op, SetRows):
            planner.set_rows(op, path)
    planner.check_results()
    errors.extend(planner.errors)
    if errors:
        raise InvalidDocument(in_document_order(errors))
    planned_relations = _planned_relations(relations, planner.working)
    plan = plan_document(planned_lists)
    plan.relations = {key: item.plan for key, item in sorted(planned_relations.items())}
    plan.warnings = planner.warnings()
    return PlannedChangeSet(planned_lists, planned_relations, plan)


def _pair_key(
    items: list[tuple[PairKey, Row]],
) -> Callable[[tuple[PairKey, Row]], tuple[tuple[int, int, str], tuple[int, int, str]]]:
    """The sort key of (pair, row) items in code order, each code's order computed once."""
    orders = {code: code_order(code) for (source, target), _ in items for code in (source, target)}
    return lambda item: (orders[item[0][0]], orders[item[0][1]])


def _planned_relations(
    current: Mapping[str, RelationState], working: Mapping[str, RelationState]
) -> dict[str, PlannedRelation]:
    planned: dict[str, PlannedRelation] = {}
    for key, after in working.items():
        before = current.get(key)
        base_rows = before.rows if before else {}
        changed = [(pair, row) for pair, row in after.rows.items() if base_rows.get(pair) != row]
        changed.sort(key=_pair_key(changed))
        transitions = [
            RowTransition(_kind(base_rows.get(pair), row), base_rows.get(pair), row)
            for pair, row in changed
        ]
        fields = {
            name: FromTo(getattr(before.info, name), getattr(after.info, name))
            for name in RELATION_FIELDS
            if before is not None and getattr(before.info, name) != getattr(after.info, name)
        }
        if before is not None and not (transitions or fields):
            continue
        base = before.version if before else 0
        info = after.info
        plan = RelationPlan(
            base_version=base,
            new_version=base + 1,
            source_list=info.source_list,
            target_list=info.target_list,
            qualifier_list=info.qualifier_list,
            created=before is None,
            relation_fields=fields,
            added=[t.after for t in transitions if t.before is None],
            changed=[
                RowChange(
                    t.after.source,
                    t.after.target,
                    {
                        name: FromTo(old, new)
                        for name, (old, new) in changed_row_fields(t.before, t.after).items()
                    },
                )
                for t in transitions
                if t.before is not None
            ],
        )
        after.version = plan.new_version
        planned[key] = PlannedRelation(plan, before, after, transitions)
    return planned
