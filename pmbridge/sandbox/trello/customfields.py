"""Custom fields: a board's field definitions and each card's values for them.

A definition has a ``type`` (``text``, ``number``, ``date``, ``checkbox`` or ``list`` with
options). A card's value is ``{"value": {"text"|"number"|"date"|"checked": …}}`` or, for a
list, ``{"idValue": <option id>}``; an empty value clears it. Setting or clearing one
records ``updateCustomFieldItem`` with ``data.customField``, ``data.customFieldItem`` and
``data.old``; a new definition records ``createCustomField``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pmbridge.sandbox.trello.activity import card_data, touch
from pmbridge.sandbox.trello.answers import invalid_value
from pmbridge.sandbox.trello.ids import format_date, is_object_id, parse_date
from pmbridge.sandbox.trello.positions import new_position, wire_pos
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.world import World

TYPES = ("checkbox", "list", "number", "text", "date")


def find_field(world: World, field_id: str) -> dict:
    return world.find_in(world.custom_fields, field_id)


def board_fields(world: World, board: dict) -> list[dict]:
    with world.lock:
        found = [f for f in world.custom_fields.values() if f["idModel"] == board["id"]]
    return sorted(found, key=lambda f: (f["pos"], f["id"]))


def field_json(field: dict) -> dict:
    body = {
        "id": field["id"],
        "idModel": field["idModel"],
        "modelType": "board",
        "fieldGroup": hashlib.sha256(field["id"].encode()).hexdigest(),
        "display": {"cardFront": field["cardFront"]},
        "name": field["name"],
        "pos": wire_pos(field["pos"]),
        "type": field["type"],
        "isSuggestedField": False,
    }
    if field["type"] == "list":
        body["options"] = [
            {
                "id": option["id"],
                "idCustomField": field["id"],
                "value": {"text": option["text"]},
                "color": "none",
                "pos": wire_pos(option["pos"]),
            }
            for option in field["options"]
        ]
    return body


def items_json(world: World, card: dict) -> list[dict]:
    """The card's ``customFieldItems`` (set values only)."""
    return [dict(item) for item in card.get("customFieldItems", {}).values()]


def create_field(
    world: World,
    actor: Member,
    board: dict,
    *,
    name: str,
    kind: str,
    options: list[str],
    pos: str | float | None,
    card_front: bool,
) -> dict:
    if kind not in TYPES:
        raise invalid_value("type")
    with world.transaction():
        now = world.now()
        siblings = board_fields(world, board)
        field = {
            "id": world.ids.new_id(now),
            "idModel": board["id"],
            "name": name,
            "type": kind,
            "pos": new_position((f["pos"] for f in siblings), pos, "bottom"),
            "cardFront": card_front,
            "options": [
                {"id": world.ids.new_id(now), "text": text, "pos": (n + 1) * 16384.0}
                for n, text in enumerate(options if kind == "list" else [])
            ],
        }
        world.custom_fields[field["id"]] = field
        stub = {"id": field["id"], "name": name, "type": kind}
        world.record(
            actor, "createCustomField", {"board": world.board_stub(board), "customField": stub}, now
        )
    return field


def update_field(world: World, field: dict, changes: dict[str, Any]) -> dict:
    """Apply ``changes``: ``name``, ``pos``, ``cardFront``."""
    with world.transaction():
        if "pos" in changes:
            board = world.boards[field["idModel"]]
            others = [f["pos"] for f in board_fields(world, board) if f is not field]
            changes["pos"] = new_position(others, changes["pos"], "bottom")
        field.update(changes)
    return field


def delete_field(world: World, field: dict) -> None:
    with world.transaction():
        world.custom_fields.pop(field["id"], None)
        for card in world.cards.values():
            card.get("customFieldItems", {}).pop(field["id"], None)


def read_value(field: dict, body: dict[str, Any]) -> dict | None:
    """The stored form of a value sent for ``field``; None clears it. 400 when it does not
    fit the field's type."""
    if field["type"] == "list" and body.get("idValue") not in (None, ""):
        option = str(body["idValue"]).lower()
        if not is_object_id(option) or option not in {o["id"] for o in field["options"]}:
            raise invalid_value("idValue")
        return {"idValue": option}
    value = body.get("value")
    if value in (None, "", {}) and body.get("idValue") in (None, ""):
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise invalid_value("value")
    key, raw = next(iter(value.items()))
    expected = {"text": "text", "number": "number", "date": "date", "checkbox": "checked"}
    if expected.get(field["type"]) != key:
        raise invalid_value("value")
    if key == "number":
        try:
            float(str(raw))
        except ValueError:
            raise invalid_value("value") from None
        return {"value": {"number": str(raw)}}
    if key == "date":
        moment = parse_date(str(raw))
        if moment is None:
            raise invalid_value("value")
        return {"value": {"date": format_date(moment)}}
    if key == "checked":
        if str(raw).lower() not in ("true", "false"):
            raise invalid_value("value")
        return {"value": {"checked": str(raw).lower()}}
    return {"value": {"text": str(raw)}}


def set_item(world: World, actor: Member, card: dict, field: dict, value: dict | None) -> dict:
    """Set (or, with None, clear) the card's value for ``field``; the item as Trello answers."""
    with world.transaction():
        items = card.setdefault("customFieldItems", {})
        before = items.get(field["id"])
        now = world.now()
        item = {
            "id": before["id"] if before else world.ids.new_id(now),
            "idCustomField": field["id"],
            "idModel": card["id"],
            "modelType": "card",
            **(value or {"value": None}),
        }
        old = {k: v for k, v in (before or {"value": None}).items() if k in ("value", "idValue")}
        if value is None:
            items.pop(field["id"], None)
        else:
            items[field["id"]] = item
        if old == {k: v for k, v in item.items() if k in ("value", "idValue")}:
            return item
        touch(world, card, now)
        data = {
            **card_data(world, card),
            "customField": {"id": field["id"], "name": field["name"], "type": field["type"]},
            "customFieldItem": dict(item),
            "old": old,
        }
        world.record(actor, "updateCustomFieldItem", data, now)
    return item
