"""Cards: create, change, move between lists and boards, delete — each recorded as Trello does.

An ``updateCard`` action carries the changed fields' new values in ``data.card`` and the old
ones in ``data.old``; a move between lists adds ``listBefore``/``listAfter``. A move to another
board records ``moveCardFromBoard`` on the old board and ``moveCardToBoard`` on the new one
(and the card gets the next ``idShort`` of its new board).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pmbridge.sandbox.trello.answers import invalid_value
from pmbridge.sandbox.trello.ids import format_date
from pmbridge.sandbox.trello.positions import new_position, respace_if_crowded
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.world import World

# Fields a PUT may change besides the card's place (list, board, pos).
SIMPLE_FIELDS = ("name", "desc", "closed", "due", "start", "dueComplete")


def wire_date(moment: datetime | None) -> str | None:
    return None if moment is None else format_date(moment)


def _siblings(world: World, list_id: str, except_id: str | None = None) -> list[dict]:
    return [c for c in world.cards.values() if c["idList"] == list_id and c["id"] != except_id]


def _next_id_short(world: World, board_id: str) -> int:
    world.next_id_short[board_id] = world.next_id_short.get(board_id, 0) + 1
    return world.next_id_short[board_id]


def create_card(
    world: World,
    actor: Member,
    lst: dict,
    *,
    name: str = "",
    desc: str = "",
    pos: str | float | None = None,
    due: datetime | None = None,
    start: datetime | None = None,
    due_complete: bool = False,
    closed: bool = False,
    id_members: list[str] | None = None,
    id_labels: list[str] | None = None,
) -> dict:
    _check_members(world, id_members, lst["idBoard"])
    labels = world.labels
    if id_labels and any(
        i not in labels or labels[i]["idBoard"] != lst["idBoard"] for i in id_labels
    ):
        raise invalid_value("idLabels")
    with world.transaction():
        now = world.now()
        board = world.boards[lst["idBoard"]]
        siblings = _siblings(world, lst["id"])
        card = {
            "id": world.ids.new_id(now),
            "name": name,
            "desc": desc,
            "closed": closed,
            "idBoard": board["id"],
            "idList": lst["id"],
            "pos": new_position((c["pos"] for c in siblings), pos, "bottom"),
            "due": wire_date(due),
            "start": wire_date(start),
            "dueComplete": due_complete,
            "dateLastActivity": world.timestamp(now),
            "idShort": _next_id_short(world, board["id"]),
            "shortLink": world.new_short_link(),
            "idMembers": list(dict.fromkeys(id_members or [])),
            "idLabels": list(dict.fromkeys(id_labels or [])),
            "idChecklists": [],
            "idAttachments": [],
        }
        world.cards[card["id"]] = card
        world.register_short_link(card["shortLink"], card["id"])
        respace_if_crowded([*siblings, card], card)
        board["dateLastActivity"] = card["dateLastActivity"]
        world.record(
            actor,
            "createCard",
            {
                "card": world.card_stub(card),
                "list": world.list_stub(lst),
                "board": world.board_stub(board),
            },
            now,
        )
    return card


def _check_members(world: World, id_members: list[str] | None, board_id: str) -> None:
    """Card members must be members of the card's board."""
    on_board = world.boards[board_id]["memberships"]
    if id_members and any(m not in world.members or m not in on_board for m in id_members):
        raise invalid_value("idMembers")


def update_card(world: World, actor: Member, card: dict, changes: dict[str, Any]) -> dict:
    """Apply ``changes``: the SIMPLE_FIELDS (dates as datetimes or None), ``pos``, and the
    destination as ``list`` and/or ``board`` (dicts)."""
    for key in ("due", "start"):
        if key in changes:
            changes[key] = wire_date(changes[key])
    with world.transaction():
        now = world.now()
        source_board = world.boards[card["idBoard"]]
        source_list = world.lists[card["idList"]]
        target_list = _destination(world, card, changes.get("list"), changes.get("board"))
        target_board = world.boards[target_list["idBoard"]]
        old = {k: card[k] for k in SIMPLE_FIELDS if k in changes and card[k] != changes[k]}
        moved_list = target_list["id"] != source_list["id"]
        moved_board = target_board["id"] != source_board["id"]
        new_pos = card["pos"]
        if "pos" in changes or moved_list:
            siblings = _siblings(world, target_list["id"], except_id=card["id"])
            new_pos = new_position((c["pos"] for c in siblings), changes.get("pos"), "bottom")
            if "pos" not in changes:
                new_pos = card["pos"]  # a move without pos keeps the card's position value
        if new_pos != card["pos"]:
            old["pos"] = card["pos"]
        if not old and not moved_list:
            return card
        for key in SIMPLE_FIELDS:
            if key in old:
                card[key] = changes[key]
        card["pos"] = new_pos
        card["idList"] = target_list["id"]
        card["dateLastActivity"] = world.timestamp(now)
        if moved_board:
            card["idBoard"] = target_board["id"]
            card["idShort"] = _next_id_short(world, target_board["id"])
            _carry_parts(world, card, target_board)
        respace_if_crowded(_siblings(world, target_list["id"]), card)
        for board in {source_board["id"]: source_board, target_board["id"]: target_board}.values():
            board["dateLastActivity"] = card["dateLastActivity"]
        if moved_board:
            _record_board_move(world, actor, card, source_board, source_list, target_board, now)
            old.pop("pos", None)
            if old:
                _record_update(world, actor, card, old, target_board, target_list, None, now)
        else:
            before = source_list if moved_list else None
            _record_update(world, actor, card, old, target_board, target_list, before, now)
    return card


