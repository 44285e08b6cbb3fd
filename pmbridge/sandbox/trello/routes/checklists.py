"""``/1/checklists``, a card's and a board's checklists, and check items on cards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pmbridge.sandbox.trello import checklists, render_parts
from pmbridge.sandbox.trello.answers import TrelloJSON, invalid_value, not_found
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import MAX_TEXT, Params, ParamsDep
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.routes.common import (
    DELETED,
    WorldDep,
    answer,
    board_answer,
    card_body,
    fields_of,
    referenced,
    value_answer,
)
from pmbridge.sandbox.trello.world import World

router = APIRouter(tags=["checklists"])


def item_body(item: dict, params: Params, name: str = "fields") -> dict:
    fields = render_parts.CHECK_ITEM_FIELDS
    return fields_of(
        render_parts.check_item_json(item), params, all_fields=fields, default=fields, name=name
    )


def checklist_body(checklist: dict, params: Params) -> dict:
    fields = render_parts.CHECKLIST_FIELDS
    body = fields_of(
        render_parts.checklist_json(checklist), params, all_fields=fields, default=fields
    )
    if params.choice("checkItems", ("all", "none"), "all") == "none":
        body.pop("checkItems", None)
    elif "checkItems" in body:
        body["checkItems"] = [
            item_body(item, params, "checkItem_fields") for item in checklist["checkItems"]
        ]
    return body


def _create(world: World, actor: Member, card: dict, params: Params) -> TrelloJSON:
    source = None
    if params.has("idChecklistSource"):
        source_id = params.object_id("idChecklistSource", required=True)
        source = world.checklists.get(source_id or "")
        if source is None:
            raise invalid_value("idChecklistSource")
    name = params.text("name", min_len=1, max_len=MAX_TEXT)
    checklist = checklists.create_checklist(
        world,
        actor,
        card,
        name=name or (source["name"] if source else "Checklist"),
        pos=params.pos(),
        source=source,
    )
    return answer(checklist_body(checklist, Params({})))


def _checklist_changes(params: Params) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if params.has("name"):
        changes["name"] = params.text("name", min_len=1, required=True)
    if params.has("pos"):
        changes["pos"] = params.pos()
    return changes


def _item_changes(world: World, params: Params) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if params.has("name"):
        changes["name"] = params.text("name", min_len=1, required=True)
    state = checklists.read_state(params)
    if state is not None:
        changes["state"] = state
    if params.has("pos"):
        changes["pos"] = params.pos()
    given, due = params.date("due")
    if given:
        changes["due"] = due
    if params.has("idMember"):
        member = params.object_id("idMember")
        if member is not None and member not in world.members:
            raise invalid_value("idMember")
        changes["idMember"] = member
    return changes


# --- checklists ----------------------------------------------------------------------------


@router.get("/cards/{id_card}/checklists")
async def get_card_checklists(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    return answer([checklist_body(c, params) for c in checklists.card_checklists(world, card)])


@router.post("/cards/{id_card}/checklists")
async def create_card_checklist(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    return _create(world, auth.member, world.find_card(id_card), params)


@router.delete("/cards/{id_card}/checklists/{id_checklist}")
async def delete_card_checklist(
    id_card: str, id_checklist: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    checklist = checklists.find_checklist(world, id_checklist)
    if checklist["idCard"] != card["id"]:
        raise not_found()
    checklists.delete_checklist(world, auth.member, checklist)
    return answer(DELETED)


@router.get("/boards/{id_board}/checklists")
async def get_board_checklists(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    with world.lock:
        found = [c for c in world.checklists.values() if c["idBoard"] == board["id"]]
    found.sort(key=lambda c: (c["idCard"], c["pos"], c["id"]))
    return answer([checklist_body(c, params) for c in found])


@router.post("/checklists")
async def create_checklist(auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    return _create(world, auth.member, referenced(params, "idCard", world.find_card), params)


@router.get("/checklists/{id_checklist}")
async def get_checklist(
    id_checklist: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    return answer(checklist_body(checklists.find_checklist(world, id_checklist), params))


@router.put("/checklists/{id_checklist}")
async def update_checklist(
    id_checklist: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    checklist = checklists.find_checklist(world, id_checklist)
    checklists.update_checklist(world, auth.member, checklist, _checklist_changes(params))
    return answer(checklist_body(checklist, Params({})))


@router.delete("/checklists/{id_checklist}")
async def delete_checklist(id_checklist: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    checklists.delete_checklist(world, auth.member, checklists.find_checklist(world, id_checklist))
    return answer(DELETED)


@router.get("/checklists/{id_checklist}/board")
async def get_checklist_board(
    id_checklist: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    checklist = checklists.find_checklist(world, id_checklist)
    return board_answer(world, world.boards[checklist["idBoard"]], params)


@router.get("/checklists/{id_checklist}/cards")
async def get_checklist_cards(
    id_checklist: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.cards[checklists.find_checklist(world, id_checklist)["idCard"]]
    return answer([card_body(world, card, params)])


@router.get("/checklists/{id_checklist}/checkItems")
async def get_check_items(
    id_checklist: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    checklist = checklists.find_checklist(world, id_checklist)
    return answer([item_body(item, params) for item in checklist["checkItems"]])


@router.post("/checklists/{id_checklist}/checkItems")
async def create_check_item(
    id_checklist: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    checklist = checklists.find_checklist(world, id_checklist)
    name = params.text("name", min_len=1, required=True)
    assert name is not None
    changes = _item_changes(world, Params({k: v for k, v in params.values.items() if k != "pos"}))
    item = checklists.add_item(
        world,
        auth.member,
        checklist,
        name=name,
        pos=params.pos(),
        checked=params.flag("checked", False),
        due=changes.get("due"),
        id_member=changes.get("idMember"),
    )
    return answer(item_body(item, Params({})))


@router.get("/checklists/{id_checklist}/checkItems/{id_item}")
async def get_check_item(
    id_checklist: str, id_item: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    checklist = checklists.find_checklist(world, id_checklist)
    return answer(item_body(checklists.find_item(checklist, id_item), params))


@router.delete("/checklists/{id_checklist}/checkItems/{id_item}")
async def delete_check_item(
    id_checklist: str, id_item: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    checklist = checklists.find_checklist(world, id_checklist)
    item = checklists.find_item(checklist, id_item)
    checklists.delete_item(world, auth.member, checklist, item)
    return answer(DELETED)


@router.get("/checklists/{id_checklist}/{field}")
async def get_checklist_field(
    id_checklist: str, field: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    checklist = checklists.find_checklist(world, id_checklist)
    found = value_answer(render_parts.checklist_json(checklist), field)
    if found is None:
        raise not_found()
    return found


@router.put("/checklists/{id_checklist}/{field}")
async def update_checklist_field(
    id_checklist: str, field: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    checklist = checklists.find_checklist(world, id_checklist)
    if field not in ("name", "pos"):
        raise not_found()
    if not params.has("value"):
        raise invalid_value("value")
    changes = _checklist_changes(Params({field: params.raw("value")}))
    checklists.update_checklist(world, auth.member, checklist, changes)
    return answer(checklist_body(checklist, Params({})))


# --- check items through their card ----------------------------------------------------------


@router.get("/cards/{id_card}/checkItemStates")
async def get_check_item_states(id_card: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    return answer(world.card_json(world.find_card(id_card))["checkItemStates"])


@router.get("/cards/{id_card}/checkItem/{id_item}")
async def get_card_check_item(
    id_card: str, id_item: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    _, item = checklists.find_card_item(world, world.find_card(id_card), id_item)
    return answer(item_body(item, params))


@router.put("/cards/{id_card}/checkItem/{id_item}")
@router.put("/cards/{id_card}/checklist/{id_checklist}/checkItem/{id_item}")
async def update_card_check_item(
    id_card: str,
    id_item: str,
    auth: AuthDep,
    params: ParamsDep,
    world: WorldDep,
    id_checklist: str | None = None,
) -> TrelloJSON:
    checklist, item = checklists.find_card_item(world, world.find_card(id_card), id_item)
    if id_checklist is not None and id_checklist.lower() != checklist["id"]:
        raise not_found()
    changes = _item_changes(world, params)
    checklists.update_item(world, auth.member, checklist, item, changes)
    return answer(item_body(item, Params({})))


@router.delete("/cards/{id_card}/checkItem/{id_item}")
async def delete_card_check_item(
    id_card: str, id_item: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    checklist, item = checklists.find_card_item(world, world.find_card(id_card), id_item)
    checklists.delete_item(world, auth.member, checklist, item)
    return answer(DELETED)
