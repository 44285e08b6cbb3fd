"""``/1/cards``: create, read, change (whole or one field), move and delete cards; comments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pmbridge.sandbox.trello import (
    attachments,
    cards,
    checklists,
    comments,
    customfields,
    feeds,
    labels,
    memberships,
    render,
)
from pmbridge.sandbox.trello.answers import TrelloHTTPError, TrelloJSON, invalid_value, not_found
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import Params, ParamsDep
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.routes.actions import action_body, feed_answer
from pmbridge.sandbox.trello.routes.attachments import attachment_body
from pmbridge.sandbox.trello.routes.checklists import checklist_body
from pmbridge.sandbox.trello.routes.common import (
    DELETED,
    WorldDep,
    answer,
    board_answer,
    fields_of,
    list_answer,
    value_answer,
)
from pmbridge.sandbox.trello.routes.people import members_body
from pmbridge.sandbox.trello.world import World

router = APIRouter(tags=["cards"])

PER_FIELD = (
    "name", "desc", "closed", "idList", "idBoard", "pos", "due", "start", "dueComplete",
    "idMembers", "idLabels", "subscribed",
)  # fmt: skip


def _card_answer(world: World, card: dict, params: Params | None = None) -> TrelloJSON:
    body = world.card_json(card)
    if params is None:
        return answer(render.select(body, render.CARD_DEFAULT))
    return answer(
        fields_of(body, params, all_fields=render.CARD_FIELDS, default=render.CARD_DEFAULT)
    )


def _list_param(world: World, params: Params, name: str = "idList") -> dict | None:
    list_id = params.object_id(name)
    if list_id is None:
        return None
    lst = world.lists.get(list_id)
    if lst is None:
        raise invalid_value(name)
    return lst


def _board_param(world: World, params: Params) -> dict | None:
    value = params.raw("idBoard")
    if value is None or value == "":
        return None
    try:
        return world.find_board(str(value))
    except TrelloHTTPError:
        raise invalid_value("idBoard") from None


def _changes(world: World, params: Params) -> dict[str, Any]:
    """The card fields a PUT sends, read and checked the way Trello does."""
    changes: dict[str, Any] = {}
    if params.has("name"):
        changes["name"] = params.text("name", min_len=1, required=True)
    if params.has("desc"):
        changes["desc"] = params.text("desc") or ""
    for flag in ("closed", "dueComplete"):
        if params.has(flag):
            changes[flag] = params.boolean(flag)
    for date_field in ("due", "start"):
        given, moment = params.date(date_field)
        if given:
            changes[date_field] = moment
    if params.has("pos"):
        changes["pos"] = params.pos()
    if params.has("idMembers"):
        changes["idMembers"] = params.id_list("idMembers") or []
    if params.has("idLabels"):
        changes["idLabels"] = params.id_list("idLabels") or []
    if params.has("idList"):
        changes["list"] = _list_param(world, params)
        if changes["list"] is None:
            raise invalid_value("idList")
    if params.has("idBoard"):
        changes["board"] = _board_param(world, params)
        if changes["board"] is None:
            raise invalid_value("idBoard")
    params.boolean("subscribed")  # accepted and checked; the sandbox keeps no subscriptions
    return changes


@router.post("/cards")
async def create_card(auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    lst = _list_param(world, params)
    if lst is None:
        raise invalid_value("idList")
    name = params.text("name", min_len=1)
    _, due = params.date("due")
    _, start = params.date("start")
    card = cards.create_card(
        world,
        auth.member,
        lst,
        name=name or "",
        desc=params.text("desc") or "",
        pos=params.pos(),
        due=due,
        start=start,
        due_complete=params.flag("dueComplete", False),
        closed=params.flag("closed", False),
        id_members=params.id_list("idMembers"),
        id_labels=params.id_list("idLabels"),
    )
    return _card_answer(world, card)


@router.get("/cards/{id_card}")
async def get_card(id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    card = world.find_card(id_card)
    body = fields_of(
        world.card_json(card), params, all_fields=render.CARD_FIELDS, default=render.CARD_DEFAULT
    )
    if params.flag("board", False):
        body["board"] = fields_of(
            world.board_json(world.boards[card["idBoard"]]),
            params,
            all_fields=render.BOARD_FIELDS,
            default=render.BOARD_DEFAULT,
            name="board_fields",
        )
    if params.flag("customFieldItems", False):
        body["customFieldItems"] = customfields.items_json(world, card)
    if params.flag("list", False):
        body["list"] = fields_of(
            world.list_json(world.lists[card["idList"]]),
            params,
            all_fields=render.LIST_FIELDS,
            default=render.LIST_STANDARD,
            name="list_fields",
        )
    body.update(nested_parts(world, card, params))
    return answer(body)


def nested_parts(world: World, card: dict, params: Params) -> dict[str, Any]:
    """The nested resources a card read may ask for: ``checklists=all``,
    ``attachments=true``, ``members=true`` (TRELLO_API.md §6, GET /cards/{id})."""
    nested: dict[str, Any] = {}
    if params.choice("checklists", ("all", "none"), "none") == "all":
        found = checklists.card_checklists(world, card)
        nested["checklists"] = [checklist_body(c, Params({})) for c in found]
    if params.choice("attachments", ("true", "false", "cover"), "false") != "false":
        found = attachments.card_attachments(world, card)
        nested["attachments"] = [attachment_body(a, Params({})) for a in found]
    if params.flag("members", False):
        people = [world.members[i] for i in card["idMembers"] if i in world.members]
        nested["members"] = members_body(world, people, Params({}))
    return nested


@router.put("/cards/{id_card}")
async def update_card(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    return _card_answer(world, _apply(world, auth.member, card, _changes(world, params)))


def _apply(world: World, actor: Member, card: dict, changes: dict[str, Any]) -> dict:
    """Change the card's fields, then its labels and members (each label or member added or
    removed is an action of its own)."""
    label_ids = changes.pop("idLabels", None)
    member_ids = changes.pop("idMembers", None)
    if label_ids is not None:
        for label_id in label_ids:
            labels.label_for_card(world, card, label_id, "idLabels")
    if member_ids is not None:
        for member_id in member_ids:
            member = memberships.member_param(world, member_id, "idMembers")
            memberships.check_card_member(world, card, member, "idMembers")
    with world.transaction():
        card = cards.update_card(world, actor, card, changes)
        if label_ids is not None:
            labels.set_card_labels(world, actor, card, label_ids)
        if member_ids is not None:
            memberships.set_card_members(world, actor, card, member_ids)
    return card


@router.delete("/cards/{id_card}")
async def delete_card(id_card: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    cards.delete_card(world, auth.member, world.find_card(id_card))
    return answer({"limits": {}})


@router.get("/cards/{id_card}/actions")
async def get_card_actions(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    query = feeds.parse_feed_query(params, default_filter=feeds.CARD_DEFAULT_FILTER)
    return feed_answer(world, feeds.card_feed(world, card, query), params)


@router.post("/cards/{id_card}/actions/comments")
async def add_comment(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    text = comments.check_text(params.text("text", min_len=1))
    action = comments.add_comment(world, auth.member, card, text)
    return answer(world.action_json(action))


@router.put("/cards/{id_card}/actions/{id_action}/comments")
async def edit_comment(
    id_card: str, id_action: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    action = comments.comment_of(world, world.find_action(id_action), auth.member, card)
    text = comments.check_text(params.text("text", min_len=1))
    comments.edit_comment(world, auth.member, action, text)
    return answer(action_body(world, action, Params({})))


@router.delete("/cards/{id_card}/actions/{id_action}/comments")
async def delete_comment(
    id_card: str, id_action: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    action = comments.comment_of(world, world.find_action(id_action), auth.member, card)
    comments.delete_comment(world, auth.member, action)
    return answer(DELETED)


@router.get("/cards/{id_card}/board")
async def get_card_board(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.boards[world.find_card(id_card)["idBoard"]]
    return board_answer(world, board, params)


@router.get("/cards/{id_card}/list")
async def get_card_list(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    lst = world.lists[world.find_card(id_card)["idList"]]
    return list_answer(world, lst, params)


@router.get("/cards/{id_card}/pluginData")
async def get_card_plugin_data(id_card: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    """The sandbox runs no Power-Ups: a card answers as one that has no plugin data."""
    world.find_card(id_card)
    return answer([])


@router.get("/cards/{id_card}/{collection}")
async def get_card_collection(
    id_card: str, collection: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    found = value_answer(world.card_json(card), collection)
    if found is None:
        raise not_found()
    return found


@router.put("/cards/{id_card}/{field}")
async def update_card_field(
    id_card: str, field: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    if field not in PER_FIELD:
        raise not_found()
    if not params.has("value"):
        raise invalid_value("value")
    changes = _changes(world, Params({field: params.raw("value")}))
    return _card_answer(world, _apply(world, auth.member, card, changes))
