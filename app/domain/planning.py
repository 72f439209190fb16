"""Planning a change set: apply its operations to the current lists, check every rule, diff.

Pure: the caller passes the current state of the lists the document names and gets either the
plan (and the resulting lists) or every error at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import msgspec
from msgspec import UNSET

from app.domain.attributes import check_attributes, check_schema
from app.domain.documents import (
    ChangeSetDocument,
    CreateList,
    FieldPatch,
    SetFields,
    UpdateList,
    Upsert,
    ValueSpec,
)
from app.domain.errors import FieldError, InvalidDocument
from app.domain.limits import document_size_error, limit_errors
from app.domain.relation_plans import PlanWarning, RelationPlan
from app.domain.values import Value, changed_fields, code_order

ChangeKind = Literal["created", "updated", "deactivated", "reactivated"]


class ListState(msgspec.Struct, kw_only=True):
    """A list as of one version: what planning reads and what publishing writes."""

    key: str
    version: int
    name: str
    description: str | None = None
    source: str | None = None
    attribute_schema: dict[str, str] = msgspec.field(default_factory=dict)
    values: dict[str, Value] = msgspec.field(default_factory=dict)


class FieldChange(msgspec.Struct, frozen=True):
    from_: Any = msgspec.field(name="from")
    to: Any = None


class ValueChange(msgspec.Struct, frozen=True):
    code: str
    name: str
    fields: dict[str, FieldChange]


class ListPlan(msgspec.Struct, kw_only=True):
    base_version: int
    new_version: int
    created: bool = False
    list_fields: dict[str, FieldChange] = msgspec.field(default_factory=dict)
    added: list[Value] = msgspec.field(default_factory=list)
    changed: list[ValueChange] = msgspec.field(default_factory=list)
    deactivated: list[ValueChange] = msgspec.field(default_factory=list)
    reactivated: list[ValueChange] = msgspec.field(default_factory=list)


class Plan(msgspec.Struct):
    lists: dict[str, ListPlan]
    # Relations (issue 18; relation_planning.py): their plans, and the plan's warnings.
    relations: dict[str, RelationPlan] = msgspec.field(default_factory=dict)
    warnings: list[PlanWarning] = msgspec.field(default_factory=list)


class ValueTransition(msgspec.Struct, frozen=True):
    """One value's change in a publish: one change-feed entry."""

    kind: ChangeKind
    before: Value | None
    after: Value


@dataclass
class PlannedList:
    plan: ListPlan
    before: ListState | None
    after: ListState
    transitions: list[ValueTransition] = field(default_factory=list)


def classify(before: Value | None, after: Value) -> ChangeKind:
    if before is None:
        return "created"
    if before.active and not after.active:
        return "deactivated"
    if not before.active and after.active:
        return "reactivated"
    return "updated"


def effective_date(before: Value | None, after: Value, published_on: date) -> date:
    """The date a change bites: a new ``valid_from``/``valid_to`` where that is what changed."""
    if before is None:
        return after.valid_from
    moved: list[date] = []
    if before.valid_from != after.valid_from:
        moved.append(after.valid_from)
    if before.valid_to != after.valid_to and after.valid_to is not None:
        moved.append(after.valid_to)
    return min(moved) if moved else published_on


def diff_lists(before: Mapping[str, Value], after: Mapping[str, Value]) -> ListPlan:
    """Added and changed values between two states of a list (values are never removed), in
    code order."""
    plan = ListPlan(base_version=0, new_version=0)
    different = [value for code, value in after.items() if before.get(code) != value]
    for value in sorted(different, key=lambda value: code_order(value.code)):
        previous = before.get(value.code)
        if previous is None:
            plan.added.append(value)
            continue
        fields = changed_fields(previous, value)
        if not fields:
            continue
        change = ValueChange(
            code=value.code,
            name=value.name,
            fields={name: FieldChange(old, new) for name, (old, new) in fields.items()},
        )
        {
            "updated": plan.changed,
            "deactivated": plan.deactivated,
            "reactivated": plan.reactivated,
        }[classify(previous, value)].append(change)
    return plan


