"""Checklists on cards and their check items: create, rename, reorder, tick, delete.

Actions as Trello records them, each with ``data.card``, ``data.board`` and
``data.checklist``: ``addChecklistToCard``, ``updateChecklist`` (with ``data.old``),
``removeChecklistFromCard``; for items (``data.checkItem`` too) ``createCheckItem``,
``updateCheckItemStateOnCard``, ``updateCheckItem`` (rename, move; with ``data.old``) and
``deleteCheckItem``. ``updateCheckItem`` is one of the types only webhooks and
``GET /actions/{id}`` see (TRELLO_API.md §7), so it stays out of the action feeds.
"""

from __future__ import annotations

from typing import Any

from pmbridge.sandbox.trello.activity import card_data, touch
from pmbridge.sandbox.trello.answers import invalid_value, not_found
from pmbridge.sandbox.trello.ids import format_date, is_object_id
from pmbridge.sandbox.trello.params import Params
from pmbridge.sandbox.trello.positions import new_position, respace_if_crowded
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.world import World

STATES = ("complete", "incomplete")


def find_checklist(world: World, checklist_id: str) -> dict:
    return world.find_in(world.checklists, checklist_id)


def card_checklists(world: World, card: dict) -> list[dict]:
    with world.lock:
        found = [world.checklists[i] for i in card.get("idChecklists", ())]
    return sorted(found, key=lambda c: (c["pos"], c["id"]))


def find_item(checklist: dict, item_id: str) -> dict:
    for item in checklist["checkItems"]:
        if item["id"] == item_id.lower():
            return item
    raise not_found()


def find_card_item(world: World, card: dict, item_id: str) -> tuple[dict, dict]:
    """(checklist, item) of a check item on the card; 400/404 as Trello answers."""
    if not is_object_id(item_id):
        raise invalid_value("idCheckItem")
    for checklist in card_checklists(world, card):
        for item in checklist["checkItems"]:
            if item["id"] == item_id.lower():
                return checklist, item
    raise not_found()


def read_state(params: Params, name: str = "state") -> str | None:
    """``complete``/``incomplete`` (``true``/``false`` accepted too), or None when absent."""
    value = params.raw(name)
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return "complete" if text == "true" else "incomplete"
    if text not in STATES:
        raise invalid_value(name)
    return text


def checklist_stub(checklist: dict) -> dict:
    return {"id": checklist["id"], "name": checklist["name"]}


def item_stub(item: dict) -> dict:
    return {
        "id": item["id"],
        "name": item["name"],
        "state": item["state"],
        "textData": {"emoji": {}},
    }


def create_checklist(
    world: World,
    actor: Member,
    card: dict,
    *,
    name: str,
    pos: str | float | None = None,
    source: dict | None = None,
) -> dict:
    """A new checklist on the card; with ``source``, a copy of that one's items."""
    with world.transaction():
        now = world.now()
        siblings = card_checklists(world, card)
        checklist = {
            "id": world.ids.new_id(now),
            "name": name,
            "idBoard": card["idBoard"],
            "idCard": card["id"],
            "pos": new_position((c["pos"] for c in siblings), pos, "bottom"),
            "checkItems": [],
        }
        for item in (source or {}).get("checkItems", []):
            checklist["checkItems"].append(
                _new_item(world, checklist, item["name"], item["pos"], item["state"], now)
            )
        world.checklists[checklist["id"]] = checklist
        card.setdefault("idChecklists", []).append(checklist["id"])
        respace_if_crowded([*siblings, checklist], checklist)
        touch(world, card, now)
        data = {**card_data(world, card), "checklist": checklist_stub(checklist)}
        world.record(actor, "addChecklistToCard", data, now)
    return checklist


