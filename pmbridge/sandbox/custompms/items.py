"""Ids of a task's checklist items and links: kept when written back, given to new ones.

A write replaces the whole list. An item that carries an ``id`` is one the task already has
(its id is kept); an item without one is new and gets a fresh id here. An id the task does not
have, or the same id twice, is refused, naming the item.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pmbridge.sandbox.custompms.problems import FieldProblem

# Task properties whose items carry ids: property -> the item's other members, with defaults
# (a patch leaves out the members it does not set).
ITEM_LISTS: dict[str, dict[str, Any]] = {
    "checklist": {"text": "", "done": False},
    "links": {"title": "", "url": ""},
}


def new_item_id() -> str:
    return uuid.uuid4().hex[:16]


def with_ids(
    name: str, items: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[FieldProblem]]:
    """``items`` with every id set (and every member), and the problems of the ids given."""
    members = ITEM_LISTS[name]
    known = {item["id"] for item in current}
    seen: set[str] = set()
    problems: list[FieldProblem] = []
    result: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        given = item.get("id")
        result.append(
            {"id": given or new_item_id()} | {k: item.get(k, d) for k, d in members.items()}
        )
        if given is None:
            continue
        where = f"{name}[{index}].id"
        if given not in known:
            problems.append(
                FieldProblem(
                    where, f"the task has no {name} item {given!r}; leave id out for a new item"
                )
            )
        elif given in seen:
            problems.append(FieldProblem(where, f"{given!r} appears twice"))
        seen.add(given)
    return result, problems