class _Planner:
    """Applies operations in order to working copies of the lists, collecting errors."""

    def __init__(self, current: Mapping[str, ListState]) -> None:
        self.current = current
        self.working: dict[str, ListState] = {}
        self.errors: list[FieldError] = []
        # (list, code) -> path of the operation entry that last set the value's fields, so a
        # rule checked on the resulting value points at what caused it.
        self.touched: dict[tuple[str, str], str] = {}

    def error(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def target(self, key: str, path: str) -> ListState | None:
        if key not in self.working and key in self.current:
            existing = self.current[key]
            self.working[key] = msgspec.structs.replace(existing, values=dict(existing.values))
        found = self.working.get(key)
        if found is None:
            self.error(f"{path}.list", f"list '{key}' does not exist")
        return found

    def create_list(self, op: CreateList, path: str) -> None:
        if op.list in self.working or op.list in self.current:
            self.error(f"{path}.list", f"list '{op.list}' already exists")
            return
        schema_errors = check_schema(op.attributes)
        for name, message in schema_errors:
            self.error(f"{path}.attributes.{name}", message)
        if schema_errors:
            return
        self.working[op.list] = ListState(
            key=op.list,
            version=0,
            name=op.name,
            description=op.description,
            source=op.source,
            attribute_schema=dict(op.attributes),
        )

    def update_list(self, op: UpdateList, path: str) -> None:
        target = self.target(op.list, path)
        if target is None:
            return
        fields = {
            name: value
            for name in ("name", "description", "source")
            if (value := getattr(op, name)) is not UNSET
        }
        if not fields:
            self.error(path, "update_list must set name, description or source")
        for name, value in fields.items():
            setattr(target, name, value)

    def upsert(self, op: Upsert, path: str) -> None:
        target = self.target(op.list, path)
        if target is None:
            return
        seen: set[str] = set()
        for index, spec in enumerate(op.values):
            entry = f"{path}.values[{index}]"
            if spec.code in seen:
                self.error(f"{entry}.code", f"code '{spec.code}' appears twice in this upsert")
                continue
            seen.add(spec.code)
            base = target.values.get(spec.code) or Value(
                code=spec.code, name=spec.name, valid_from=spec.valid_from
            )
            updated = self.patched(base, spec, target, entry)
            if updated is not None:
                target.values[spec.code] = updated
                self.touched[(target.key, spec.code)] = entry

    def set_fields(self, op: SetFields, path: str) -> None:
        target = self.target(op.list, path)
        if target is None:
            return
        if all(getattr(op.fields, name) is UNSET for name in op.fields.__struct_fields__):
            self.error(f"{path}.fields", "set must name at least one field")
            return
        entry = f"{path}.fields"
        for index, code in enumerate(op.codes):
            value = target.values.get(code)
            if value is None:
                self.error(
                    f"{path}.codes[{index}]", f"code '{code}' does not exist in list '{op.list}'"
                )
                continue
            updated = self.patched(value, op.fields, target, entry, report=index == 0)
            if updated is not None:
                target.values[code] = updated
                self.touched[(target.key, code)] = entry

    def patched(
        self,
        value: Value,
        patch: ValueSpec | FieldPatch,
        target: ListState,
        entry: str,
        *,
        report: bool = True,
    ) -> Value | None:
        """``value`` with every field the patch names replaced; None if the patch is invalid."""
        changes = {
            name: field
            for name, field in msgspec.structs.asdict(patch).items()
            if field is not UNSET
        }
        changes.pop("code", None)
        if "replaced_by" in changes:
            changes["replaced_by"] = tuple(dict.fromkeys(changes["replaced_by"]))
        if "attributes" in changes:
            stored, problems = check_attributes(target.attribute_schema, changes["attributes"])
            if problems:
                if report:
                    for name, message in problems:
                        self.error(f"{entry}.attributes.{name}", message)
                return None
            changes["attributes"] = stored
        return msgspec.structs.replace(value, **changes)

    def check_results(self) -> None:
        """Rules on the resulting values: date order, parents and successors that exist."""
        for (key, code), entry in self.touched.items():
            values = self.working[key].values
            value = values[code]
            if value.valid_to is not None and value.valid_to <= value.valid_from:
                self.error(
                    f"{entry}.valid_to",
                    f"valid_to {value.valid_to} of code '{code}' must be after valid_from "
                    f"{value.valid_from}",
                )
            if value.parent is not None:
                if value.parent not in values:
                    self.error(
                        f"{entry}.parent",
                        f"parent '{value.parent}' of code '{code}' does not exist in list '{key}'",
                    )
                elif _has_parent_cycle(values, code):
                    self.error(f"{entry}.parent", f"the parents of code '{code}' form a cycle")
            for successor in value.replaced_by:
                if successor == code:
                    self.error(f"{entry}.replaced_by", f"code '{code}' cannot replace itself")
                elif successor not in values:
                    self.error(
                        f"{entry}.replaced_by",
                        f"successor '{successor}' of code '{code}' does not exist in list '{key}'",
                    )


def _has_parent_cycle(values: Mapping[str, Value], code: str) -> bool:
    seen = {code}
    parent = values[code].parent
    while parent is not None and parent in values:
        if parent in seen:
            return True
        seen.add(parent)
        parent = values[parent].parent
    return False


def referenced_lists(document: ChangeSetDocument) -> set[str]:
    """The lists the document's list operations name (relation operations name relations)."""
    return {
        operation.list
        for operation in document.changes
        if isinstance(operation, CreateList | UpdateList | Upsert | SetFields)
    }


def plan_changeset(
    document: ChangeSetDocument,
    current: Mapping[str, ListState],
    *,
    document_bytes: int | None = None,
) -> dict[str, PlannedList]:
    """The lists this change set changes, with their plans; raises ``InvalidDocument``.

    ``current`` holds the latest state of every existing list the document names.
    ``document_bytes`` is the size of the document as received, checked against its limit;
    None for a document accepted before (a stored one planned again). Every rule error, the
    limits included (changesets.md, "Validation"), is reported in one ``InvalidDocument``:
    the limits first, then the others as the operations are applied, then the checks on the
    resulting values.
    """
    planner = _Planner(current)
    too_big = None if document_bytes is None else document_size_error(document_bytes)
    if too_big is not None:
        planner.errors.append(too_big)
    planner.errors.extend(limit_errors(document))
    for index, operation in enumerate(document.changes):
        path = f"changes[{index}]"
        if isinstance(operation, CreateList):
            planner.create_list(operation, path)
        elif isinstance(operation, UpdateList):
            planner.update_list(operation, path)
        elif isinstance(operation, Upsert):
            planner.upsert(operation, path)
        elif isinstance(operation, SetFields):
            planner.set_fields(operation, path)
        # Relation operations are planned by relation_planning.py, on the lists this gives.
    planner.check_results()
    if planner.errors:
        raise InvalidDocument(list(dict.fromkeys(planner.errors)))

    planned: dict[str, PlannedList] = {}
    for key, after in planner.working.items():
        before = current.get(key)
        base_values = before.values if before else {}
        plan = diff_lists(base_values, after.values)
        plan.created = before is None
        plan.list_fields = {
            name: FieldChange(getattr(before, name), getattr(after, name))
            for name in ("name", "description", "source")
            if before is not None and getattr(before, name) != getattr(after, name)
        }
        if not (plan.created or plan.list_fields or plan.added or _value_changes(plan)):
            continue
        plan.base_version = before.version if before else 0
        plan.new_version = plan.base_version + 1
        after.version = plan.new_version
        transitions = [
            ValueTransition(classify(base_values.get(code), value), base_values.get(code), value)
            for code, value in _changed_values(base_values, after.values)
        ]
        planned[key] = PlannedList(plan, before, after, transitions)
    return planned


def _value_changes(plan: ListPlan) -> bool:
    return bool(plan.changed or plan.deactivated or plan.reactivated)


def _changed_values(
    before: Mapping[str, Value], after: Mapping[str, Value]
) -> Iterator[tuple[str, Value]]:
    for code, value in after.items():
        if before.get(code) != value:
            yield code, value


def plan_document(planned: Mapping[str, PlannedList]) -> Plan:
    return Plan(lists={key: item.plan for key, item in sorted(planned.items())})
