"""Boards: create (with Trello's default lists), change, delete, and read their lists and cards."""

from __future__ import annotations

from typing import Any

from pmbridge.sandbox.trello.answers import invalid_value
from pmbridge.sandbox.trello.labels import add_default_labels
from pmbridge.sandbox.trello.positions import GAP
from pmbridge.sandbox.trello.render import LABEL_COLORS, Member
from pmbridge.sandbox.trello.world import World

PERMISSION_LEVELS = ("org", "private", "public")
DEFAULT_LISTS = ("To Do", "Doing", "Done")
LIST_FILTERS = ("all", "closed", "none", "open")
CARD_FILTERS = ("all", "closed", "none", "open", "visible", "complete", "incomplete")


def create_board(
    world: World,
    actor: Member,
    *,
    name: str,
    desc: str = "",
    organization: dict | None = None,
    default_lists: bool = True,
    default_labels: bool = True,
    permission_level: str = "private",
) -> dict:
    if permission_level not in PERMISSION_LEVELS:
        raise invalid_value("prefs_permissionLevel")
    if permission_level == "org" and organization is None:
        raise invalid_value("prefs_permissionLevel")
    with world.transaction():
        now = world.now()
        board_id = world.ids.new_id(now)
        board = {
            "id": board_id,
            "name": name,
            "desc": desc,
            "closed": False,
            "dateClosed": None,
            "idOrganization": organization["id"] if organization else None,
            "idMemberCreator": actor.id,
            "shortLink": world.new_short_link(),
            "permissionLevel": permission_level,
            "labelNames": {color: "" for color in LABEL_COLORS} if default_labels else {},
            "memberships": {actor.id: world.ids.new_id(now)},
            "dateLastActivity": world.timestamp(now),
            "ixUpdate": 1,
        }
        world.boards[board_id] = board
        world.register_short_link(board["shortLink"], board_id)
        world.next_id_short[board_id] = 0
        data: dict[str, Any] = {"board": world.board_stub(board)}
        if organization:
            data["organization"] = world.organization_stub(organization)
        world.record(actor, "createBoard", data, now)
        if default_labels:
            add_default_labels(world, board, now)
        if default_lists:
            for number, list_name in enumerate(DEFAULT_LISTS, start=1):
                lst = {
                    "id": world.ids.new_id(now),
                    "name": list_name,
                    "closed": False,
                    "idBoard": board_id,
                    "pos": number * GAP,
                }
                world.lists[lst["id"]] = lst
                world.record(
                    actor,
                    "createList",
                    {"list": world.list_stub(lst), "board": world.board_stub(board)},
                    now,
                )
    return board


def update_board(world: World, actor: Member, board: dict, changes: dict[str, Any]) -> dict:
    """Apply ``changes``: name, desc, closed, idOrganization (an org dict or None),
    permissionLevel."""
    if "permissionLevel" in changes and changes["permissionLevel"] not in PERMISSION_LEVELS:
        raise invalid_value("prefs/permissionLevel")
    if "idOrganization" in changes:
        org = changes["idOrganization"]
        changes["idOrganization"] = org["id"] if org else None
    with world.transaction():
        old = {k: board[k] for k, v in changes.items() if board[k] != v}
        if not old:
            return board
        level = changes.get("permissionLevel", board["permissionLevel"])
        if level == "org" and changes.get("idOrganization", board["idOrganization"]) is None:
            raise invalid_value("prefs/permissionLevel")
        now = world.now()
        for key in old:
            board[key] = changes[key]
        if "closed" in old:
            board["dateClosed"] = world.timestamp(now) if board["closed"] else None
        board["dateLastActivity"] = world.timestamp(now)
        board["ixUpdate"] += 1
        new_values = {k: changes[k] for k in old if k != "permissionLevel"}
        old_values = {k: v for k, v in old.items() if k != "permissionLevel"}
        if "permissionLevel" in old:
            new_values["prefs"] = {"permissionLevel": changes["permissionLevel"]}
            old_values["prefs"] = {"permissionLevel": old["permissionLevel"]}
        data: dict[str, Any] = {
            "board": {**world.board_stub(board), **new_values},
            "old": old_values,
        }
        org = world.organizations.get(board["idOrganization"] or "")
        if org:
            data["organization"] = world.organization_stub(org)
        world.record(actor, "updateBoard", data, now)
    return board


def delete_board(world: World, actor: Member, board: dict) -> None:
    """Delete a board with its lists, cards and actions (Trello deletes them too)."""
    board_id = board["id"]
    with world.transaction():
        for card in [c for c in world.cards.values() if c["idBoard"] == board_id]:
            world.forget_short_link(card["shortLink"])
            del world.cards[card["id"]]
        for table in (world.lists, world.labels, world.checklists, world.custom_fields):
            for object_id in [i for i, item in table.items() if _board_of(item) == board_id]:
                del table[object_id]
        for attachment_id in [
            i for i, a in world.attachments.items() if a["idCard"] not in world.cards
        ]:
            del world.attachments[attachment_id]
        for action in [
            a for a in world.actions.values() if a["data"].get("board", {}).get("id") == board_id
        ]:
            world.drop_action(action["id"])
        world.forget_short_link(board["shortLink"])
        world.boards.pop(board_id, None)
        world.next_id_short.pop(board_id, None)


def _board_of(item: dict) -> str | None:
    return item.get("idBoard") or item.get("idModel")


def board_lists(world: World, board: dict, filter_: str = "open") -> list[dict]:
    if filter_ == "none":
        return []
    with world.lock:
        lists = [lst for lst in world.lists.values() if lst["idBoard"] == board["id"]]
    if filter_ == "open":
        lists = [lst for lst in lists if not lst["closed"]]
    elif filter_ == "closed":
        lists = [lst for lst in lists if lst["closed"]]
    return sorted(lists, key=lambda lst: (lst["pos"], lst["id"]))


def board_cards(world: World, board: dict, filter_: str = "visible") -> list[dict]:
    """The board's cards for a card filter, in list order then card order."""
    if filter_ == "none":
        return []
    with world.lock:
        list_pos = {
            lst["id"]: (lst["pos"], lst["closed"])
            for lst in world.lists.values()
            if lst["idBoard"] == board["id"]
        }
        cards = [c for c in world.cards.values() if c["idBoard"] == board["id"]]
    tests = {
        "all": lambda c: True,
        "open": lambda c: not c["closed"],
        "closed": lambda c: c["closed"],
        "visible": lambda c: not c["closed"] and not list_pos.get(c["idList"], (0, False))[1],
        "complete": lambda c: c["dueComplete"] and not c["closed"],
        "incomplete": lambda c: not c["dueComplete"] and not c["closed"],
    }
    chosen = [c for c in cards if tests[filter_](c)]
    return sorted(
        chosen, key=lambda c: (list_pos.get(c["idList"], (0.0, False))[0], c["pos"], c["id"])
    )