def _carry_parts(world: World, card: dict, board: dict) -> None:
    """A card moved to another board takes its checklists along; the old board's labels,
    custom field values and people not on the new board stay behind."""
    for checklist_id in card.get("idChecklists", ()):
        world.checklists[checklist_id]["idBoard"] = board["id"]
    card["idLabels"] = [
        i for i in card.get("idLabels", ()) if world.labels.get(i, {}).get("idBoard") == board["id"]
    ]
    card["idMembers"] = [i for i in card["idMembers"] if i in board["memberships"]]
    card.pop("customFieldItems", None)


def _destination(world: World, card: dict, lst: dict | None, board: dict | None) -> dict:
    """The list the card ends up in."""
    if lst is not None:
        if board is not None and lst["idBoard"] != board["id"]:
            raise invalid_value("idList")
        return lst
    if board is None or board["id"] == card["idBoard"]:
        return world.lists[card["idList"]]
    open_lists = sorted(
        (x for x in world.lists.values() if x["idBoard"] == board["id"] and not x["closed"]),
        key=lambda x: x["pos"],
    )
    if not open_lists:
        raise invalid_value("idBoard")
    return open_lists[0]


def _record_update(
    world: World,
    actor: Member,
    card: dict,
    old: dict[str, Any],
    board: dict,
    lst: dict,
    list_before: dict | None,
    now: float,
) -> None:
    changed = {key: card[key] for key in old}
    data: dict[str, Any] = {"card": {**world.card_stub(card), **changed}, "old": dict(old)}
    data["board"] = world.board_stub(board)
    if list_before is not None:
        data["card"]["idList"] = lst["id"]
        data["old"]["idList"] = list_before["id"]
        data["listBefore"] = world.list_stub(list_before)
        data["listAfter"] = world.list_stub(lst)
    else:
        data["list"] = world.list_stub(lst)
    world.record(actor, "updateCard", data, now)


def _record_board_move(
    world: World,
    actor: Member,
    card: dict,
    source_board: dict,
    source_list: dict,
    target_board: dict,
    now: float,
) -> None:
    stub = world.card_stub(card)
    world.record(
        actor,
        "moveCardFromBoard",
        {
            "card": stub,
            "board": world.board_stub(source_board),
            "boardTarget": {"id": target_board["id"]},
            "list": world.list_stub(source_list),
        },
        now,
    )
    world.record(
        actor,
        "moveCardToBoard",
        {
            "card": dict(stub),
            "board": world.board_stub(target_board),
            "boardSource": {"id": source_board["id"]},
            "list": world.list_stub(world.lists[card["idList"]]),
        },
        now,
    )


def delete_card(world: World, actor: Member, card: dict) -> None:
    """Delete for good (archiving is ``closed=true``); the card answers 404 afterwards."""
    with world.transaction():
        now = world.now()
        board = world.boards[card["idBoard"]]
        lst = world.lists[card["idList"]]
        world.cards.pop(card["id"], None)
        world.forget_short_link(card["shortLink"])
        for checklist_id in card.get("idChecklists", ()):
            world.checklists.pop(checklist_id, None)
        for attachment_id in card.get("idAttachments", ()):
            world.attachments.pop(attachment_id, None)
        board["dateLastActivity"] = world.timestamp(now)
        world.record(
            actor,
            "deleteCard",
            {
                "card": {"id": card["id"], "idShort": card["idShort"]},
                "list": world.list_stub(lst),
                "board": world.board_stub(board),
            },
            now,
        )
