"""Comments: ``commentCard`` actions — the only actions a client may create, edit or delete.

An edit changes the original action's ``data.text`` (and sets ``data.dateLastEdited``) and
records an ``updateComment`` action; a delete removes the comment and records a
``deleteComment`` action. Neither of those two appears in the nested action lists
(TRELLO_API.md §6-§7); webhooks and ``GET /actions/{id}`` see them.
"""

from __future__ import annotations

from pmbridge.sandbox.trello.answers import TrelloHTTPError, invalid_value, not_found
from pmbridge.sandbox.trello.params import MAX_TEXT
from pmbridge.sandbox.trello.render import Member
from pmbridge.sandbox.trello.world import World

NOT_A_COMMENT = "only comment actions can be changed or deleted"
NOT_THE_AUTHOR = "unauthorized permission requested"


def check_text(text: str | None, param: str = "text") -> str:
    if text is None or not 1 <= len(text) <= MAX_TEXT:
        raise invalid_value(param)
    return text


def add_comment(world: World, actor: Member, card: dict, text: str) -> dict:
    check_text(text)
    with world.transaction():
        now = world.now()
        board = world.boards[card["idBoard"]]
        card["dateLastActivity"] = world.timestamp(now)
        board["dateLastActivity"] = card["dateLastActivity"]
        return world.record(
            actor,
            "commentCard",
            {
                "text": text,
                "textData": {"emoji": {}},
                "card": world.card_stub(card),
                "board": world.board_stub(board),
                "list": world.list_stub(world.lists[card["idList"]]),
            },
            now,
        )


def comment_of(world: World, action: dict, actor: Member, card: dict | None = None) -> dict:
    """``action`` if it is a comment the actor wrote (on ``card``, when given)."""
    if card is not None and action["data"].get("card", {}).get("id") != card["id"]:
        raise not_found("model not found")
    if action["type"] != "commentCard":
        raise TrelloHTTPError(400, NOT_A_COMMENT)
    if action["idMemberCreator"] != actor.id:
        raise TrelloHTTPError(401, NOT_THE_AUTHOR)
    return action


def edit_comment(world: World, actor: Member, action: dict, text: str, param: str = "text") -> dict:
    check_text(text, param)
    comment_of(world, action, actor)
    with world.transaction():
        old_text = action["data"]["text"]
        if old_text == text:
            return action
        now = world.now()
        action["data"]["text"] = text
        action["data"]["dateLastEdited"] = world.timestamp(now)
        data = {
            "action": {"id": action["id"], "text": text},
            "old": {"text": old_text},
            "card": dict(action["data"]["card"]),
            "board": dict(action["data"]["board"]),
        }
        card = world.cards.get(action["data"]["card"]["id"])
        if card is not None:
            card["dateLastActivity"] = world.timestamp(now)
            data["card"] = world.card_stub(card)
        world.record(actor, "updateComment", data, now)
    return action


def delete_comment(world: World, actor: Member, action: dict) -> None:
    comment_of(world, action, actor)
    with world.transaction():
        now = world.now()
        data = {
            "action": {"id": action["id"]},
            "card": dict(action["data"]["card"]),
            "board": dict(action["data"]["board"]),
            "list": dict(action["data"].get("list", {})),
        }
        card = world.cards.get(action["data"]["card"]["id"])
        if card is not None:
            data["card"] = world.card_stub(card)
        world.drop_action(action["id"])
        world.record(actor, "deleteComment", data, now)
