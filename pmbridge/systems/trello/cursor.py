"""The cursor of card and comment reads: where each board's action feed was read up to.

Serialised as compact JSON, e.g.::

    {"v": 1, "boards": {"<board id>": {"since": "<newest action id>", "seen": ["<id>", …]}}}

``since`` is the newest action id seen on the board (``null``: the board had no action yet,
read its feed from the start). Trello resolves ``since=<id>`` to the second embedded in the
id, so the next read returns that second's actions again; ``seen`` keeps the ids of that
second already read, and ``unseen`` drops them (reference/TRELLO_API.md §4, §7).
A board missing from the cursor has not been read yet: it is listed in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pmbridge.errors import ConfigError

VERSION = 1


@dataclass(frozen=True, slots=True)
class BoardPosition:
    """How far one board's action feed has been read.

    :param since: the newest action id read, or ``None`` when the board had none
    :param seen: ids of actions from ``since``'s second that were read (``since`` included)
    """

    since: str | None
    seen: frozenset[str] = frozenset()


def start_position(newest: Mapping[str, Any] | None) -> BoardPosition:
    """The position after a full listing whose board's newest action was ``newest``."""
    if newest is None:
        return BoardPosition(None)
    return BoardPosition(newest["id"], frozenset({newest["id"]}))


def unseen(position: BoardPosition, actions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The actions of a ``since`` read that were not read before (order kept)."""
    if position.since is None:
        return [dict(action) for action in actions]
    floor = _second(position.since)
    return [
        dict(action)
        for action in actions
        if _second(action["id"]) >= floor and action["id"] not in position.seen
    ]


def advance(position: BoardPosition, fresh: Iterable[Mapping[str, Any]]) -> BoardPosition:
    """The position after reading ``fresh`` (the ``unseen`` actions of a read)."""
    ids = {action["id"] for action in fresh} | set(position.seen)
    if position.since is not None:
        ids.add(position.since)
    if not ids:
        return position
    newest = max(ids)
    second = _second(newest)
    return BoardPosition(newest, frozenset(i for i in ids if _second(i) == second))


def covers(start: BoardPosition, known: BoardPosition) -> bool:
    """Whether a read from ``start`` returns every action that the reads which reached
    ``known`` had not seen: ``start`` is not past ``known``, so nothing after ``known`` is
    missed. (Ids are compared by their second, as Trello's ``since`` does.)"""
    if start.since is None:
        return True
    if known.since is None:
        return False
    first, last = _second(start.since), _second(known.since)
    return first < last or (first == last and start.seen <= known.seen)


def position_json(position: BoardPosition) -> dict[str, Any]:
    """One board's position as the cursor's JSON holds it."""
    return {"since": position.since, "seen": sorted(position.seen)}


def position_from_json(entry: Mapping[str, Any]) -> BoardPosition:
    """The position ``position_json`` gave; raises ``KeyError``/``TypeError`` when malformed."""
    since = entry["since"]
    if since is not None and not isinstance(since, str):
        raise TypeError(f"since {since!r}")
    return BoardPosition(since, frozenset(str(i) for i in entry.get("seen", ())))


def parse(cursor: str | None) -> dict[str, BoardPosition]:
    """Board id → position; ``None`` means no board was read yet."""
    if cursor is None:
        return {}
    try:
        data = json.loads(cursor)
        if data.get("v") != VERSION:
            raise ValueError(f"version {data.get('v')!r}")
        return {board: position_from_json(entry) for board, entry in data["boards"].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise ConfigError(
            f"the stored Trello cursor is not one this pmbridge wrote ({err}); reset the "
            "cursor so that the boards are read in full again"
        ) from None


def dump(positions: Mapping[str, BoardPosition]) -> str:
    """The cursor text for ``positions`` (deterministic, so equal positions compare equal)."""
    boards = {board: position_json(pos) for board, pos in sorted(positions.items())}
    return json.dumps({"v": VERSION, "boards": boards}, separators=(",", ":"), sort_keys=True)


def _second(action_id: str) -> str:
    # The first 8 hex characters of a Trello id are its creation time in Unix seconds.
    return action_id[:8].lower()
