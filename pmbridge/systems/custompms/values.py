"""Custompms wire values ⇄ record values, and wire objects ⇄ ``Record``.

On the wire: instants are RFC 3339 strings, date-only values ``YYYY-MM-DD``, numbers JSON
numbers. In records: timezone-aware UTC ``datetime``, ``date`` and ``float``
(see ``pmbridge.records``). Writing back, instants go out as RFC 3339 UTC with milliseconds
and a ``Z``, dates as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal

from pmbridge.errors import InvalidValueError
from pmbridge.records import Record

ValueKind = Literal["text", "id", "boolean", "number", "moment"]

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
        },
    ),
    "comment": (
        "comments",
        {"task_id": "id", "project_id": "id", "author": "text", "text": "text"},
    ),
}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
    return value


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
        else:
            body[name] = value
    return body


def to_record(kind: str, item: Mapping[str, Any]) -> Record:
    """A feed item or record as a ``Record``; a tombstone becomes ``deleted=True``."""
    _, props = KINDS[kind]
    updated = item.get("updated_at")
    version = item.get("version")
    deleted = bool(item.get("deleted"))
    fields = {} if deleted else {name: from_wire(vk, item.get(name)) for name, vk in props.items()}
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
    (instants to UTC, numbers as numbers)."""
    if isinstance(stored, str) and isinstance(sent, str) and stored != sent:
        try:
            return parse_moment(stored) == parse_moment(sent)
        except ValueError:
            return False
    if isinstance(stored, int | float) and isinstance(sent, int | float):
        return float(stored) == float(sent) and isinstance(stored, bool) == isinstance(sent, bool)
    return bool(stored == sent)
