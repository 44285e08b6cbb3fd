"""Which feeds a hint-prompted cycle reads: the boards and resources the deliveries named.

A Trello delivery names its board, so its cycle reads that board's action feed alone (cards
and comments); a Custompms notification names its resource, so its cycle reads that
resource's change feed alone. Deliveries in one debounce window are merged. A hint that
names nothing (the dashboard's "Retry now", a change no feed shows) makes the cycle read
everything, as the periodic cycle always does — so a missed delivery is only late.
"""

from __future__ import annotations

from pmbridge.engine.context import Targets
from pmbridge.records import Side
from pmbridge.serve.receiver import Hint
from pmbridge.systems.custompms.values import kind_of

# What a board's action feed holds: its cards and their comments.
TRELLO_BOARD_KINDS = frozenset({"card", "comment"})


class PendingTargets:
    """The targets of the hints received since the last cycle started."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._boards: set[str] = set()
        self._kinds: set[str] = set()
        self._everything = False

    def add(self, hint: Hint) -> None:
        kind = kind_of(hint.resource or "")
        if hint.full:
            self._everything = True
        elif hint.source == "trello" and hint.board:
            self._boards.add(hint.board)
        elif hint.source == "custompms" and kind is not None:
            self._kinds.add(kind)
        else:
            self._everything = True

    def targets(self) -> Targets | None:
        """What to read; None: everything."""
        if self._everything or not (self._boards or self._kinds):
            return None
        kinds: dict[Side, frozenset[str]] = {}
        containers: dict[Side, frozenset[str]] = {}
        if self._boards:
            kinds["trello"] = TRELLO_BOARD_KINDS
            containers["trello"] = frozenset(self._boards)
        if self._kinds:
            kinds["custompms"] = frozenset(self._kinds)
        return Targets(kinds, containers)
