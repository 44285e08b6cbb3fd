"""``/1/customFields``, a board's custom fields, and a card's custom field items."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pmbridge.sandbox.trello import customfields
from pmbridge.sandbox.trello.answers import TrelloJSON, invalid_value
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import MAX_TEXT, ParamsDep
from pmbridge.sandbox.trello.routes.common import DELETED, WorldDep, answer, referenced

router = APIRouter(tags=["customFields"])


@router.get("/boards/{id_board}/customFields")
async def get_board_custom_fields(id_board: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    board = world.find_board(id_board)
    return answer([customfields.field_json(f) for f in customfields.board_fields(world, board)])


@router.post("/customFields")
async def create_custom_field(auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    board = referenced(params, "idModel", world.find_board)
    if params.raw("modelType", "board") != "board":
        raise invalid_value("modelType")
    name = params.text("name", min_len=1, max_len=MAX_TEXT, required=True)
    kind = params.choice("type", customfields.TYPES, "")
    options = params.raw("options") or []
    if isinstance(options, str):
        options = [o.strip() for o in options.split(",") if o.strip()]
    if not isinstance(options, list):
        raise invalid_value("options")
    texts = [o["value"]["text"] if isinstance(o, dict) else str(o) for o in options]
    field = customfields.create_field(
        world,
        auth.member,
        board,
        name=name or "",
        kind=kind,
        options=texts,
        pos=params.pos(),
        card_front=params.flag("display_cardFront", True),
    )
    return answer(customfields.field_json(field))


@router.get("/customFields/{id_field}")
async def get_custom_field(id_field: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    return answer(customfields.field_json(customfields.find_field(world, id_field)))


@router.put("/customFields/{id_field}")
async def update_custom_field(
    id_field: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    field = customfields.find_field(world, id_field)
    changes: dict[str, Any] = {}
    if params.has("name"):
        changes["name"] = params.text("name", min_len=1, required=True)
    if params.has("pos"):
        changes["pos"] = params.pos()
    for key in ("display/cardFront", "display_cardFront"):
        if params.has(key):
            changes["cardFront"] = params.boolean(key)
    customfields.update_field(world, field, changes)
    return answer(customfields.field_json(field))


@router.delete("/customFields/{id_field}")
async def delete_custom_field(id_field: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    customfields.delete_field(world, customfields.find_field(world, id_field))
    return answer(DELETED)


@router.get("/cards/{id_card}/customFieldItems")
async def get_card_custom_field_items(id_card: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    return answer(customfields.items_json(world, world.find_card(id_card)))


@router.put("/cards/{id_card}/customField/{id_field}/item")
async def set_card_custom_field_item(
    id_card: str, id_field: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    field = customfields.find_field(world, id_field)
    if field["idModel"] != card["idBoard"]:
        raise invalid_value("idCustomField")
    value = customfields.read_value(field, params.values)
    return answer(customfields.set_item(world, auth.member, card, field, value))
