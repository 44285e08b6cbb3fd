"""Positions of lists on a board and cards in a list, as Trello keeps them.

New items go ``bottom`` (or ``top``) 16384 apart; a client inserting between two items
sends their midpoint. When an item lands on or too near a sibling, Trello renumbers the
siblings, so clients must re-read ``pos`` after writing it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

GAP = 16384.0
MIN_GAP = 0.01


def new_position(siblings: Iterable[float], pos: str | float | None, default: str) -> float:
    """Where an item asked to be at ``pos`` goes among ``siblings`` (the others' positions)."""
    taken = list(siblings)
    wanted = default if pos is None else pos
    if wanted == "bottom":
        return max(taken) + GAP if taken else GAP
    if wanted == "top":
        return min(taken) / 2 if taken else GAP
    return float(wanted)


def respace_if_crowded(items: list[dict], moved: dict) -> None:
    """Renumber ``items`` (which include ``moved``) GAP apart when two sit too close.

    Among equal positions the moved item goes first, as the client asked for that spot.
    """
    ordered = sorted(items, key=lambda item: (item["pos"], item is not moved))
    crowded = any(b["pos"] - a["pos"] < MIN_GAP for a, b in itertools.pairwise(ordered))
    if crowded:
        for number, item in enumerate(ordered, start=1):
            item["pos"] = number * GAP


def wire_pos(pos: float) -> float | int:
    """Trello prints whole positions without a fraction (``16384``, not ``16384.0``)."""
    return int(pos) if float(pos).is_integer() else pos
