"""Custompms wire values ⇄ record values, and wire objects ⇄ ``Record``.

On the wire: instants are RFC 3339 strings, date-only values ``YYYY-MM-DD``, numbers JSON
numbers. In records: timezone-aware UTC ``datetime``, ``date`` and ``float``
(see ``pmbridge.records``). Writing back, instants go out as RFC 3339 UTC with milliseconds
and a ``Z``, dates as ``YYYY-MM-DD``.

Contract 1.1's optional task properties, in records (JSON-friendly: tuples of strings or of
plain dicts, which ``json.dumps`` writes as arrays):

- ``tags``: a sorted tuple of distinct strings;
- ``assignees``: a sorted tuple of distinct emails, in lower case;
- ``checklist``: a tuple of ``{"id", "text", "done"}`` dicts, in the server's order;
- ``links``: a tuple of ``{"id", "title", "url"}`` dicts, in the server's order.

A record carries one of them only when the server sent it: a 1.0 server's tasks lack them,
and ``"tags" in record.fields`` says whether the server has tags. Writing back, sets go out
as sorted lists and items as objects, without ``id`` for an item that has none yet (the
server gives it one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from pmbridge.errors import InvalidValueError
from pmbridge.records import Record

ValueKind = Literal[
    "text", "id", "boolean", "number", "moment", "tags", "emails", "checklist", "links"
]
# Item lists: value kind -> the members of an item, in order.
ITEM_MEMBERS: dict[str, tuple[str, ...]] = {
    "checklist": ("id", "text", "done"),
    "links": ("id", "title", "url"),
}
# Properties a server may lack (contract 1.1, optional): left out of a record when absent.
OPTIONAL = frozenset({"tags", "assignees", "checklist", "links"})

# kind -> (resource, property -> value kind): the properties a record carries.
KINDS: dict[str, tuple[str, dict[str, ValueKind]]] = {
    "customer": ("customers", {"name": "text", "description": "text", "website": "text"}),
    "project": (
        "projects",
        {"customer_id": "id", "name": "text", "description": "text", "archived": "boolean"},
    ),
    "task": (
        "tasks",
        {
            "project_id": "id",
            "title": "text",
            "description": "text",
            "status": "text",
            "due_at": "moment",
            "start_at": "moment",
            "completed": "boolean",
            "archived": "boolean",
            "position": "number",
            "tags": "tags",
            "assignees": "emails",
            "checklist": "checklist",
            "links": "links",
        },
    ),
    "comment": (
        "comments",
        {"task_id": "id", "project_id": "id", "author": "text", "text": "text"},
    ),
}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def kind_of(resource: str) -> str | None:
    """The record kind of an API resource: ``tasks`` → ``task``; None for another one."""
    return next((kind for kind, (name, _) in KINDS.items() if name == resource), None)


def resource_of(kind: str) -> str:
    """The API resource of a record kind: ``task`` → ``tasks``."""
    try:
        return KINDS[kind][0]
    except KeyError:
        raise ValueError(f"unknown Custompms kind {kind!r}; known: {', '.join(KINDS)}") from None


def parse_instant(text: str) -> datetime:
    """An RFC 3339 instant as a timezone-aware UTC ``datetime``."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"the instant {text!r} has no time zone")
    return value.astimezone(UTC)


def parse_moment(text: str) -> datetime | date:
    """A ``YYYY-MM-DD`` date stays a ``date``; anything else is an instant."""
    if _DATE_ONLY.match(text):
        return date.fromisoformat(text)
    return parse_instant(text)


