"""Trello's wire values ⇄ the plain Python values records carry.

Out of Trello: ISO dates (``2020-03-09T19:41:51.396Z``) become timezone-aware UTC datetimes,
positions become floats, absent values ``None``. Into Trello: booleans as ``true``/``false``,
``None`` as ``null`` (which clears dates and the website), datetimes as ISO with
milliseconds and ``Z`` (reference/TRELLO_API.md §1, §4).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def parse_datetime(value: Any) -> datetime | None:
    """A Trello date as an aware UTC datetime; ``None`` for null or empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_float(value: Any) -> float | None:
    """A Trello number (``pos``) as a float; ``None`` for null."""
    if value is None or isinstance(value, bool):
        return None
    return float(value)


def parse_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def parse_text(value: Any) -> str | None:
    return None if value is None else str(value)


def encode(value: Any) -> str:
    """One parameter value as Trello expects it in a query string or form body."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(
                f"the date-time {value.isoformat()} has no time zone; pmbridge sends Trello "
                "only timezone-aware values"
            )
        utc = value.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def encode_params(params: dict[str, Any]) -> dict[str, str]:
    """Every value of ``params`` encoded with ``encode``."""
    return {name: encode(value) for name, value in params.items()}
