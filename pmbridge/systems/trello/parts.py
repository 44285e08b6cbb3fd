"""A card's parts as record fields: labels, members, one checklist, URL attachments.

Read from the nested resources a card read asks for (``PART_PARAMS``, one read for a board's
cards or a batch of cards, never a call per card). Record fields:

    labels       sorted tuple of label names (labels without a name are left out)
    members      sorted tuple of member usernames (in lower case)
    checklist    the items of the card's checklist named ``checklist_name`` (the first, if
                 several have that name), in order: tuple of {"id", "text", "done"}
    attachments  the URL attachments (not uploads), in order: tuple of {"id", "title", "url"}

A card JSON without the nested resources gives no part fields (a record read without them
does not say the card has none). ``parts_json`` turns part fields back into Trello's JSON
(the in-memory Trello keeps cards that way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PART_FIELDS = ("labels", "members", "checklist", "attachments")
DEFAULT_CHECKLIST = "Checklist"
# What a card read adds to read the parts along (TRELLO_API.md §6, GET /boards/{id}/cards).
PART_PARAMS: dict[str, str] = {
    "checklists": "all",  # with their check items (no checklist_fields: keep them all)
    "attachments": "true",
    "attachment_fields": "id,name,url,isUpload,pos",
    "members": "true",
    "member_fields": "username",
}


def card_parts(card: Mapping[str, Any], checklist_name: str = DEFAULT_CHECKLIST) -> dict[str, Any]:
    """The part fields a card JSON carries (see the module docstring)."""
    parts: dict[str, Any] = {}
    if isinstance(card.get("labels"), list):
        names = {_name(label, "name") for label in card["labels"]}
        parts["labels"] = tuple(sorted(names - {""}))
    if isinstance(card.get("members"), list):
        names = {_name(member, "username").lower() for member in card["members"]}
        parts["members"] = tuple(sorted(names - {""}))
    if isinstance(card.get("checklists"), list):
        parts["checklist"] = tuple(checklist_items(named(card["checklists"], checklist_name)))
    if isinstance(card.get("attachments"), list):
        links = [a for a in _by_pos(card["attachments"]) if not a.get("isUpload") and a.get("url")]
        parts["attachments"] = tuple(
            {"id": a.get("id"), "title": attachment_title(a), "url": a["url"]} for a in links
        )
    return parts


def attachment_title(attachment: Mapping[str, Any]) -> str:
    """An attachment's title; Trello names an untitled link after its URL: no title."""
    name = str(attachment.get("name") or "")
    return "" if name == attachment.get("url") else name


def named(checklists: list[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The first checklist called ``name`` (by position), or None."""
    return next((c for c in _by_pos(checklists) if (c.get("name") or "") == name), None)


def checklist_items(checklist: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if checklist is None:
        return []
    return [
        {"id": item["id"], "text": item.get("name") or "", "done": item.get("state") == "complete"}
        for item in _by_pos(checklist.get("checkItems") or [])
    ]


def parts_json(
    fields: Mapping[str, Any], checklist_name: str = DEFAULT_CHECKLIST
) -> dict[str, Any]:
    """Part fields (as a record or a write carries them) as Trello's card JSON."""
    body: dict[str, Any] = {}
    if "labels" in fields:
        body["labels"] = [{"name": _name(label, "name")} for label in fields["labels"] or ()]
    if "members" in fields:
        body["members"] = [{"username": _name(m, "username")} for m in fields["members"] or ()]
    if "checklist" in fields:
        items = [
            {
                "id": item.get("id"),
                "name": item.get("text"),
                "state": "complete" if item.get("done") else "incomplete",
                "pos": n,
            }
            for n, item in enumerate(fields["checklist"] or (), start=1)
        ]
        body["checklists"] = [{"name": checklist_name, "checkItems": items}] if items else []
    if "attachments" in fields:
        body["attachments"] = [
            {"id": a.get("id"), "name": a.get("title"), "url": a.get("url"), "isUpload": False}
            for a in fields["attachments"] or ()
        ]
    return body


def _name(value: Any, member: str) -> str:
    if isinstance(value, Mapping):
        return str(value.get(member) or "").strip()
    return str(value or "").strip().lstrip("@") if member == "username" else str(value).strip()


def _by_pos(values: list[Any]) -> list[Any]:
    return sorted(
        (v for v in values if isinstance(v, Mapping)), key=lambda v: float(v.get("pos") or 0)
    )
