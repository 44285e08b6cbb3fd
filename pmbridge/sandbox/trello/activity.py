"""What every change to a card's parts shares: the card and board an action names, and the
card's and board's ``dateLastActivity``."""

from __future__ import annotations

from pmbridge.sandbox.trello.world import World


def card_data(world: World, card: dict) -> dict:
    """``data.card`` and ``data.board`` of an action on a card's labels, members, checklists…"""
    return {
        "card": world.card_stub(card),
        "board": world.board_stub(world.boards[card["idBoard"]]),
    }


def touch(world: World, card: dict, now: float) -> None:
    """A change on the card is activity on the card and its board."""
    card["dateLastActivity"] = world.timestamp(now)
    world.boards[card["idBoard"]]["dateLastActivity"] = card["dateLastActivity"]
