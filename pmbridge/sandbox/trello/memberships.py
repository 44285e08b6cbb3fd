"""Who is on a board and on its cards: board members and their types, card members.

Actions as Trello records them: ``addMemberToBoard`` (``data.idMemberAdded``,
``data.memberType``), ``removeMemberFromBoard`` (``data.idMember``); ``addMemberToCard`` and
``removeMemberFromCard`` with ``data.card``, ``data.board``, ``data.idMember`` and
``data.member`` ``{id, name}``. Only a member of the card's board can be put on a card.
"""

from __future__ import annotations

from pmbridge.sandbox.trello.activity import card_data, touch
from pmbridge.sandbox.trello.answers import TrelloHTTPError, invalid_value
from pmbridge.sandbox.trello.ids import is_object_id
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.world import World

MEMBER_TYPES = ("admin", "normal", "observer")
ALREADY_ON_CARD = "that member is already on the card"


def member_type(board: dict, member_id: str) -> str:
    """A board member's type; the sandbox's older saved boards made everyone an admin."""
    return board.get("memberTypes", {}).get(member_id, "admin")


def board_members(world: World, board: dict) -> list[Member]:
    with world.lock:
        return [world.members[i] for i in board["memberships"] if i in world.members]


def member_param(world: World, value: object, param: str) -> Member:
    """A known member named by id; 400 ``invalid value for <param>`` otherwise."""
    if not isinstance(value, str) or not is_object_id(value):
        raise invalid_value(param)
    member = world.members.get(value.lower())
    if member is None:
        raise invalid_value(param)
    return member


def set_board_member(world: World, actor: Member, board: dict, member: Member, kind: str) -> None:
    """Add ``member`` to the board as ``kind`` (or change their type)."""
    if kind not in MEMBER_TYPES:
        raise invalid_value("type")
    with world.transaction():
        types = board.setdefault("memberTypes", {})
        now = world.now()
        if member.id in board["memberships"]:
            types[member.id] = kind
            return
        board["memberships"][member.id] = world.ids.new_id(now)
        types[member.id] = kind
        board["dateLastActivity"] = world.timestamp(now)
        data = {"board": world.board_stub(board), "idMemberAdded": member.id, "memberType": kind}
        world.record(actor, "addMemberToBoard", data, now)


def remove_board_member(world: World, actor: Member, board: dict, member: Member) -> None:
    """Take ``member`` off the board and off its cards."""
    if member.id not in board["memberships"]:
        raise invalid_value("idMember")
    admins = [i for i in board["memberships"] if member_type(board, i) == "admin"]
    if admins == [member.id]:
        raise TrelloHTTPError(403, "cannot remove the last admin of a board")
    with world.transaction():
        now = world.now()
        del board["memberships"][member.id]
        board.get("memberTypes", {}).pop(member.id, None)
        for card in world.cards.values():
            if card["idBoard"] == board["id"] and member.id in card["idMembers"]:
                remove_card_member(world, actor, card, member)
        board["dateLastActivity"] = world.timestamp(now)
        data = {"board": world.board_stub(board), "idMember": member.id}
        world.record(actor, "removeMemberFromBoard", data, now)


def check_card_member(world: World, card: dict, member: Member, param: str) -> None:
    if member.id not in world.boards[card["idBoard"]]["memberships"]:
        raise invalid_value(param)


def add_card_member(world: World, actor: Member, card: dict, member: Member) -> None:
    check_card_member(world, card, member, "idMember")
    with world.transaction():
        if member.id in card["idMembers"]:
            raise TrelloHTTPError(400, ALREADY_ON_CARD)
        card["idMembers"].append(member.id)
        _record(world, actor, card, member, "addMemberToCard")


def remove_card_member(world: World, actor: Member, card: dict, member: Member) -> None:
    with world.transaction():
        if member.id not in card["idMembers"]:
            raise invalid_value("idMember")
        card["idMembers"].remove(member.id)
        _record(world, actor, card, member, "removeMemberFromCard")


def set_card_members(world: World, actor: Member, card: dict, member_ids: list[str]) -> None:
    """``PUT /cards/{id}`` with ``idMembers``: one add or remove action per member changed."""
    wanted = [member_param(world, i, "idMembers") for i in dict.fromkeys(member_ids)]
    for member in wanted:
        check_card_member(world, card, member, "idMembers")
    with world.transaction():
        for member_id in list(card["idMembers"]):
            if member_id not in {m.id for m in wanted}:
                remove_card_member(world, actor, card, world.members[member_id])
        for member in wanted:
            if member.id not in card["idMembers"]:
                add_card_member(world, actor, card, member)


def _record(world: World, actor: Member, card: dict, member: Member, action_type: str) -> None:
    now = world.now()
    touch(world, card, now)
    data = {
        **card_data(world, card),
        "idMember": member.id,
        "member": {"id": member.id, "name": member.full_name},
    }
    world.record(actor, action_type, data, now)
