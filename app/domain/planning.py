"""Planning a change set: apply its operations to the current lists, check every rule, diff.

Pure: the caller passes the current state of the lists the document names and gets either the
plan (and the resulting lists) or every error at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import UNSET

from app.domain.attributes import check_attributes, check_schema
from app.domain.diffs import (
    ChangeKind,
    FieldChange,
    ListPlan,
    Plan,
    ValueChange,
    ValueTransition,
    classify,
    diff_lists,
    effective_date,
)
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
from app.domain.hierarchy import parent_cycles
from app.domain.limits import MAX_SET_BYTES, document_size_error, limit_errors, set_size_error
from app.domain.values import Value

# What publishing, the reads and the review take from here, made in diffs.py.
__all__ = [
    "ChangeKind",
    "FieldChange",
    "ListPlan",
    "ListState",
    "Plan",
    "PlannedList",
    "ValueChange",
    "ValueTransition",
    "classify",
    "diff_lists",
    "effective_date",
    "plan_changeset",
    "plan_document",
    "referenced_lists",
]


class ListState(msgspec.Struct, kw_only=True):
    """A list as of one version: what planning reads and what publishing writes."""

    key: str
    version: int
    name: str
    description: str | None = None
    source: str | None = None
    attribute_schema: dict[str, str] = msgspec.field(default_factory=dict)
    values: dict[str, Value] = msgspec.field(default_factory=dict)


@dataclass
class PlannedList:
    plan: ListPlan
    before: ListState | None
    after: ListState
    transitions: list[ValueTransition] = field(default_factory=list)


class _Planner:
    """Applies operations in order to working copies of the lists, collecting errors."""

    def __init__(self, current: Mapping[str, ListState]) -> None:
        self.current = current
        self.working: dict[str, ListState] = {}
        self.errors: list[FieldError] = []
        # (list, code) -> path of the operation entry that last set the value's fields, so a
        # rule checked on the resulting value points at what caused it.
        self.touched: dict[tuple[str, str], str] = {}
        self.set_bytes = 0  # the sets so far written out per code (limits.py, MAX_SET_BYTES)

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
        before, self.set_bytes = (
            self.set_bytes,
            self.set_bytes + len(op.codes) * len(msgspec.json.encode(op.fields)),
        )
        if before <= MAX_SET_BYTES < self.set_bytes:
            self.errors.append(set_size_error(path, self.set_bytes))
        entry = f"{path}.fields"
        # Once per operation, not per code: every value gets the very same field values (and
        # one replaced_by tuple, which check_results then checks once).
        changes = self.changes(op.fields, target, entry)
        for index, code in enumerate(op.codes):
            value = target.values.get(code)
            if value is None:
                self.error(
                    f"{path}.codes[{index}]", f"code '{code}' does not exist in list '{op.list}'"
                )
                continue
            if changes is not None:
                target.values[code] = msgspec.structs.replace(value, **changes)
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
        changes = self.changes(patch, target, entry, report=report)
        return None if changes is None else msgspec.structs.replace(value, **changes)

    def changes(
        self, patch: ValueSpec | FieldPatch, target: ListState, entry: str, *, report: bool = True
    ) -> dict[str, Any] | None:
        """Field name -> new value for every field the patch names, in stored form; None (and
        the errors, when ``report``) if its attributes do not fit the list's schema."""
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
        return changes

    def check_results(self) -> None:
        """Rules on the resulting values: date order, parents and successors that exist, no
        parent cycles. Linear in the values touched: each parent chain is walked once
        (``parent_cycles``), and the successors a ``set`` gave many values are checked once."""
        cyclic = parent_cycles(self.working, self.touched)
        # (entry, id of a replaced_by tuple) -> its codes, for each tuple checked already
        checked: dict[tuple[str, int], frozenset[str]] = {}
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
                elif (key, code) in cyclic:
                    self.error(f"{entry}.parent", f"the parents of code '{code}' form a cycle")
            self.check_successors(key, code, value.replaced_by, entry, checked)

    def check_successors(
        self,
        key: str,
        code: str,
        successors: tuple[str, ...],
        entry: str,
        checked: dict[tuple[str, int], frozenset[str]],
    ) -> None:
        """Each successor of ``code`` exists and is not ``code`` itself. A tuple that one
        entry (a ``set``) gave many values is checked for existence once: its errors would
        differ in the code named only, and checking it per value is quadratic."""
        if not successors:
            return
        seen = (entry, id(successors))
        codes = checked.get(seen)
        first = codes is None
        if codes is None:
            codes = checked[seen] = frozenset(successors)
        if code in codes:
            self.error(f"{entry}.replaced_by", f"code '{code}' cannot replace itself")
        if first:
            values = self.working[key].values
            for successor in successors:
                if successor not in values:  # ``code`` itself is in values
                    self.error(
                        f"{entry}.replaced_by",
                        f"successor '{successor}' of code '{code}' does not exist in list '{key}'",
                    )


def referenced_lists(document: ChangeSetDocument) -> set[str]:
    return {operation.list for operation in document.changes}


def plan_changeset(
    document: ChangeSetDocument,
    current: Mapping[str, ListState],
    *,
    document_bytes: int | None = None,
) -> dict[str, PlannedList]:
    """The lists this change set changes, with their plans; raises ``InvalidDocument``.

    ``current`` holds the latest state of every existing list the document names.
    ``document_bytes`` is the size of the document as received; it and the size of the
    document as stored are checked against the 5 MiB limit; None for a document accepted
    before (a stored one planned again). Every rule error, the limits included
    (changesets.md, "Validation"), is reported in one ``InvalidDocument``: the limits first,
    then the others as the operations are applied, then the checks on the resulting values.
    Linear in the document and the values it touches (issue 21).
    """
    planner = _Planner(current)
    # The limit holds for the text received and for the document as stored (its canonical
    # JSON), which YAML's aliases, quotes and defaults can make bigger (issue 21).
    too_big = (
        None
        if document_bytes is None
        else document_size_error(max(document_bytes, len(document.canonical_bytes())))
    )
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
        else:
            planner.set_fields(operation, path)
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
