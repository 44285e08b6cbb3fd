"""Trello's identifiers and dates: ObjectIds, shortLinks, URL slugs, ISO dates with milliseconds.

An id is 24 lowercase hex characters, a MongoDB ObjectId: 8 hex of creation time in Unix
seconds, then 10 hex fixed per factory, then a 6-hex counter — so ids sort by creation, even
within one second. Dates go out as ``2020-03-09T19:41:51.396Z``.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
import unicodedata
from datetime import UTC, date, datetime
from urllib.parse import quote

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
SHORT_LINK = re.compile(r"^[0-9A-Za-z]{8}$")
_SHORT_LINK_ALPHABET = string.ascii_letters + string.digits


def is_object_id(value: str) -> bool:
    return bool(OBJECT_ID.match(value))


def is_short_link(value: str) -> bool:
    return bool(SHORT_LINK.match(value))


def id_time(object_id: str) -> float:
    """The creation time (Unix seconds) embedded in an id."""
    return float(int(object_id[:8], 16))


class IdFactory:
    """Makes ObjectIds that sort by creation, also across a restart from saved state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._machine = secrets.token_hex(5)
        self._counter = secrets.randbelow(1 << 16)
        self._last = "0" * 24

    def observe(self, existing_id: str) -> None:
        """Remember an id made earlier (from saved state) so new ids sort after it."""
        with self._lock:
            self._last = max(self._last, existing_id.lower())

    def new_id(self, now: float | None = None) -> str:
        with self._lock:
            seconds = int(time.time() if now is None else now)
            self._counter = (self._counter + 1) % (1 << 24)
            candidate = f"{seconds:08x}{self._machine}{self._counter:06x}"
            if candidate <= self._last:
                # Same second as an id made before a restart (or a clock step back):
                # continue right after it so ids keep sorting by creation.
                candidate = f"{int(self._last, 16) + 1:024x}"
            self._last = candidate
            return candidate


def new_short_link() -> str:
    return "".join(secrets.choice(_SHORT_LINK_ALPHABET) for _ in range(8))


def format_date(moment: datetime) -> str:
    """ISO 8601 in UTC with exactly three fractional digits and ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_timestamp(seconds: float) -> str:
    return format_date(datetime.fromtimestamp(seconds, UTC))


def parse_date(value: str) -> datetime | None:
    """Parse a date as Trello accepts it: ISO 8601 date-time or date, or epoch milliseconds.

    Returns None when ``value`` is not a date. A date-time without an offset is UTC.
    """
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Trello keeps milliseconds only.
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


def slugify(name: str) -> str:
    """The URL slug Trello puts after a board's or card's shortLink."""
    text = unicodedata.normalize("NFKC", name).lower()
    text = re.sub(r"[^\w]+|_+", "-", text).strip("-")
    return quote(text, safe="-")
