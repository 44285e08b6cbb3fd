"""Members of boards, cards and workspaces: ``/1/boards/{id}/members`` and ``/memberships``,
``/1/cards/{id}/idMembers``, ``/1/organizations/{id}/members``, a member's cards and
notifications."""

from __future__ import annotations

from fastapi import APIRouter

from pmbridge.sandbox.trello import boards, memberships, render
from pmbridge.sandbox.trello.answers import TrelloJSON
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import Params, ParamsDep
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.routes.common import WorldDep, answer, card_body, fields_of
from pmbridge.sandbox.trello.world import World

router = APIRouter(tags=["people"])

# GET /boards/{id}/members and /cards/{id}/members answer these fields unless asked for more.
MEMBER_LIST_DEFAULT = ("id", "fullName", "username")
MEMBER_FILTERS = ("all", "admins", "normal", "owners", "none")
MEMBERSHIP_FILTERS = ("all", "admins", "normal", "me", "active")


def members_body(world: World, members: list[Member], params: Params) -> list[dict]:
    return [
        fields_of(
            world.member_json(member),
            params,
            all_fields=render.MEMBER_FIELDS,
            default=MEMBER_LIST_DEFAULT,
        )
        for member in members
    ]


def _card_members(world: World, card: dict) -> list[dict]:
    found = [world.members[i] for i in card["idMembers"] if i in world.members]
    return members_body(world, found, Params({}))


@router.get("/boards/{id_board}/members")
async def get_board_members(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    filter_ = params.choice("filter", MEMBER_FILTERS, "all")
    found = memberships.board_members(world, board)
    if filter_ == "none":
        found = []
    elif filter_ in ("admins", "owners"):
        found = [m for m in found if memberships.member_type(board, m.id) == "admin"]
    elif filter_ == "normal":
        found = [m for m in found if memberships.member_type(board, m.id) == "normal"]
    return answer(members_body(world, found, params))


@router.get("/boards/{id_board}/memberships")
async def get_board_memberships(
    id_board: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    filter_ = params.choice("filter", MEMBERSHIP_FILTERS, "all")
    found = render.board_json(board)["memberships"]
    if filter_ == "admins":
        found = [m for m in found if m["memberType"] == "admin"]
    elif filter_ == "normal":
        found = [m for m in found if m["memberType"] == "normal"]
    elif filter_ == "me":
        found = [m for m in found if m["idMember"] == auth.member.id]
    if params.flag("member", False):
        for membership in found:
            member = world.members[membership["idMember"]]
            membership["member"] = fields_of(
                world.member_json(member),
                params,
                all_fields=render.MEMBER_FIELDS,
                default=MEMBER_LIST_DEFAULT,
                name="member_fields",
            )
    return answer(found)


@router.put("/boards/{id_board}/members/{id_member}")
async def put_board_member(
    id_board: str, id_member: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    member = world.find_member(id_member, auth.member)
    kind = params.choice("type", memberships.MEMBER_TYPES, "normal")
    memberships.set_board_member(world, auth.member, board, member, kind)
    return _board_people(world, board)


@router.delete("/boards/{id_board}/members/{id_member}")
async def delete_board_member(
    id_board: str, id_member: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    board = world.find_board(id_board)
    member = world.find_member(id_member, auth.member)
    memberships.remove_board_member(world, auth.member, board, member)
    return _board_people(world, board)


def _board_people(world: World, board: dict) -> TrelloJSON:
    """What a change of board members answers: the board with its members and memberships."""
    body = render.select(world.board_json(board), ("id", "name", "memberships"))
    body["members"] = members_body(world, memberships.board_members(world, board), Params({}))
    return answer(body)


@router.get("/cards/{id_card}/members")
async def get_card_members(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    found = [world.members[i] for i in card["idMembers"] if i in world.members]
    return answer(members_body(world, found, params))


@router.post("/cards/{id_card}/idMembers")
@router.post("/cards/{id_card}/members")
async def add_card_member(
    id_card: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    member = memberships.member_param(world, params.raw("value"), "value")
    memberships.add_card_member(world, auth.member, card, member)
    return answer(_card_members(world, card))


@router.delete("/cards/{id_card}/idMembers/{id_member}")
@router.delete("/cards/{id_card}/members/{id_member}")
async def remove_card_member(
    id_card: str, id_member: str, auth: AuthDep, world: WorldDep
) -> TrelloJSON:
    card = world.find_card(id_card)
    member = memberships.member_param(world, id_member, "idMember")
    memberships.remove_card_member(world, auth.member, card, member)
    return answer(_card_members(world, card))


@router.get("/members/{id_member}/cards")
async def get_member_cards(
    id_member: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    member = world.find_member(id_member, auth.member)
    filter_ = params.choice("filter", ("all", "closed", "none", "open", "visible"), "visible")
    with world.lock:
        on_boards = [b for b in world.boards.values() if member.id in b["memberships"]]
        found = [
            card
            for board in on_boards
            for card in boards.board_cards(world, board, filter_)
            if member.id in card["idMembers"]
        ]
    return answer([card_body(world, card, params) for card in found])


@router.get("/members/{id_member}/notifications")
async def get_member_notifications(
    id_member: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    """The sandbox sends no notifications: the list is empty, as for a quiet account."""
    world.find_member(id_member, auth.member)
    return answer([])


@router.get("/organizations/{id_org}/memberships")
async def get_organization_memberships(id_org: str, auth: AuthDep, world: WorldDep) -> TrelloJSON:
    """A workspace's memberships, as an array (like a board's)."""
    org = world.find_organization(id_org)
    return answer(world.organization_json(org)["memberships"])


@router.get("/organizations/{id_org}/members")
async def get_organization_members(
    id_org: str, auth: AuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    org = world.find_organization(id_org)
    with world.lock:
        found = [world.members[i] for i in org["memberships"] if i in world.members]
    return answer(members_body(world, found, params))
