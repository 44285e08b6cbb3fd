"""The resources of the Custompms contract, described as data.

A ``ResourceSpec`` ties a resource's name to its table, its input models, the properties
that refer to a parent record, and the rules a whole record must obey (a comment is on
exactly one task or project). The store and the routes are generic over these specs.

``offered(features)`` is the set of specs a server with only some of contract 1.1's optional
parts has: its tasks lack the other optional properties (they are neither shown nor
accepted: a write that carries one is refused as an unknown property), and without
``people`` there is no people resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table

from pmbridge.sandbox.custompms import models, tables
from pmbridge.sandbox.custompms.problems import FieldProblem

StateRule = Callable[[Mapping[str, Any]], list[FieldProblem]]


def _no_rules(state: Mapping[str, Any]) -> list[FieldProblem]:
    return []


def _one_parent(state: Mapping[str, Any]) -> list[FieldProblem]:
    set_ = [name for name in ("task_id", "project_id") if state.get(name) is not None]
    if len(set_) == 1:
        return []
    message = (
        "a comment is on exactly one task or project: set task_id or project_id, not both"
        if set_
        else "a comment is on exactly one task or project: set task_id or project_id"
    )
    return [FieldProblem("task_id", message), FieldProblem("project_id", message)]


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """One resource of the contract.

    :param name: the plural used in URLs ("tasks")
    :param singular: for messages ("task")
    :param parents: property → the resource it refers to
    :param state_rule: problems of a complete record state (after defaults or a patch)
    """

    name: str
    singular: str
    table: Table
    create_model: type[BaseModel]
    patch_model: type[BaseModel]
    parents: Mapping[str, str] = field(default_factory=dict)
    state_rule: StateRule = _no_rules

    @property
    def fields(self) -> tuple[str, ...]:
        """The resource's own properties, in document order."""
        return tuple(self.create_model.model_fields)

    def without(self, names: Iterable[str]) -> ResourceSpec:
        """This resource without the properties ``names`` (a server lacking them)."""
        drop = frozenset(names) & frozenset(self.fields)
        if not drop:
            return self
        create = models.without(self.create_model, drop)
        return replace(self, create_model=create, patch_model=models.patch_model(create))


CUSTOMERS = ResourceSpec(
    "customers", "customer", tables.customers, models.CustomerCreate, models.CustomerPatch
)
PROJECTS = ResourceSpec(
    "projects",
    "project",
    tables.projects,
    models.ProjectCreate,
    models.ProjectPatch,
    parents={"customer_id": "customers"},
)
TASKS = ResourceSpec(
    "tasks",
    "task",
    tables.tasks,
    models.TaskCreate,
    models.TaskPatch,
    parents={"project_id": "projects"},
)
COMMENTS = ResourceSpec(
    "comments",
    "comment",
    tables.comments,
    models.CommentCreate,
    models.CommentPatch,
    parents={"task_id": "tasks", "project_id": "projects"},
    state_rule=_one_parent,
)

# Optional since contract 1.1: who exists, for task assignees.
PEOPLE = ResourceSpec("people", "person", tables.people, models.PersonCreate, models.PersonPatch)

RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec for spec in (CUSTOMERS, PROJECTS, TASKS, COMMENTS, PEOPLE)
}

# Contract 1.1's optional parts: four task properties and the people resource.
OPTIONAL_TASK_PROPERTIES = ("tags", "assignees", "checklist", "links")
FEATURES = (*OPTIONAL_TASK_PROPERTIES, "people")


def parse_features(text: str) -> tuple[str, ...]:
    """A features setting: ``all``, ``1.0`` (or empty: none, a contract 1.0 server), or
    names separated by commas (``tags,links``)."""
    setting = text.strip().lower()
    if setting == "all":
        return FEATURES
    if setting in ("", "1.0", "none"):
        return ()
    names = tuple(name.strip() for name in setting.split(",") if name.strip())
    offered(names)  # refuses an unknown name
    return names


def offered(features: Iterable[str]) -> dict[str, ResourceSpec]:
    """The resources of a server that has the optional parts ``features`` only (none: a
    contract 1.0 server). Unknown feature names are refused."""
    chosen = frozenset(features)
    unknown = chosen - frozenset(FEATURES)
    if unknown:
        raise ValueError(
            f"unknown Custompms feature(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(FEATURES)}"
        )
    lacking = [name for name in OPTIONAL_TASK_PROPERTIES if name not in chosen]
    specs = {name: spec for name, spec in RESOURCES.items() if name != "people"}
    specs["tasks"] = TASKS.without(lacking)
    if "people" in chosen:
        specs["people"] = PEOPLE
    return specs
