"""What a board's action feed says about its cards, decided before anything is fetched.

``fold_card_actions`` applies actions oldest → newest and sorts each card into one of:

- deleted (``deleteCard``): a tombstone, nothing to fetch;
- changed in place (``updateCard``): the new values are in the action (``data.card``, and
  ``data.listAfter`` for list moves), so a partial record is built without a call;
- created (``createCard``): name, list and board are in the action; the card is fetched
  only when the caller does not know it already (a card it created itself is known);
- anything else about a card (``createCard``, ``copyCard``, ``moveCardToBoard``,
  ``moveCardFromBoard``, label/member/checklist changes…): the card must be fetched.

Comment actions are left to the comment read (they change no card field). A renamed or
moved list changes the ``list`` of every card in it without any card action (and a renamed
or deleted label the ``labels`` of every card with it), so such actions ask for the board to
be listed again (``needs_relist``).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pmbridge.systems.trello.convert import CARD_VALUE_PARSERS
from pmbridge.systems.trello.values import parse_datetime

COMMENT_ACTIONS = frozenset({"commentCard", "updateComment", "deleteComment", "copyCommentCard"})
LIST_ACTIONS_THAT_RELIST = frozenset({"moveListToBoard", "moveListFromBoard"})
LIST_ACTIONS = frozenset({"createList", "updateList", "deleteList"})


@dataclass(slots=True)
class CardChange:
    """What the actions read say about one card.

    :param fields: new values carried by ``updateCard`` actions (record field names)
    :param changed_at: when each of those fields changed
    :param fetch: the card must be fetched in full
    :param created: a ``createCard`` was read: fetch the card unless the caller knows it
    :param deleted: the card was deleted
    """

    id: str
    fields: dict[str, Any] = field(default_factory=dict)
    changed_at: dict[str, datetime] = field(default_factory=dict)
    updated_at: datetime | None = None
    fetch: bool = False
    created: bool = False
    deleted: bool = False


def fold_card_actions(actions: Iterable[Mapping[str, Any]]) -> dict[str, CardChange]:
    """Fold actions (of any boards, in any order) into changes per card id."""
    changes: dict[str, CardChange] = {}
    for action in sorted(actions, key=lambda a: (a.get("date") or "", a["id"])):
        kind = action.get("type", "")
        data = action.get("data") or {}
        card = data.get("card")
        if not isinstance(card, Mapping) or "id" not in card or kind in COMMENT_ACTIONS:
            continue
        change = changes.setdefault(card["id"], CardChange(card["id"]))
        when = parse_datetime(action.get("date"))
        change.updated_at = when or change.updated_at
        if kind == "deleteCard":
            change.deleted = True
        elif kind == "updateCard" and "idBoard" not in (data.get("old") or {}):
            _apply_update(change, data, when)
        elif kind == "createCard":
            _apply_create(change, data, when)
        else:
            change.fetch = True
    return changes


def changes_lists(actions: Iterable[Mapping[str, Any]], known: Container[str]) -> bool:
    """Whether a board's actions created, renamed, moved, archived or removed a list, so
    that its lists as cached before are stale. Creating a list already ``known`` (one
    pmbridge made itself) changes nothing."""
    for action in actions:
        kind = action.get("type")
        if kind == "createList":
            made = ((action.get("data") or {}).get("list") or {}).get("id")
            if made in known:
                continue
        if kind in LIST_ACTIONS or kind in LIST_ACTIONS_THAT_RELIST:
            return True
    return False


def needs_relist(actions: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a board's actions renamed or moved a list: its cards' list names changed
    without any card action, so the board's cards must be listed again."""
    for action in actions:
        kind = action.get("type", "")
        if kind in LIST_ACTIONS_THAT_RELIST:
            return True
        if kind == "updateList" and "name" in ((action.get("data") or {}).get("old") or {}):
            return True
        if kind == "deleteLabel" or (
            kind == "updateLabel" and "name" in ((action.get("data") or {}).get("old") or {})
        ):
            return True  # every card with the label now has another set of label names
    return False


def _apply_create(change: CardChange, data: Mapping[str, Any], when: datetime | None) -> None:
    change.created = True
    card, lst, board = data["card"], data.get("list") or {}, data.get("board") or {}
    values = {
        "name": card.get("name"),
        "idList": lst.get("id"),
        "list": lst.get("name"),
        "idBoard": board.get("id"),
    }
    for name, value in values.items():
        if value is not None:
            change.fields[name] = value
            if when:
                change.changed_at[name] = when


def _apply_update(change: CardChange, data: Mapping[str, Any], when: datetime | None) -> None:
    card = data["card"]
    for name in data.get("old") or {}:
        if name in CARD_VALUE_PARSERS:
            change.fields[name] = CARD_VALUE_PARSERS[name](card.get(name))
            if when:
                change.changed_at[name] = when
        elif name == "idList":
            after = data.get("listAfter") or {}
            change.fields["idList"] = after.get("id") or card.get("idList")
            change.fields["list"] = after.get("name")
            if when:
                change.changed_at["idList"] = change.changed_at["list"] = when
