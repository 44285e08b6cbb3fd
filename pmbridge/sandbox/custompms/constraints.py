"""The rules of a write that need the database or the server's settings.

Run by the store inside the write's transaction, after the input models have checked every
value on its own: a task's status is one this server has, its assignees are people who exist,
its checklist items and links keep their ids (new ones get ids), and no two live people share
an email address. ``checked`` returns the values to store and every problem found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from pmbridge.sandbox.custompms import tables
from pmbridge.sandbox.custompms.items import ITEM_LISTS, with_ids
from pmbridge.sandbox.custompms.problems import FieldProblem
from pmbridge.sandbox.custompms.resources import PEOPLE, TASKS, ResourceSpec

DEFAULT_STATUSES = ("todo", "in_progress", "done")


def checked(
    conn: Connection,
    spec: ResourceSpec,
    values: Mapping[str, Any],
    *,
    current: Mapping[str, Any] | None,
    statuses: Sequence[str],
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """``values`` (a new record's, or a change's) ready to store, and their problems."""
    result = dict(values)
    problems: list[FieldProblem] = []
    if spec.name == TASKS.name:
        status = values.get("status")
        if status is not None and status not in statuses:
            problems.append(
                FieldProblem(
                    "status",
                    f"{status!r} is not a status of this Custompms; use one of: "
                    + ", ".join(statuses),
                )
            )
        for name in ITEM_LISTS:
            if name in values:
                result[name], item_problems = with_ids(
                    name, values[name], current[name] if current else ()
                )
                problems += item_problems
        if "assignees" in values:
            before = set(current["assignees"]) if current else set()
            problems += _unknown_people(conn, [e for e in values["assignees"] if e not in before])
    if spec.name == PEOPLE.name and "email" in values:
        problems += _email_taken(conn, values["email"], current)
    return result, problems


def _unknown_people(conn: Connection, emails: list[str]) -> list[FieldProblem]:
    if not emails:
        return []
    people = tables.people
    known = set(
        conn.execute(
            select(people.c.email).where(people.c.email.in_(emails), people.c.deleted.is_(False))
        ).scalars()
    )
    return [
        FieldProblem("assignees", f"no person has the email {email!r} (see GET /people)")
        for email in emails
        if email not in known
    ]


def _email_taken(
    conn: Connection, email: str, current: Mapping[str, Any] | None
) -> list[FieldProblem]:
    people = tables.people
    query = select(people.c.id).where(people.c.email == email, people.c.deleted.is_(False))
    if current is not None:
        query = query.where(people.c.id != current["id"])
    other = conn.execute(query).scalar()
    if other is None:
        return []
    return [FieldProblem("email", f"person {other!r} already has the email {email!r}")]
