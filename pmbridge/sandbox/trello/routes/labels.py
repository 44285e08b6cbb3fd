"""``/1/labels``, ``/1/boards/{id}/labels`` and the labels on a card (``idLabels``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pmbridge.sandbox.trello import labels, render_parts
from pmbridge.sandbox.trello.answers import TrelloJSON, invalid_value, not_found
from pmbridge.sandbox.trello.auth import AuthContext, AuthDep
from pmbridge.sandbox.trello.params import Params, ParamsDep
from pmbridge.sandbox.trello.routes.common import DELETED, WorldDep, answer, fields_of, referenced
from pmbridge.sandbox.trello.world import World

router = APIRouter(tags=["labels"])


def label_answer(world: World, label: dict, params: Params | None = None) -> TrelloJSON:
    board = world.boards[label["idBoard"]]
    body = render_parts.label_json(label, uses=labels.uses_of(world, board).get(label["id"], 0))
    return answer(
        fields_of(
            body,
            params or Params({}),
            all_fields=render_parts.LABEL_FIELDS,
            default=render_parts.LABEL_FIELDS,
        )
    )


def _create(world: World, auth: AuthContext, board: dict, params: Params) -> TrelloJSON:
    name = labels.read_name(params, required=True)
    _, color = labels.read_color(params, required=True)
    label = labels.create_label(world, auth.member, board, name=name or "", color=color)
    return label_answer(world, label)


def _update(world: World, auth: AuthContext, label: dict, params: Params) -> TrelloJSON:
    changes: dict[str, Any] = {}
    name = labels.read_name(params, required=False)
    if name is not None:
        changes["name"] = name
    given, color = labels.read_color(params, required=False)
    if given:
        changes["color"] = color
    labels.update_label(world, auth.member, label, changes)
    return label_answer(world, label)


@router.get("/boards/{id_board}/labels")
async def get_board_labels(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    limit = params.integer("limit", default=50, low=0, high=1000)
    uses = labels.uses_of(world, board)
    return answer(
        [
            fields_of(
                render_parts.label_json(label, uses=uses.get(label["id"], 0)),
                params,
                all_fields=render_parts.LABEL_FIELDS,
                default=render_parts.LABEL_FIELDS,
            )
            for label in labels.board_labels(world, board)[:limit]
        ]
    )


@router.get("/boards/{id_board}/labels/{id_label}")
async def get_board_label(
    id_board: str, id_label: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    label = labels.find_label(world, id_label)
    if label["idBoard"] != board["id"]:
        raise not_found()
    return label_answer(world, label, params)


@router.post("/boards/{id_board}/labels")
async def create_board_label(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    return _create(world, auth, world.find_board(id_board), params)


@router.post("/labels")
async def create_label(auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    return _create(world, auth, referenced(params, "idBoard", world.find_board), params)


@router.get("/labels/{id_label}")
async def get_label(id_label: str, auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    return label_answer(world, labels.find_label(world, id_label), params)


@router.put("/labels/{id_label}")
async def update_label(
    id_label: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    return _update(world, auth, labels.find_label(world, id_label), params)


@router.put("/labels/{id_label}/{field}")
async def update_label_field(
    id_label: str, field: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    label = labels.find_label(world, id_label)
    if field not in ("name", "color"):
        raise not_found()
    if not params.has("value"):
        raise invalid_value("value")
    return _update(world, auth, label, Params({field: params.raw("value")}))


@router.delete("/labels/{id_label}")
async def delete_label(id_label: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    labels.delete_label(world, auth.member, labels.find_label(world, id_label))
    return answer(DELETED)


@router.post("/cards/{id_card}/idLabels")
async def add_card_label(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    label = labels.label_for_card(world, card, params.raw("value"))
    labels.add_label_to_card(world, auth.member, card, label)
    return answer(list(card["idLabels"]))


@router.post("/cards/{id_card}/labels")
async def create_card_label(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    """A new label on the card's board, put on the card."""
    card = world.find_card(id_card)
    name = labels.read_name(params, required=False) or ""
    _, color = labels.read_color(params, required=True)
    with world.transaction():
        label = labels.create_label(
            world, auth.member, world.boards[card["idBoard"]], name=name, color=color
        )
        labels.add_label_to_card(world, auth.member, card, label)
    return answer(list(card["idLabels"]))


@router.delete("/cards/{id_card}/idLabels/{id_label}")
async def remove_card_label(
    id_card: str, id_label: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    label = labels.label_for_card(world, card, id_label, "idLabel")
    labels.remove_label_from_card(world, auth.member, card, label)
    return answer(DELETED)
