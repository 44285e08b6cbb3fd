"""Lists: create, rename, archive, reposition, move to another board. Lists have no delete."""

from __future__ import annotations

from typing import Any

from pmbridge.sandbox.trello.positions import new_position, respace_if_crowded
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.world import World


def _siblings(world: World, board_id: str, except_id: str | None = None) -> list[dict]:
    return [
        lst for lst in world.lists.values() if lst["idBoard"] == board_id and lst["id"] != except_id
    ]


def create_list(
    world: World,
    actor: Member,
    board: dict,
    *,
    name: str,
    pos: str | float | None = None,
    default_pos: str = "bottom",
) -> dict:
    with world.transaction():
        now = world.now()
        siblings = _siblings(world, board["id"])
        lst = {
            "id": world.ids.new_id(now),
            "name": name,
            "closed": False,
            "idBoard": board["id"],
            "pos": new_position((s["pos"] for s in siblings), pos, default_pos),
        }
        world.lists[lst["id"]] = lst
        respace_if_crowded([*siblings, lst], lst)
        board["dateLastActivity"] = world.timestamp(now)
        world.record(
            actor,
            "createList",
            {"list": world.list_stub(lst), "board": world.board_stub(board)},
            now,
        )
    return lst


def update_list(world: World, actor: Member, lst: dict, changes: dict[str, Any]) -> dict:
    """Apply ``changes``: name, closed, pos, board (a board dict to move the list to)."""
    target = changes.pop("board", None)
    with world.transaction():
        now = world.now()
        source = world.boards[lst["idBoard"]]
        moving = target is not None and target["id"] != source["id"]
        if moving:
            _move_to_board(world, actor, lst, source, target, changes.get("pos"), now)
        if "pos" in changes:
            if not moving:
                siblings = _siblings(world, lst["idBoard"], except_id=lst["id"])
                changes["pos"] = new_position(
                    (s["pos"] for s in siblings), changes["pos"], "bottom"
                )
            else:
                changes.pop("pos")
        old = {k: lst[k] for k, v in changes.items() if lst[k] != v}
        if not old:
            return lst
        for key in old:
            lst[key] = changes[key]
        if "pos" in old:
            respace_if_crowded(_siblings(world, lst["idBoard"]), lst)
        board = world.boards[lst["idBoard"]]
        board["dateLastActivity"] = world.timestamp(now)
        world.record(
            actor,
            "updateList",
            {
                "list": {**world.list_stub(lst), **{k: lst[k] for k in old}},
                "board": world.board_stub(board),
                "old": old,
            },
            now,
        )
    return lst


def _move_to_board(
    world: World,
    actor: Member,
    lst: dict,
    source: dict,
    target: dict,
    pos: str | float | None,
    now: float,
) -> None:
    siblings = _siblings(world, target["id"], except_id=lst["id"])
    lst["idBoard"] = target["id"]
    lst["pos"] = new_position((s["pos"] for s in siblings), pos, "bottom")
    respace_if_crowded([*siblings, lst], lst)
    for card in world.cards.values():
        if card["idList"] == lst["id"]:
            card["idBoard"] = target["id"]
            world.next_id_short[target["id"]] = world.next_id_short.get(target["id"], 0) + 1
            card["idShort"] = world.next_id_short[target["id"]]
    for board in (source, target):
        board["dateLastActivity"] = world.timestamp(now)
    stub = world.list_stub(lst)
    world.record(
        actor,
        "moveListFromBoard",
        {"list": stub, "board": world.board_stub(source), "boardTarget": {"id": target["id"]}},
        now,
    )
    world.record(
        actor,
        "moveListToBoard",
        {"list": stub, "board": world.board_stub(target), "boardSource": {"id": source["id"]}},
        now,
    )


def list_cards(world: World, lst: dict, filter_: str = "open") -> list[dict]:
    with world.lock:
        cards = [c for c in world.cards.values() if c["idList"] == lst["id"]]
    if filter_ == "open":
        cards = [c for c in cards if not c["closed"]]
    elif filter_ == "closed":
        cards = [c for c in cards if c["closed"]]
    elif filter_ == "none":
        cards = []
    return sorted(cards, key=lambda c: (c["pos"], c["id"]))
