"""``/1/lists``: create, read and change lists (whole or one field), and their cards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pmbridge.sandbox.trello import feeds, lists, render
from pmbridge.sandbox.trello.answers import TrelloJSON, invalid_value, not_found
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import Params, ParamsDep
from pmbridge.sandbox.trello.routes.actions import feed_answer
from pmbridge.sandbox.trello.routes.boards import cards_json
from pmbridge.sandbox.trello.routes.common import (
    WorldDep,
    answer,
    board_answer,
    list_answer,
)
from pmbridge.sandbox.trello.world import World

router = APIRouter(tags=["lists"])

PER_FIELD = ("name", "closed", "idBoard", "pos", "subscribed")


def _list_answer(world: World, lst: dict) -> TrelloJSON:
    return answer(render.select(world.list_json(lst), render.LIST_STANDARD))


def _changes(world: World, params: Params) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if params.has("name"):
        changes["name"] = params.text("name", min_len=1, required=True)
    if params.has("closed"):
        changes["closed"] = params.boolean("closed")
    if params.has("pos"):
        changes["pos"] = params.pos()
    if params.has("idBoard"):
        board_id = params.object_id("idBoard", required=True)
        assert board_id is not None
        changes["board"] = _board_for_param(world, board_id, "idBoard")
    params.boolean("subscribed")  # accepted and checked; the sandbox keeps no subscriptions
    return changes


def _board_for_param(world: World, board_id: str, param: str) -> dict:
    board = world.boards.get(board_id)
    if board is None:
        raise invalid_value(param)
    return board


@router.post("/lists")
async def create_list(auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    name = params.text("name", min_len=1, required=True)
    board_id = params.object_id("idBoard", required=True)
    assert name is not None and board_id is not None
    board = _board_for_param(world, board_id, "idBoard")
    lst = lists.create_list(world, auth.member, board, name=name, pos=params.pos())
    return answer(render.select(world.list_json(lst), (*render.LIST_STANDARD, "limits")))


@router.get("/lists/{id_list}")
async def get_list(id_list: str, auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    lst = world.find_list(id_list)
    return list_answer(world, lst, params)


@router.put("/lists/{id_list}")
async def update_list(
    id_list: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    lst = world.find_list(id_list)
    lst = lists.update_list(world, auth.member, lst, _changes(world, params))
    return _list_answer(world, lst)


@router.put("/lists/{id_list}/{field}")
async def update_list_field(
    id_list: str, field: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    lst = world.find_list(id_list)
    if field not in PER_FIELD:
        raise not_found()
    if not params.has("value"):
        raise invalid_value("value")
    field_params = Params({field: params.raw("value")})
    lst = lists.update_list(world, auth.member, lst, _changes(world, field_params))
    return _list_answer(world, lst)


@router.get("/lists/{id_list}/cards")
async def get_list_cards(
    id_list: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    lst = world.find_list(id_list)
    filter_ = params.choice("filter", ("all", "closed", "none", "open"), "open")
    return answer(cards_json(world, lists.list_cards(world, lst, filter_), params))


@router.get("/lists/{id_list}/board")
async def get_list_board(
    id_list: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(world.find_list(id_list)["idBoard"])
    return board_answer(world, board, params)


@router.get("/lists/{id_list}/actions")
async def get_list_actions(
    id_list: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    lst = world.find_list(id_list)
    query = feeds.parse_feed_query(params)
    return feed_answer(world, feeds.list_feed(world, lst, query), params)
