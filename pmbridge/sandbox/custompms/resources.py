"""The resources of the Custompms contract, described as data.

A ``ResourceSpec`` ties a resource's name to its table, its input models, the properties
that refer to a parent record, and the rules a whole record must obey (a comment is on
exactly one task or project). The store and the routes are generic over these specs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
