"""Reading the action feeds of many boards for one cycle, in few calls.

For each board: a board not read before (no position in the cursor) needs its newest action
only, the start of its position; any other board needs every action since its position.
``TrelloClient.boards_actions`` asks for all of them at once, ten boards' pages to a
``/batch`` call, so an idle cycle over 200 boards costs 20 calls, not 200. The answers are
kept for the cycle (by board and position): the card read and the comment read of the same
boards share one read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pmbridge.systems.trello import cursor as cursors
from pmbridge.systems.trello.client import ActionsQuery, TrelloClient
from pmbridge.systems.trello.cursor import BoardPosition

Action = dict[str, Any]

#: (next position, unseen actions, needs a full listing) for one board; the position is
#: ``None`` when the board is gone or hidden from the token: nothing can be said about it,
#: and should it come back it is listed in full again.
BoardRead = tuple[BoardPosition | None, list[Action], bool]


class BoardFeeds:
    """The board feeds of one cycle (``clear`` between cycles)."""

    def __init__(self, client: TrelloClient):
        self.client = client
        self._newest: dict[str, Action | None] = {}
        self._since: dict[tuple[str, BoardPosition], list[Action]] = {}
        self._gone: set[str] = set()

    def clear(self) -> None:
        self._newest.clear()
        self._since.clear()
        self._gone.clear()

    async def read(
        self,
        boards: Sequence[str],
        positions: Mapping[str, BoardPosition],
        *,
        full: bool = False,
    ) -> list[BoardRead]:
        """What each board's feed says since its position. A full read of a board read
        before also reads its actions since: they tell a person's edits (a card dragged:
        ``pos``) from what Trello changed by itself."""
        await self._fetch(boards, positions)
        reads: list[BoardRead] = []
        for board in boards:
            position = positions.get(board)
            if board in self._gone:
                reads.append((None, [], False))
            elif position is None:
                reads.append((cursors.start_position(self._newest[board]), [], True))
            else:
                actions = cursors.unseen(position, self._since[(board, position)])
                reads.append((cursors.advance(position, actions), actions, full))
        return reads

    async def _fetch(self, boards: Sequence[str], positions: Mapping[str, BoardPosition]) -> None:
        queries: list[ActionsQuery] = []
        keys: list[tuple[str, BoardPosition | None]] = []
        for board in dict.fromkeys(boards):
            position = positions.get(board)
            if board in self._gone:
                continue
            if position is None:
                if board not in self._newest:
                    queries.append(ActionsQuery(board, limit=1, every_page=False))
                    keys.append((board, None))
            elif (board, position) not in self._since:
                queries.append(ActionsQuery(board, since=position.since))
                keys.append((board, position))
        if not queries:
            return
        answers = await self.client.boards_actions(queries)
        for (board, position), actions in zip(keys, answers, strict=True):
            if actions is None:
                self._gone.add(board)
            elif position is None:
                self._newest[board] = actions[0] if actions else None
            else:
                self._since[(board, position)] = actions
