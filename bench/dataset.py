"""The benchmarks' data: customers, projects, tasks and their comments, made in Custompms.

``seed(app, tasks=N)`` creates 5 customers, 20 projects (4 per customer) and N tasks spread
evenly over the projects, each task with one comment. Seeding is not measured, so it goes
straight to the reference server's store, in-process: the same validation (the server's
pydantic input models) and the same ``Store.create`` the ``POST`` handlers call, without
HTTP. It leaves the server's request counters untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pmbridge.sandbox.custompms.resources import RESOURCES

CUSTOMERS = 5
PROJECTS = 20
STATUSES = ("todo", "in_progress", "done")


@dataclass
class Dataset:
    """What was seeded, as the Custompms records it made (wire dicts)."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def records(self) -> int:
        return len(self.customers) + len(self.projects) + len(self.tasks) + len(self.comments)

    def summary(self) -> dict[str, int]:
        return {
            "customers": len(self.customers),
            "projects": len(self.projects),
            "tasks": len(self.tasks),
            "comments": len(self.comments),
        }


def create(app: Any, resource: str, **body: Any) -> dict[str, Any]:
    """Create one record in the reference Custompms ``app`` as its POST handler would."""
    spec = RESOURCES[resource]
    values = spec.create_model.model_validate(body).model_dump()
    record, _ = app.store.create(spec, values, idempotency_key=None)
    return record


def seed(
    app: Any,
    *,
    tasks: int,
    customers: int = CUSTOMERS,
    projects: int = PROJECTS,
    comments_per_task: int = 1,
) -> Dataset:
    """Seed the reference Custompms ``app`` (see the module docstring)."""
    if tasks < 0 or customers < 1 or projects < 1:
        raise ValueError("seed needs tasks >= 0, at least one customer and one project")
    data = Dataset()
    for i in range(customers):
        data.customers.append(
            create(
                app,
                "customers",
                name=f"Customer {i}",
                description=f"Customer number {i}",
                website=f"https://customer-{i}.example",
            )
        )
    for i in range(projects):
        data.projects.append(
            create(
                app,
                "projects",
                customer_id=data.customers[i % customers]["id"],
                name=f"Project {i}",
                description=f"Project number {i}",
            )
        )
    for i in range(tasks):
        task = create(
            app,
            "tasks",
            project_id=data.projects[i % projects]["id"],
            title=f"Task {i}",
            description=f"Do thing {i}",
            status="todo",
        )
        data.tasks.append(task)
        for j in range(comments_per_task):
            data.comments.append(
                create(app, "comments", task_id=task["id"], author="Alice", text=f"Note {j} on {i}")
            )
    return data
