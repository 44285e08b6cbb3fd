"""Trello objects (JSON dicts) → records, and record fields → Trello parameters.

Kinds and the record fields they carry (values normalised as in ``pmbridge.records``):

    organization  displayName, desc, website, name              updated_at: dateLastActivity
    board         name, desc, closed, idOrganization            updated_at: dateLastActivity
    card          idBoard, idList, list (its list's NAME), name, desc, due, start,
                  dueComplete, closed, pos                      updated_at: dateLastActivity
                  and, when read along (``parts.py``): labels, members, checklist,
                  attachments
    comment       idCard, idBoard, text, author, date           updated_at: last edit, else date

Trello has no versions: ``Record.version`` is always ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from pmbridge.errors import InvalidValueError
from pmbridge.records import Record
from pmbridge.systems.trello.parts import DEFAULT_CHECKLIST, PART_FIELDS, card_parts
from pmbridge.systems.trello.values import parse_bool, parse_datetime, parse_float, parse_text

KINDS = ("organization", "board", "card", "comment")

ORGANIZATION_FIELDS = "id,name,displayName,desc,website,dateLastActivity"
BOARD_FIELDS = "id,name,desc,closed,idOrganization,dateLastActivity"
CARD_FIELDS = "id,idBoard,idList,name,desc,due,start,dueComplete,closed,pos,dateLastActivity,labels"
LIST_FIELDS = "id,name,closed,pos,idBoard"

# The card properties an ``updateCard`` action carries new values of, and their parsers.
CARD_VALUE_PARSERS: dict[str, Callable[[Any], Any]] = {
    "name": parse_text,
    "desc": parse_text,
    "closed": parse_bool,
    "due": parse_datetime,
    "start": parse_datetime,
    "dueComplete": parse_bool,
    "pos": parse_float,
}

# Fields a write may carry, per kind; READ_ONLY ones are accepted and ignored.
WRITABLE: dict[str, frozenset[str]] = {
    "organization": frozenset({"displayName", "desc", "website", "name"}),
    "board": frozenset({"name", "desc", "closed", "idOrganization"}),
    "card": frozenset(
        {"idBoard", "idList", "list", "name", "desc", "due", "start", "dueComplete"}
        | {"closed", "pos", *PART_FIELDS}
    ),
    "comment": frozenset({"idCard", "text"}),
}
READ_ONLY: dict[str, frozenset[str]] = {
    "organization": frozenset(),
    "board": frozenset(),
    "card": frozenset(),
    "comment": frozenset({"idBoard", "author", "date"}),
}


def organization_record(org: Mapping[str, Any]) -> Record:
    return Record(
        kind="organization",
        id=org["id"],
        fields={
            "displayName": parse_text(org.get("displayName")),
            "desc": parse_text(org.get("desc")),
            "website": parse_text(org.get("website")),
            "name": parse_text(org.get("name")),
        },
        updated_at=parse_datetime(org.get("dateLastActivity")),
    )


def board_record(board: Mapping[str, Any]) -> Record:
    return Record(
        kind="board",
        id=board["id"],
        fields={
            "name": parse_text(board.get("name")),
            "desc": parse_text(board.get("desc")),
            "closed": bool(board.get("closed")),
            "idOrganization": board.get("idOrganization"),
        },
        updated_at=parse_datetime(board.get("dateLastActivity")),
    )


def card_record(
    card: Mapping[str, Any],
    list_name: str | None,
    changed_at: Mapping[str, datetime] | None = None,
    checklist_name: str = DEFAULT_CHECKLIST,
) -> Record:
    fields: dict[str, Any] = {
        "idBoard": card.get("idBoard"),
        "idList": card.get("idList"),
        "list": list_name,
    }
    for name, parse in CARD_VALUE_PARSERS.items():
        fields[name] = parse(card.get(name))
    fields["closed"] = bool(fields["closed"])
    fields["dueComplete"] = bool(fields["dueComplete"])
    fields.update(card_parts(card, checklist_name))
    return Record(
        kind="card",
        id=card["id"],
        fields=fields,
        updated_at=parse_datetime(card.get("dateLastActivity")),
        changed_at=dict(changed_at or {}),
    )


def is_comment(action: Mapping[str, Any]) -> bool:
    return action.get("type") == "commentCard"


def comment_record(action: Mapping[str, Any]) -> Record:
    data = action.get("data") or {}
    created = parse_datetime(action.get("date"))
    edited = parse_datetime(data.get("dateLastEdited"))
    author = (action.get("memberCreator") or {}).get("fullName")
    return Record(
        kind="comment",
        id=action["id"],
        fields={
            "idCard": (data.get("card") or {}).get("id"),
            "idBoard": (data.get("board") or {}).get("id"),
            "text": parse_text(data.get("text")),
            "author": parse_text(author),
            "date": created,
        },
        updated_at=edited or created,
    )


def tombstone(kind: str, id: str, when: datetime | None = None) -> Record:
    return Record(kind=kind, id=id, deleted=True, updated_at=when)


def writable_fields(kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a write that Trello stores, checked; read-only ones dropped.

    Raises ``InvalidValueError`` naming the first unknown field or badly typed value.
    """
    allowed = WRITABLE[kind]
    unknown = sorted(set(fields) - allowed - READ_ONLY[kind])
    if unknown:
        raise InvalidValueError(
            f"a Trello {kind} has no writable field {unknown[0]!r}; use "
            f"{', '.join(sorted(allowed))}",
            system="trello",
            field=unknown[0],
        )
    checked = {name: value for name, value in fields.items() if name in allowed}
    for name, value in checked.items():
        _check_value(kind, name, value)
    return checked


def _check_value(kind: str, name: str, value: Any) -> None:
    problem: str | None = None
    if name in PART_FIELDS:
        if not isinstance(value, list | tuple):
            problem = "must be a list"
    elif name in ("closed", "dueComplete"):
        if not isinstance(value, bool):
            problem = "must be true or false"
    elif name in ("due", "start"):
        if isinstance(value, datetime):
            if value.tzinfo is None:
                problem = "must be a timezone-aware date-time"
        elif value is not None and not isinstance(value, (date, str)):
            problem = "must be a date-time or empty"
    elif name == "pos":
        if isinstance(value, bool) or not (
            (isinstance(value, (int, float)) and value > 0) or value in ("top", "bottom")
        ):
            problem = 'must be a positive number, "top" or "bottom"'
    elif name == "name" and kind == "organization":
        if value is not None and not isinstance(value, str):
            problem = "must be a text or empty"
    elif name in ("name", "displayName", "text", "list"):
        if not isinstance(value, str) or not value.strip():
            problem = "must be a non-empty text"
    elif value is not None and not isinstance(value, str):
        problem = "must be a text or empty"
    if problem:
        raise InvalidValueError(
            f"the {kind} field {name!r} {problem} (got {value!r})", system="trello", field=name
        )
