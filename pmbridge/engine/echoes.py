"""What pmbridge's own writes produced, so that a change notice that is only our own write
costs nothing: no cycle, no read.

Every write the executor makes is remembered by the identity the system gives its result —
the object's kind, id and its stamp: a Custompms record's ``version``, a Trello object's
``dateLastActivity`` (the date of the action our write made; a comment's id is that
action's id). A delivery naming exactly that is our echo. A person's edit of the same
object has another version or another action date, so it is never mistaken for ours. The
memory is bounded in size and age.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from cachetools import TTLCache

from pmbridge.flows.values import instant_text, parse_canonical_time

MEMORY = 20_000
WINDOW_S = 3600.0

Identity = tuple[str, str, str, str]  # side, kind, id, stamp


def stamp_of(value: datetime | str | int | None) -> str | None:
    """A stamp in one form, whichever way a system or a delivery spelled it."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return instant_text(value)
    text = str(value)
    if "T" in text:
        try:
            parsed = parse_canonical_time(text)
        except ValueError:
            return text
        return instant_text(parsed) if isinstance(parsed, datetime) else text
    return text


class Echoes:
    """The identities of our own recent writes (see the module docstring)."""

    def __init__(
        self,
        *,
        size: int = MEMORY,
        window_s: float = WINDOW_S,
        timer: Callable[[], float] = time.monotonic,
    ):
        self._ours: TTLCache[Identity, bool] = TTLCache(maxsize=size, ttl=window_s, timer=timer)

    def remember(self, side: str, kind: str, id: str, stamp: datetime | str | None) -> None:
        normal = stamp_of(stamp)
        if normal is not None:
            self._ours[(side, kind, id, normal)] = True

    def is_ours(self, side: str, kind: str, id: str, stamp: datetime | str | int | None) -> bool:
        normal = stamp_of(stamp)
        return normal is not None and (side, kind, id, normal) in self._ours
