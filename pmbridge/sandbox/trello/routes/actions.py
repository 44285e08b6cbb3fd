"""``/1/actions/{id}``: read an action; edit or delete a comment; the objects it refers to."""

from __future__ import annotations

from fastapi import APIRouter

from pmbridge.sandbox.trello import comments, render
from pmbridge.sandbox.trello.answers import TrelloJSON, not_found
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import Params, ParamsDep
from pmbridge.sandbox.trello.routes.common import (
    DELETED,
    WorldDep,
    answer,
    board_answer,
    card_body,
    fields_of,
    list_answer,
)
from pmbridge.sandbox.trello.world import World

router = APIRouter(tags=["actions"])


def action_body(world: World, action: dict, params: Params) -> dict:
    """An action with the client's ``fields``, ``display``, ``memberCreator`` choices."""
    creator_fields = params.fields(
        "memberCreator_fields",
        all_fields=render.MEMBER_CREATOR_FIELDS,
        default=render.MEMBER_CREATOR_FIELDS,
    )
    body = world.action_json(
        action,
        with_creator=params.flag("memberCreator", True),
        with_display=params.flag("display", True),
        creator_fields=creator_fields,
    )
    chosen = params.fields("fields", all_fields=render.ACTION_FIELDS, default=render.ACTION_FIELDS)
    extras = [k for k in ("memberCreator",) if k in body]
    return render.select(body, [*chosen, *extras])


def feed_answer(world: World, actions: list[dict], params: Params) -> TrelloJSON:
    return answer([action_body(world, action, params) for action in actions])


@router.get("/actions/{id_action}")
async def get_action(
    id_action: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    return answer(action_body(world, world.find_action(id_action), params))


@router.put("/actions/{id_action}")
async def update_action(
    id_action: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    action = world.find_action(id_action)
    text = params.text("text", min_len=1, required=True)
    assert text is not None
    comments.edit_comment(world, auth.member, action, text)
    return answer(world.action_json(action))


@router.put("/actions/{id_action}/text")
async def update_action_text(
    id_action: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    action = world.find_action(id_action)
    text = params.text("value", min_len=1, required=True)
    assert text is not None
    comments.edit_comment(world, auth.member, action, text, param="value")
    return answer(world.action_json(action))


@router.delete("/actions/{id_action}")
async def delete_action(id_action: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    comments.delete_comment(world, auth.member, world.find_action(id_action))
    return answer(DELETED)


@router.get("/actions/{id_action}/board")
async def get_action_board(
    id_action: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(_ref(world.find_action(id_action), "board"))
    return board_answer(world, board, params)


@router.get("/actions/{id_action}/card")
async def get_action_card(
    id_action: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(_ref(world.find_action(id_action), "card"))
    return answer(card_body(world, card, params))


@router.get("/actions/{id_action}/list")
async def get_action_list(
    id_action: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    action = world.find_action(id_action)
    data = action["data"]
    key = "list" if "list" in data else "listAfter"
    lst = world.find_list(_ref(action, key))
    return list_answer(world, lst, params)


@router.get("/actions/{id_action}/memberCreator")
async def get_action_member_creator(
    id_action: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    action = world.find_action(id_action)
    member = world.members.get(action["idMemberCreator"])
    if member is None:
        raise not_found()
    return answer(
        fields_of(
            world.member_json(member),
            params,
            all_fields=render.MEMBER_FIELDS,
            default=render.MEMBER_FIELDS,
        )
    )


@router.get("/actions/{id_action}/organization")
async def get_action_organization(
    id_action: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    action = world.find_action(id_action)
    org_id = (action["data"].get("organization") or {}).get("id")
    if org_id is None:
        board = world.boards.get((action["data"].get("board") or {}).get("id", ""))
        org_id = board and board["idOrganization"]
    if not org_id:
        raise not_found()
    org = world.find_organization(org_id)
    return answer(
        fields_of(
            world.organization_json(org),
            params,
            all_fields=render.ORGANIZATION_FIELDS,
            default=render.ORGANIZATION_FIELDS,
        )
    )


def _ref(action: dict, key: str) -> str:
    ref = (action["data"].get(key) or {}).get("id")
    if not ref:
        raise not_found()
    return ref
