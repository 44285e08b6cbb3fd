"""Which feeds a hint-prompted cycle reads: the boards and resources the deliveries named.

A Trello delivery names its board, so its cycle reads that board's action feed alone (cards
and comments); a Custompms notification names its resource, so its cycle reads that
resource's change feed alone. Deliveries in one debounce window are merged. A hint that
names nothing (the dashboard's "Retry now", a change no feed shows) makes the cycle read
everything, as the periodic cycle always does — so a missed delivery is only late.

Spread over ticks, the periodic reconcile reads a slice of the linked boards at a time
(``SpreadReads``, choosing from ``spread_choices``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmbridge.engine.context import Targets
from pmbridge.records import Side
from pmbridge.serve.receiver import Hint
from pmbridge.systems.custompms.values import kind_of

if TYPE_CHECKING:
    from pmbridge.wiring import Runtime

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


class SpreadReads:
    """The periodic reconcile spread over its interval (serve with webhooks): the interval is
    divided into ``ticks`` ticks and each tick runs a targeted cycle, so Trello's budget is
    never spent in one burst and writes keep theirs.

    The first tick of a pass reads the Trello listings (workspaces, boards: a few calls) and
    the Custompms feeds; each other tick reads the card and comment feeds of the next slice
    of the linked boards (taken when the pass starts, each board in exactly one slice) and the
    Custompms feeds again (cheap: one page when nothing changed). Every ``full_every``-th pass
    is one whole full reconcile instead, at the pass's start (a burst, once in
    ``full_every`` intervals), and its other ticks read nothing.

    :param ticks: ticks per interval (at least 2: one for the listings, one for the boards)
    :param full_every: every this-many-th pass is a full reconcile (0: never)
    """

    def __init__(self, ticks: int, full_every: int):
        if ticks < 2:
            raise ValueError("spreading needs at least 2 ticks per interval")
        self.ticks = ticks
        self.full_every = full_every
        self.passes = 0
        self._tick = 0
        self._slices: list[frozenset[str]] = []
        self._whole = False

    def next(
        self, boards: set[str], trello_kinds: set[str], custompms_kinds: set[str]
    ) -> tuple[Targets | None, bool] | None:
        """What this tick reads: (targets, full) — targets None: everything — or None when
        nothing (the rest of a full pass). ``boards``: the linked boards now; the kinds: those
        the flows sync."""
        tick, self._tick = self._tick, (self._tick + 1) % self.ticks
        if tick == 0:
            self.passes += 1
            self._whole = bool(self.full_every) and self.passes % self.full_every == 0
            ordered = sorted(boards)
            slices = self.ticks - 1
            self._slices = [
                frozenset(ordered[i * len(ordered) // slices : (i + 1) * len(ordered) // slices])
                for i in range(slices)
            ]
            if self._whole:
                return None, True
        if self._whole:
            return None
        custompms: dict[Side, frozenset[str]] = {"custompms": frozenset(custompms_kinds)}
        if tick == 0:
            return Targets(
                {"trello": frozenset(trello_kinds - TRELLO_BOARD_KINDS), **custompms}
            ), False
        chunk = self._slices[tick - 1]
        if not chunk:
            return Targets(custompms), False
        kinds: dict[Side, frozenset[str]] = {
            "trello": frozenset(trello_kinds & TRELLO_BOARD_KINDS),
            **custompms,
        }
        return Targets(kinds, {"trello": chunk}), False


def linked_boards(runtime: Runtime) -> set[str]:
    """The Trello boards linked now by the flows that sync boards."""
    return {
        link.trello_id
        for flow in runtime.flow_file.flows
        if flow.trello == "board"
        for link in runtime.store.links(flow.name)
    }


def spread_choices(runtime: Runtime) -> tuple[set[str], set[str], set[str]]:
    """What ``SpreadReads.next`` chooses from: the linked boards now, and the Trello and
    Custompms kinds the flows sync."""
    flows = runtime.flow_file.flows
    return linked_boards(runtime), {f.trello for f in flows}, {f.custompms for f in flows}