def format_instant(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z``: ``2024-05-01T09:30:00.123Z``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def from_wire(value_kind: ValueKind, value: Any) -> Any:
    """One wire value as a record value."""
    if value is None:
        return None
    if value_kind == "moment" and isinstance(value, str):
        return parse_moment(value)
    if value_kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if value_kind == "tags":
        return tuple(sorted(set(_strings(value, "tags"))))
    if value_kind == "emails":
        return tuple(sorted({email.lower() for email in _strings(value, "assignees")}))
    if value_kind in ITEM_MEMBERS:
        return tuple(_item(value_kind, item) for item in _list(value, value_kind))
    return value


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{name} is {type(value).__name__}, not a list")
    return value


def _strings(value: Any, name: str) -> list[str]:
    items = _list(value, name)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{name} holds a value that is not a string")
    return items


def _item(kind: str, item: Any) -> dict[str, Any]:
    """One checklist item or link with exactly its members (a missing one is an error)."""
    if not isinstance(item, dict):
        raise ValueError(f"a {kind} item is {type(item).__name__}, not an object")
    missing = [name for name in ITEM_MEMBERS[kind] if name not in item]
    if missing:
        raise ValueError(f"a {kind} item lacks {', '.join(missing)}")
    return {name: item[name] for name in ITEM_MEMBERS[kind]}


def to_wire(kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Record values as a JSON body. Naive datetimes are refused (their zone is unknown)."""
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise InvalidValueError(
                    f"the {kind} property {name!r} is a datetime without a time zone: "
                    "give a timezone-aware value",
                    system="custompms",
                    field=name,
                )
            body[name] = format_instant(value)
        elif isinstance(value, date):
            body[name] = value.isoformat()
        elif isinstance(value, set | frozenset):
            body[name] = sorted(value)
        elif isinstance(value, tuple | list):
            body[name] = [_item_to_wire(item) for item in value]
        else:
            body[name] = value
    return body


def _item_to_wire(item: Any) -> Any:
    """A set member as is; an item without its ``id`` when it has none yet."""
    if isinstance(item, Mapping):
        return {key: value for key, value in item.items() if key != "id" or value is not None}
    return item


def to_record(kind: str, item: Mapping[str, Any]) -> Record:
    """A feed item or record as a ``Record``; a tombstone becomes ``deleted=True``."""
    _, props = KINDS[kind]
    updated = item.get("updated_at")
    version = item.get("version")
    deleted = bool(item.get("deleted"))
    fields = (
        {}
        if deleted
        else {
            name: from_wire(vk, item.get(name))
            for name, vk in props.items()
            if name in item or name not in OPTIONAL
        }
    )
    return Record(
        kind=kind,
        id=str(item["id"]),
        fields=fields,
        updated_at=parse_instant(updated) if isinstance(updated, str) else None,
        deleted=deleted,
        version=None if version is None else str(version),
    )


def same_wire_value(stored: Any, sent: Any) -> bool:
    """Whether a stored wire value equals a sent one, as the server normalises values
    (instants to UTC, numbers as numbers, sets sorted and emails in lower case, item lists
    with ids given to new items and defaults filled in)."""
    if isinstance(stored, list) and isinstance(sent, list | tuple):
        return _same_list(stored, sent)
    if isinstance(stored, str) and isinstance(sent, str) and stored != sent:
        try:
            return parse_moment(stored) == parse_moment(sent)
        except ValueError:
            return False
    if isinstance(stored, int | float) and isinstance(sent, int | float):
        return float(stored) == float(sent) and isinstance(stored, bool) == isinstance(sent, bool)
    return bool(stored == sent)


def _same_list(stored: list[Any], sent: Sequence[Any]) -> bool:
    if all(isinstance(v, str) for v in (*stored, *sent)):
        as_set = set(stored)
        return as_set in ({*sent}, {v.lower() for v in sent})
    if len(stored) != len(sent):
        return False
    for have, want in zip(stored, sent, strict=True):
        if not isinstance(have, dict) or not isinstance(want, Mapping):
            if not same_wire_value(have, want):
                return False
            continue
        for key, value in want.items():
            if key == "id" and value is None:
                continue
            if not same_wire_value(have.get(key), value):
                return False
    return True
