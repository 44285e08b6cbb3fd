"""Labels: a board's labels (create, rename, recolour, delete) and the labels on its cards.

Actions as Trello records them: ``createLabel``, ``updateLabel`` (with ``data.old``) and
``deleteLabel`` carry ``data.board`` and ``data.label``; ``addLabelToCard`` and
``removeLabelFromCard`` carry ``data.card``, ``data.board``, ``data.label`` and, as real
payloads do, the label's name in ``data.text`` and its colour in ``data.value``.
"""

from __future__ import annotations

from typing import Any

from pmbridge.sandbox.trello.activity import card_data, touch
from pmbridge.sandbox.trello.answers import TrelloHTTPError, invalid_value
from pmbridge.sandbox.trello.ids import is_object_id
from pmbridge.sandbox.trello.params import MAX_TEXT, Params
from pmbridge.sandbox.trello.render import LABEL_COLORS, Member
from pmbridge.sandbox.trello.world import World

# Trello's label colours (the spec's Color); None is a colourless label.
COLORS = ("yellow", "purple", "blue", "red", "green", "orange", "black", "sky", "pink", "lime")
ALREADY_ON_CARD = "that label is already on the card"


def find_label(world: World, label_id: str) -> dict:
    return world.find_in(world.labels, label_id)


def read_color(params: Params, *, required: bool) -> tuple[bool, str | None]:
    """(given, colour): a colour name, or None for ``null``/empty (a colourless label)."""
    if not params.has("color"):
        if required:
            raise invalid_value("color")
        return False, None
    value = params.raw("color")
    if value is None or str(value).strip().lower() in ("", "null", "none"):
        return True, None
    if str(value) not in COLORS:
        raise invalid_value("color")
    return True, str(value)


def read_name(params: Params, *, required: bool) -> str | None:
    name = params.text("name", max_len=MAX_TEXT)
    if name is None and required:
        raise invalid_value("name")
    return name


def label_stub(label: dict) -> dict:
    return {"id": label["id"], "name": label["name"], "color": label["color"]}


def add_default_labels(world: World, board: dict, now: float) -> None:
    """The six colourless-named labels a new board starts with (no actions recorded)."""
    for color in LABEL_COLORS:
        label = {"id": world.ids.new_id(now), "idBoard": board["id"], "name": "", "color": color}
        world.labels[label["id"]] = label


def board_labels(world: World, board: dict) -> list[dict]:
    with world.lock:
        return [x for x in world.labels.values() if x["idBoard"] == board["id"]]


def uses_of(world: World, board: dict) -> dict[str, int]:
    """How many cards carry each of the board's labels."""
    counts: dict[str, int] = {}
    with world.lock:
        for card in world.cards.values():
            if card["idBoard"] == board["id"]:
                for label_id in card.get("idLabels", ()):
                    counts[label_id] = counts.get(label_id, 0) + 1
    return counts


def create_label(world: World, actor: Member, board: dict, *, name: str, color: str | None) -> dict:
    with world.transaction():
        now = world.now()
        label = {"id": world.ids.new_id(now), "idBoard": board["id"], "name": name, "color": color}
        world.labels[label["id"]] = label
        board["dateLastActivity"] = world.timestamp(now)
        world.record(
            actor,
            "createLabel",
            {"board": world.board_stub(board), "label": label_stub(label)},
            now,
        )
    return label


def update_label(world: World, actor: Member, label: dict, changes: dict[str, Any]) -> dict:
    """Apply ``changes``: ``name`` and/or ``color``."""
    with world.transaction():
        old = {k: label[k] for k, v in changes.items() if label[k] != v}
        if not old:
            return label
        now = world.now()
        label.update({k: changes[k] for k in old})
        board = world.boards[label["idBoard"]]
        board["dateLastActivity"] = world.timestamp(now)
        world.record(
            actor,
            "updateLabel",
            {"board": world.board_stub(board), "label": label_stub(label), "old": old},
            now,
        )
    return label


def delete_label(world: World, actor: Member, label: dict) -> None:
    """Delete the label; it leaves every card that carried it."""
    with world.transaction():
        now = world.now()
        for card in world.cards.values():
            if label["id"] in card.get("idLabels", ()):
                card["idLabels"].remove(label["id"])
        world.labels.pop(label["id"], None)
        board = world.boards[label["idBoard"]]
        board["dateLastActivity"] = world.timestamp(now)
        world.record(
            actor,
            "deleteLabel",
            {"board": world.board_stub(board), "label": {"id": label["id"]}},
            now,
        )


def label_for_card(world: World, card: dict, label_id: object, param: str = "value") -> dict:
    """The board label ``label_id`` names, or 400 ``invalid value for idLabel``."""
    if not isinstance(label_id, str) or not is_object_id(label_id):
        raise invalid_value(param)
    label = world.labels.get(label_id.lower())
    if label is None or label["idBoard"] != card["idBoard"]:
        raise invalid_value("idLabel")
    return label


def add_label_to_card(world: World, actor: Member, card: dict, label: dict) -> None:
    with world.transaction():
        labels = card.setdefault("idLabels", [])
        if label["id"] in labels:
            raise TrelloHTTPError(400, ALREADY_ON_CARD)
        labels.append(label["id"])
        _record_card_label(world, actor, card, label, "addLabelToCard")


def remove_label_from_card(world: World, actor: Member, card: dict, label: dict) -> None:
    with world.transaction():
        labels = card.setdefault("idLabels", [])
        if label["id"] not in labels:
            raise invalid_value("idLabel")
        labels.remove(label["id"])
        _record_card_label(world, actor, card, label, "removeLabelFromCard")


def set_card_labels(world: World, actor: Member, card: dict, label_ids: list[str]) -> None:
    """``PUT /cards/{id}`` with ``idLabels``: one add or remove action per label changed."""
    wanted = [label_for_card(world, card, i, "idLabels") for i in dict.fromkeys(label_ids)]
    with world.transaction():
        current = list(card.get("idLabels", ()))
        for label_id in current:
            if label_id not in {x["id"] for x in wanted} and label_id in world.labels:
                remove_label_from_card(world, actor, card, world.labels[label_id])
        for label in wanted:
            if label["id"] not in card.get("idLabels", ()):
                add_label_to_card(world, actor, card, label)


def _record_card_label(
    world: World, actor: Member, card: dict, label: dict, action_type: str
) -> None:
    now = world.now()
    touch(world, card, now)
    data = {
        **card_data(world, card),
        "label": label_stub(label),
        "text": label["name"],
        "value": label["color"],
    }
    world.record(actor, action_type, data, now)
