"""``/1/boards``: boards, their lists, cards and action feed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pmbridge.sandbox.trello import (
    boards,
    customfields,
    feeds,
    labels,
    lists,
    memberships,
    render,
    render_parts,
)
from pmbridge.sandbox.trello.answers import TrelloHTTPError, TrelloJSON, invalid_value, not_found
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.ids import format_timestamp, id_time, is_object_id, is_short_link
from pmbridge.sandbox.trello.params import MAX_TEXT, Params, ParamsDep
from pmbridge.sandbox.trello.routes.actions import feed_answer
from pmbridge.sandbox.trello.routes.cards import nested_parts
from pmbridge.sandbox.trello.routes.common import (
    DELETED,
    WorldDep,
    answer,
    card_body,
    fields_of,
    value_answer,
)
from pmbridge.sandbox.trello.routes.people import members_body
from pmbridge.sandbox.trello.world import World

router = APIRouter(tags=["boards"])


def _organization_param(world: World, params: Params, name: str) -> dict | None:
    """The workspace named by id or short name; None for absent, empty or ``null``."""
    value = params.raw(name)
    if value is None or str(value).strip() in ("", "null"):
        return None
    try:
        return world.find_organization(str(value))
    except TrelloHTTPError:
        raise invalid_value(name) from None


def cards_json(world: World, cards: list[dict], params: Params, name: str = "fields") -> list:
    """Cards with the client's fields; ``customFieldItems=true`` adds each card's values."""
    with_items = params.flag("customFieldItems", False)
    found = []
    for card in cards:
        body = fields_of(
            world.card_json(card),
            params,
            all_fields=render.CARD_FIELDS,
            default=render.CARD_DEFAULT,
            name=name,
        )
        if with_items:
            body["customFieldItems"] = customfields.items_json(world, card)
        found.append(body)
    return found


def lists_json(world: World, found: list[dict], params: Params, name: str = "fields") -> list:
    return [
        fields_of(
            world.list_json(lst),
            params,
            all_fields=render.LIST_FIELDS,
            default=render.LIST_STANDARD,
            name=name,
        )
        for lst in found
    ]


@router.post("/boards")
async def create_board(auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    name = params.text("name", min_len=1, required=True)
    assert name is not None
    level = params.raw("prefs_permissionLevel") or params.raw("prefs/permissionLevel")
    board = boards.create_board(
        world,
        auth.member,
        name=name,
        desc=params.text("desc") or "",
        organization=_organization_param(world, params, "idOrganization"),
        default_lists=params.flag("defaultLists", True),
        default_labels=params.flag("defaultLabels", True),
        permission_level=str(level or "private"),
    )
    return answer(render.select(world.board_json(board), render.BOARD_WRITE))


@router.get("/boards/{id_board}")
async def get_board(id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep) -> TrelloJSON:
    board = world.find_board(id_board)
    body = fields_of(
        world.board_json(board),
        params,
        all_fields=render.BOARD_FIELDS,
        default=render.BOARD_DEFAULT,
    )
    lists_filter = params.choice("lists", boards.LIST_FILTERS, "none")
    if lists_filter != "none":
        found = boards.board_lists(world, board, lists_filter)
        body["lists"] = lists_json(world, found, params, name="list_fields")
    cards_filter = params.choice("cards", boards.CARD_FILTERS, "none")
    if cards_filter != "none":
        found = boards.board_cards(world, board, cards_filter)
        body["cards"] = cards_json(world, found, params, name="card_fields")
    if params.choice("labels", ("all", "none"), "none") == "all":
        uses = labels.uses_of(world, board)
        body["labels"] = [
            render_parts.label_json(x, uses=uses.get(x["id"], 0))
            for x in labels.board_labels(world, board)
        ]
    if params.choice("members", ("all", "none"), "none") == "all":
        body["members"] = members_body(world, memberships.board_members(world, board), Params({}))
    if params.flag("customFields", False):
        body["customFields"] = [
            customfields.field_json(f) for f in customfields.board_fields(world, board)
        ]
    if params.flag("organization", False) and board["idOrganization"]:
        org = world.organizations.get(board["idOrganization"])
        if org:
            body["organization"] = fields_of(
                world.organization_json(org),
                params,
                all_fields=render.ORGANIZATION_FIELDS,
                default=render.ORGANIZATION_FIELDS,
                name="organization_fields",
            )
    return answer(body)


@router.put("/boards/{id_board}")
async def update_board(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    changes: dict[str, Any] = {}
    if params.has("name"):
        changes["name"] = params.text("name", min_len=1, required=True)
    if params.has("desc"):
        changes["desc"] = params.text("desc", max_len=MAX_TEXT) or ""
    if params.has("closed"):
        changes["closed"] = params.boolean("closed")
    if params.has("idOrganization"):
        changes["idOrganization"] = _organization_param(world, params, "idOrganization")
    for key in ("prefs/permissionLevel", "prefs_permissionLevel"):
        if params.has(key):
            changes["permissionLevel"] = params.text(key, required=True)
    params.boolean("subscribed")  # accepted and checked; the sandbox keeps no subscriptions
    board = boards.update_board(world, auth.member, board, changes)
    return answer(render.select(world.board_json(board), render.BOARD_WRITE))


@router.delete("/boards/{id_board}")
async def delete_board(id_board: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    boards.delete_board(world, auth.member, world.find_board(id_board))
    return answer(DELETED)


@router.get("/boards/{id_board}/lists")
async def get_board_lists(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    found = boards.board_lists(world, board, params.choice("filter", boards.LIST_FILTERS, "open"))
    body = lists_json(world, found, params)
    cards_filter = params.choice("cards", boards.LIST_FILTERS, "none")
    if cards_filter != "none":
        for lst, item in zip(found, body, strict=True):
            item["cards"] = cards_json(
                world, lists.list_cards(world, lst, cards_filter), params, name="card_fields"
            )
    return answer(body)


@router.get("/boards/{id_board}/lists/{filter_}")
async def get_board_lists_filtered(
    id_board: str, filter_: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    if filter_ not in boards.LIST_FILTERS:
        raise not_found()
    return answer(lists_json(world, boards.board_lists(world, board, filter_), params))


@router.post("/boards/{id_board}/lists")
async def create_board_list(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    name = params.text("name", min_len=1, required=True)
    assert name is not None
    lst = lists.create_list(
        world, auth.member, board, name=name, pos=params.pos(), default_pos="top"
    )
    return answer(render.select(world.list_json(lst), (*render.LIST_STANDARD, "limits")))


@router.get("/boards/{id_board}/cards")
async def get_board_cards(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    filter_ = params.choice("filter", boards.CARD_FILTERS, "visible")
    return answer(_cards_window(world, boards.board_cards(world, board, filter_), params))


@router.get("/boards/{id_board}/cards/{filter_}")
async def get_board_cards_filtered(
    id_board: str, filter_: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    if filter_ in boards.CARD_FILTERS:
        return answer(_cards_window(world, boards.board_cards(world, board, filter_), params))
    if not (is_object_id(filter_) or is_short_link(filter_)):
        raise not_found()  # neither a filter nor a card: an unknown route
    # GET /boards/{id}/cards/{idCard}: one card of this board.
    card = world.find_card(filter_)
    if card["idBoard"] != board["id"]:
        raise not_found()
    return answer(card_body(world, card, params))


def _cards_window(world: World, cards: list[dict], params: Params) -> list:
    """``limit`` with ``since``/``before`` pages cards by id (creation) as Trello does:
    with ``before``, newest first, so the last card's id is the next page's ``before``;
    otherwise oldest first, so the last card's id is the next page's ``since``. Without any
    of the three, every card comes back in board order."""
    if params.has("since") or params.has("before") or params.has("limit"):
        query = feeds.parse_feed_query(params)
        cards = sorted(
            (
                c
                for c in cards
                if (query.since is None or query.since.after(_bound_view(c)))
                and (query.before is None or query.before.before(_bound_view(c)))
            ),
            key=lambda c: c["id"],
            reverse=query.before is not None,
        )
        if params.has("limit"):
            cards = cards[: query.limit]
    found = cards_json(world, cards, params)
    # Nested parts a board's card list may ask for (TRELLO_API.md §6, GET /boards/{id}/cards).
    for card, body in zip(cards, found, strict=True):
        body.update(nested_parts(world, card, params))
    return found


def _bound_view(card: dict) -> dict:
    """What a ``since``/``before`` bound compares: the id and its creation time."""
    return {"id": card["id"], "date": _created(card)}


def _created(card: dict) -> str:
    return format_timestamp(id_time(card["id"]))


@router.get("/boards/{id_board}/actions")
async def get_board_actions(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    query = feeds.parse_feed_query(params)
    return feed_answer(world, feeds.board_feed(world, board, query), params)


@router.get("/boards/{id_board}/{field}")
async def get_board_field(id_board: str, field: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    found = value_answer(world.board_json(world.find_board(id_board)), field)
    if found is None:
        raise not_found()
    return found
