"""The lists of each board, cached: list id ⇄ name, and lists made on demand.

The cache lives as long as the connector (across the cycles of ``pmbridge serve``); the
connector drops a board's lists when its feed shows a list action, and a list not found in
the cache is looked up on the board once more before one is created.

A card's ``list`` field is the NAME of its list. Writing a card resolves that name to a list
of the card's board; a missing list is created at the position ``list_order`` gives it, so
the board's lists end up in that order (unknown names after the known ones).

Creating a list is crash-safe as the other creates are: a list is looked up by name before
it is made, and when a create's answer was lost (the list may exist) or an earlier create
on the board failed, the board's lists are read again first, so a lost answer never makes a
second list of the same name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pmbridge.errors import RemoteSystemError, UnavailableError
from pmbridge.systems.trello.client import TrelloClient
from pmbridge.systems.trello.convert import LIST_FIELDS

POS_STEP = 16384.0  # Trello's spacing between neighbours


class BoardLists:
    """A cache of board lists (see the module docstring); ``clear()`` forgets everything."""

    def __init__(self, client: TrelloClient, list_order: Sequence[str]):
        self.client = client
        self.list_order = tuple(list_order)
        self._lists: dict[str, list[dict[str, Any]]] = {}
        self._missing: set[tuple[str, str]] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    def clear(self) -> None:
        self._lists.clear()
        self._missing.clear()

    def new_cycle(self) -> None:
        """A new cycle keeps the lists (a board's feed tells when they change), but looks
        again for a list it could not name in the last one."""
        self._missing.clear()

    def known_ids(self, board_id: str) -> set[str]:
        """The ids of the board's lists as cached (none when not read yet)."""
        return {str(lst["id"]) for lst in self._lists.get(board_id, ())}

    def forget(self, board_id: str) -> None:
        """Drop one board's lists (they changed), so the next use reads them again."""
        self._lists.pop(board_id, None)

    async def of(self, board_id: str, *, refresh: bool = False) -> list[dict[str, Any]]:
        """All lists of a board, archived ones included."""
        if refresh or board_id not in self._lists:
            self._lists[board_id] = await self.client.get_board_lists(
                board_id, filter="all", fields=LIST_FIELDS
            )
        return self._lists[board_id]

    def cached_name(self, board_id: str, list_id: str | None) -> str | None:
        """The list's name if this board's lists are already known, without a call."""
        for lst in self._lists.get(board_id, ()):
            if lst["id"] == list_id:
                return lst.get("name")
        return None

    async def name_of(self, board_id: str, list_id: str | None) -> str | None:
        """The name of a list of the board; an unknown list makes the board's lists be read
        again (once per unknown list and cycle)."""
        if not list_id or not board_id:
            return None
        for lst in await self.of(board_id):
            if lst["id"] == list_id:
                return lst.get("name")
        if (board_id, list_id) in self._missing:
            return None
        self._missing.add((board_id, list_id))
        for lst in await self.of(board_id, refresh=True):
            if lst["id"] == list_id:
                return lst.get("name")
        return None

    async def id_for(self, board_id: str, name: str) -> str:
        """The id of the board's open list called ``name``, creating the list if missing."""
        lock = self._locks.setdefault(board_id, asyncio.Lock())
        async with lock:  # two cards wanting the same new list must not make two lists
            cached = board_id in self._lists
            lists = await self.of(board_id)
            found = _open_list_named(lists, name)
            if found is None and cached:  # made since the lists were read? Never twice.
                lists = await self.of(board_id, refresh=True)
                found = _open_list_named(lists, name)
            if found is not None:
                return found
            try:
                created = await self.client.create_list(
                    board_id, name, pos=position_for(name, lists, self.list_order)
                )
            except UnavailableError as err:
                # The list may exist although its answer was lost: find it by name.
                self.forget(board_id)
                if not err.maybe_applied:
                    raise
                if (found := _open_list_named(await self.of(board_id), name)) is not None:
                    return found
                # Not there: the create did not act. Say so, or the card being written
                # would count as maybe created too.
                raise UnavailableError(
                    f"Trello lost the answer to creating the list {name!r} on board "
                    f"{board_id} and has no such list; the next attempt creates it",
                    system="trello",
                    status=err.status,
                ) from err
            except RemoteSystemError:
                self.forget(board_id)  # the next create on this board reads the lists first
                raise
            lists.append(created)
            return str(created["id"])


def _open_list_named(lists: Sequence[dict[str, Any]], name: str) -> str | None:
    for lst in lists:
        if lst.get("name") == name and not lst.get("closed"):
            return str(lst["id"])
    return None


def position_for(name: str, lists: Sequence[dict[str, Any]], list_order: Sequence[str]) -> float:
    """Where a new list called ``name`` goes so the open lists follow ``list_order``.

    It goes just before the first open list that ``list_order`` puts after it; with none,
    at the bottom.
    """

    def rank(list_name: str | None) -> int:
        return list_order.index(list_name) if list_name in list_order else len(list_order)

    mine = rank(name)
    positions = sorted(float(lst.get("pos") or 0.0) for lst in lists if not lst.get("closed"))
    later = [
        float(lst.get("pos") or 0.0)
        for lst in lists
        if not lst.get("closed") and rank(lst.get("name")) > mine
    ]
    if not later:
        return (positions[-1] if positions else 0.0) + POS_STEP
    upper = min(later)
    lower = max((p for p in positions if p < upper), default=0.0)
    return (lower + upper) / 2