def update_checklist(world: World, actor: Member, checklist: dict, changes: dict[str, Any]) -> dict:
    """Apply ``changes``: ``name`` and/or ``pos`` (``top``/``bottom``/a number)."""
    with world.transaction():
        card = world.cards[checklist["idCard"]]
        if "pos" in changes:
            others = [c for c in card_checklists(world, card) if c is not checklist]
            changes["pos"] = new_position((c["pos"] for c in others), changes["pos"], "bottom")
        old = {k: checklist[k] for k, v in changes.items() if checklist[k] != v}
        if not old:
            return checklist
        now = world.now()
        checklist.update({k: changes[k] for k in old})
        respace_if_crowded(card_checklists(world, card), checklist)
        touch(world, card, now)
        data = {
            **card_data(world, card),
            "checklist": {**checklist_stub(checklist), **{k: checklist[k] for k in old}},
            "old": old,
        }
        world.record(actor, "updateChecklist", data, now)
    return checklist


def delete_checklist(world: World, actor: Member, checklist: dict) -> None:
    with world.transaction():
        now = world.now()
        card = world.cards[checklist["idCard"]]
        world.checklists.pop(checklist["id"], None)
        card["idChecklists"].remove(checklist["id"])
        touch(world, card, now)
        data = {**card_data(world, card), "checklist": checklist_stub(checklist)}
        world.record(actor, "removeChecklistFromCard", data, now)


def _new_item(world: World, checklist: dict, name: str, pos: float, state: str, now: float) -> dict:
    return {
        "id": world.ids.new_id(now),
        "name": name,
        "state": state,
        "pos": pos,
        "idChecklist": checklist["id"],
        "due": None,
        "idMember": None,
    }


def add_item(
    world: World,
    actor: Member,
    checklist: dict,
    *,
    name: str,
    pos: str | float | None = None,
    checked: bool = False,
    due: Any = None,
    id_member: str | None = None,
) -> dict:
    with world.transaction():
        now = world.now()
        items = checklist["checkItems"]
        place = new_position((i["pos"] for i in items), pos, "bottom")
        item = _new_item(world, checklist, name, place, STATES[0 if checked else 1], now)
        item["due"] = format_date(due) if due is not None else None
        item["idMember"] = id_member
        items.append(item)
        respace_if_crowded(items, item)
        items.sort(key=lambda i: (i["pos"], i["id"]))
        _record_item(world, actor, checklist, item, "createCheckItem", None, now)
    return item


def update_item(
    world: World, actor: Member, checklist: dict, item: dict, changes: dict[str, Any]
) -> dict:
    """Apply ``changes``: ``state``, ``name``, ``pos``, ``due``, ``idMember``. A state change
    records ``updateCheckItemStateOnCard``; any other change ``updateCheckItem``."""
    with world.transaction():
        items = checklist["checkItems"]
        if "pos" in changes:
            others = [i for i in items if i is not item]
            changes["pos"] = new_position((i["pos"] for i in others), changes["pos"], "bottom")
        if changes.get("due") is not None:
            changes["due"] = format_date(changes["due"])
        old = {k: item[k] for k, v in changes.items() if item[k] != v}
        if not old:
            return item
        now = world.now()
        item.update({k: changes[k] for k in old})
        respace_if_crowded(items, item)
        items.sort(key=lambda i: (i["pos"], i["id"]))
        if "state" in old:
            _record_item(world, actor, checklist, item, "updateCheckItemStateOnCard", None, now)
            old.pop("state")
        if old:
            _record_item(world, actor, checklist, item, "updateCheckItem", old, now)
    return item


def delete_item(world: World, actor: Member, checklist: dict, item: dict) -> None:
    with world.transaction():
        now = world.now()
        checklist["checkItems"].remove(item)
        _record_item(world, actor, checklist, item, "deleteCheckItem", None, now)


def _record_item(
    world: World,
    actor: Member,
    checklist: dict,
    item: dict,
    action_type: str,
    old: dict | None,
    now: float,
) -> None:
    card = world.cards[checklist["idCard"]]
    touch(world, card, now)
    data: dict[str, Any] = {
        **card_data(world, card),
        "checklist": checklist_stub(checklist),
        "checkItem": item_stub(item),
    }
    if old is not None:
        data["checkItem"].update({k: item[k] for k in old})
        data["old"] = old
    world.record(actor, action_type, data, now)
