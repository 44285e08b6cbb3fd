"""The lists of each board, cached: list id ⇄ name, and lists made on demand.

The cache lives as long as the connector (across the cycles of ``pmbridge serve``); the
connector drops a board's lists when its feed shows a list action, and a list not found in
the cache is looked up on the board once more before one is created.

Between runs (``pmbridge sync``) the lists are kept in the connector's ``Memo``, each board's
with the feed position they are known to hold at: the newest position read before they
were (or a later one whose read showed no list action). A later run takes them only when
its own read of the board's feed starts at or before that position, and so sees every list
action since, and the read shows none. A memo entry thus never claims more than what was
read, whenever it is written and whatever crashed in between: one the feed cannot vouch
for is dropped. What changed is written when the connector closes (a process that dies
first only loses the saving). A list id Trello refuses (the list moved away after it was
read) makes the board's lists be read again, once (``send_to``).

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
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from pmbridge.errors import InvalidValueError, RemoteSystemError, StoreError, UnavailableError
from pmbridge.systems.base import Memo
from pmbridge.systems.trello import cursor as cursors
from pmbridge.systems.trello.client import TrelloClient
from pmbridge.systems.trello.convert import LIST_FIELDS
from pmbridge.systems.trello.cursor import BoardPosition
from pmbridge.systems.trello.feed import changes_lists

POS_STEP = 16384.0  # Trello's spacing between neighbours
MEMO_PREFIX = "lists:"  # a board's memo key is this and its id

log = logging.getLogger(__name__)


class BoardLists:
    """A cache of board lists (see the module docstring); ``clear()`` forgets everything."""

    def __init__(self, client: TrelloClient, list_order: Sequence[str], memo: Memo | None = None):
        self.client = client
        self.list_order = tuple(list_order)
        self.memo = memo
        self._lists: dict[str, list[dict[str, Any]]] = {}
        self._missing: set[tuple[str, str]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        # The feed position each board's cached lists are known to hold at (none: unknown,
        # so they are not kept between runs), and the newest position read of each board.
        self._known_at: dict[str, BoardPosition] = {}
        self._read_to: dict[str, BoardPosition] = {}
        # Memo entries of boards not read yet in this run (None: the memo is not loaded);
        # boards whose memo entry must be written again.
        self._saved: dict[str, Any] | None = None
        self._dirty: set[str] = set()

    def clear(self) -> None:
        self._dirty.update(self._lists)
        self._lists.clear()
        self._known_at.clear()
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
        if self._lists.pop(board_id, None) is not None:
            self._dirty.add(board_id)
        self._known_at.pop(board_id, None)

    def saw_feed(
        self,
        board_id: str,
        start: BoardPosition | None,
        end: BoardPosition | None,
        actions: Iterable[Mapping[str, Any]],
    ) -> None:
        """The board's feed was read from ``start`` (None: not at all, the board was listed
        from its newest action) to ``end`` (None: the board is gone or hidden), finding
        ``actions``. Its lists from the memo are taken if this read vouches for them; a
        list action (or the board gone) drops its lists; else they are now known to hold
        at ``end`` too. A read that started nowhere tells nothing about lists."""
        self._adopt(board_id, start)
        if end is None or (start is not None and changes_lists(actions, self.known_ids(board_id))):
            self.forget(board_id)
        elif start is not None and board_id in self._lists:
            at = self._known_at.get(board_id)
            if at is not None and cursors.covers(start, at) and not cursors.covers(end, at):
                self._known_at[board_id] = end
                self._dirty.add(board_id)
        if end is not None:
            self._read_to[board_id] = end

    def _adopt(self, board_id: str, start: BoardPosition | None) -> None:
        """Take the board's lists from the memo when a read from ``start`` sees every list
        action since they were known; else the entry is dropped."""
        if self._saved is None:
            self._saved = self._load()
        entry = self._saved.pop(board_id, None)
        if entry is None or board_id in self._lists:
            return  # what this process read itself comes first
        try:
            lists = [dict(lst) for lst in entry["lists"]]
            at: BoardPosition | None = cursors.position_from_json(entry["at"])
            if not all(isinstance(lst.get("id"), str) for lst in lists):
                raise ValueError("a list without an id")
        except (KeyError, TypeError, ValueError):
            lists, at = [], None  # not what this pmbridge writes: drop it
        if at is not None and start is not None and cursors.covers(start, at):
            self._lists[board_id] = lists
            self._known_at[board_id] = at
        else:
            self._dirty.add(board_id)  # the feed cannot vouch for it: drop it

    def _load(self) -> dict[str, Any]:
        if self.memo is None:
            return {}
        try:
            values = self.memo.load()
        except StoreError as err:
            log.warning("the lists kept from earlier runs cannot be read: %s", err)
            return {}
        return {
            key.removeprefix(MEMO_PREFIX): value
            for key, value in values.items()
            if key.startswith(MEMO_PREFIX) and isinstance(value, Mapping)
        }

    def save(self) -> None:
        """Write what changed of the lists to the memo: each board's lists with the position
        they hold at, or nothing for a board whose lists are not known to hold anywhere."""
        if self.memo is None or not self._dirty:
            return
        values: dict[str, Any] = {}
        for board_id in sorted(self._dirty):
            lists, at = self._lists.get(board_id), self._known_at.get(board_id)
            values[MEMO_PREFIX + board_id] = (
                {"lists": lists, "at": cursors.position_json(at)}
                if lists is not None and at is not None
                else None
            )
        try:
            self.memo.save(values)
        except StoreError as err:  # only a saving lost: the next run reads the lists
            log.warning("the lists could not be kept for the next run: %s", err)
            return
        self._dirty.clear()

    async def of(self, board_id: str, *, refresh: bool = False) -> list[dict[str, Any]]:
        """All lists of a board, archived ones included."""
        if refresh or board_id not in self._lists:
            # They hold at least at the newest position read before asking.
            at = self._read_to.get(board_id)
            lists = await self.client.get_board_lists(board_id, filter="all", fields=LIST_FIELDS)
            self._lists[board_id] = lists
            if at is not None:
                self._known_at[board_id] = at
            else:
                self._known_at.pop(board_id, None)
            self._dirty.add(board_id)
        return self._lists[board_id]

    async def send_to(
        self, board_id: str, name: str, send: Callable[[str], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """``send(list_id)`` with the id of the board's list called ``name``. When Trello
        answers that the id is invalid (a cached list moved away since it was read), the
        board's lists are read again and it is sent once more."""
        try:
            return await send(await self.id_for(board_id, name))
        except InvalidValueError as err:
            if err.field != "idList":
                raise
            self.forget(board_id)
            return await send(await self.id_for(board_id, name))

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
            self._dirty.add(board_id)
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
