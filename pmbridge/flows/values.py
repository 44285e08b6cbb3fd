"""Canonical values: one normalisation for both sides, so equal means equal.

``canonical`` turns a record's native value into the JSON-safe form the merge compares and
the store keeps; ``native`` turns a canonical value into what a system's record expects.
Rules by flow type:

- string: line endings ``\\n``, trailing space removed from every line, outer space removed;
  ``None`` and ``""`` are the same (``""``)
- text / markdown: line endings and trailing space as above, trailing blank lines removed
- url: outer space removed; ``""`` is ``None``
- boolean: ``None`` is ``False``
- number: a float rounded to 9 significant digits, or ``None``
- datetime: an instant as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC, milliseconds); a date-only value
  stays a date ``YYYY-MM-DD``, sent to a side that only knows instants as 12:00 UTC of that
  day; a Trello instant that is exactly that is read back as the date (so no date drifts)
- date: ``YYYY-MM-DD``
- enum: the Custompms value; Trello values are mapped through the flow's ``values``
- reference: the Custompms id; Trello ids are resolved through the referenced flow's links
- set: a sorted list without duplicates: of strings (tags ↔ label names; assignees ↔
  members, as Custompms emails in lower case, Trello usernames mapped through ``people``), or
  of objects identified by ``by`` (links ↔ URL attachments: ``{"url", "title"}``)
- items: the list of ``{"id", "text", "done"}`` in order, ids being each side's own
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from pmbridge.flows.models import Property
from pmbridge.records import Side

DATE_ANCHOR = time(12, 0, tzinfo=UTC)


class Unmapped(Exception):
    """A value has no counterpart on the other side (an unmapped list, an unlinked parent).

    :param waiting: True when the counterpart may appear later (a parent not linked yet);
        False when it is outside the sync's scope (an unmapped list or board)
    """

    def __init__(self, message: str, *, waiting: bool):
        self.waiting = waiting
        super().__init__(message)


class UnmappedProperty(Unmapped):
    """One property of a record has no counterpart (a person missing from the people map):
    that property is set aside for the record, the rest of it syncs."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message, waiting=False)


# Resolves a reference: (flow name, via, id on the given side) -> id on the other side.
Resolve = Callable[[str, str | None, Side, str], str | None]


def normalise_text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def instant_text(value: datetime) -> str:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_canonical_time(value: str) -> datetime | date:
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _canonical_time(value: Any, *, date_only: bool, anchored_is_date: bool) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = parse_canonical_time(value)
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        if date_only or (anchored_is_date and utc.timetz() == DATE_ANCHOR):
            return utc.date().isoformat()
        return instant_text(utc)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not a date or time: {value!r}")


def canonical(prop: Property, side: Side, value: Any, resolve: Resolve) -> Any:
    """The canonical form of a native ``value`` read from ``side`` for ``prop``.

    Raises ``Unmapped`` for an enum value or reference with no counterpart.
    """
    kind = prop.type
    if kind == "string":
        return normalise_text(value).strip()
    if kind in ("text", "markdown"):
        return normalise_text(value)
    if kind == "url":
        text = (value or "").strip()
        return text or None
    if kind == "boolean":
        return bool(value)
    if kind == "number":
        if value is None or value == "":
            return None
        number = float(value)
        return float(f"{number:.9g}") if math.isfinite(number) else None
    if kind == "datetime":
        return _canonical_time(value, date_only=False, anchored_is_date=side == "trello")
    if kind == "date":
        return _canonical_time(value, date_only=True, anchored_is_date=False)
    if kind == "enum":
        if value is None:
            return None
        if side == "custompms":
            return str(value)
        reverse = {v: k for k, v in (prop.values or {}).items()}
        if value not in reverse:
            raise Unmapped(
                f"'{value}' is not among the mapped values of {prop.custompms}", waiting=False
            )
        return reverse[value]
    if kind == "reference":
        if value is None:
            return None
        if side == "custompms":
            return str(value)
        assert prop.flow is not None
        found = resolve(prop.flow, prop.via, "trello", str(value))
        if found is None:
            raise Unmapped(
                f"{prop.trello} {value} is not linked in flow {prop.flow}", waiting=False
            )
        return found
    if kind == "set":
        return _canonical_set(prop, side, value)
    if kind == "items":
        return [
            {
                "id": item.get("id"),
                "text": normalise_text(item.get("text")).strip(),
                "done": bool(item.get("done")),
            }
            for item in value or ()
        ]
    raise AssertionError(f"unknown property type {kind}")


def _canonical_set(prop: Property, side: Side, value: Any) -> list[Any]:
    elements = list(value or ())
    if prop.by is not None:
        by_key: dict[str, dict[str, Any]] = {}
        for element in elements:
            identity = str(element.get(prop.by) or "").strip()
            if identity:
                by_key[identity] = {
                    prop.by: identity,
                    **{
                        k: normalise_text(v).strip()
                        for k, v in element.items()
                        if k not in ("id", prop.by)
                    },
                }
        return [by_key[k] for k in sorted(by_key)]
    names = {normalise_text(e).strip() for e in elements} - {""}
    if prop.people is None:
        return sorted(names)
    if side == "custompms":
        names = {n.lower() for n in names}
        missing = sorted(n for n in names if n not in _people(prop))
        if missing:
            raise UnmappedProperty(
                prop.key,
                f"{prop.custompms}: {', '.join(missing)} {'has' if len(missing) == 1 else 'have'}"
                f" no Trello username in the people map; add "
                f"'{missing[0]}: <trello username>' under 'people' of {prop.custompms} in the "
                "flow file (or a line to its people_file)",
            )
        return sorted(names)
    emails = {username: email for email, username in _people(prop).items()}
    unknown = sorted(n for n in names if n.lstrip("@").lower() not in emails)
    if unknown:
        raise UnmappedProperty(
            prop.key,
            f"{prop.trello}: Trello member {', '.join('@' + u for u in unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not in the people map; add "
            f"'<email>: {unknown[0]}' under 'people' of {prop.custompms} in the flow file (or "
            "a line to its people_file)",
        )
    return sorted(emails[n.lstrip("@").lower()] for n in names)


def _people(prop: Property) -> dict[str, str]:
    """The people map: Custompms email (lower case) → Trello username (lower case)."""
    people = prop.people or {}
    return {e.strip().lower(): u.strip().lstrip("@").lower() for e, u in people.items()}


def native(prop: Property, side: Side, value: Any, resolve: Resolve) -> Any:
    """The native value to write to ``side`` for canonical ``value``.

    Raises ``Unmapped`` when an enum value has no counterpart (a configuration gap the user
    must fix) or a reference's target is not linked yet (the record waits).
    """
    kind = prop.type
    if kind in ("datetime", "date"):
        if value is None:
            return None
        parsed = parse_canonical_time(value)
        if side == "trello" and not isinstance(parsed, datetime):
            return datetime.combine(parsed, DATE_ANCHOR)
        return parsed
    if kind == "enum":
        if value is None or side == "custompms":
            return value
        mapping = prop.values or {}
        if value not in mapping:
            raise Unmapped(
                f"{prop.custompms} '{value}' has no Trello {prop.trello} in the flow file; "
                f"add it under 'values' (mapped now: {', '.join(mapping) or 'none'})",
                waiting=False,
            )
        return mapping[value]
    if kind == "reference":
        if value is None or side == "custompms":
            return value
        assert prop.flow is not None
        found = resolve(prop.flow, prop.via, "custompms", str(value))
        if found is None:
            raise Unmapped(
                f"{prop.custompms} {value} is not linked in flow {prop.flow} yet", waiting=True
            )
        return found
    if kind == "set" and prop.people is not None and side == "trello":
        people = _people(prop)
        return [people[email] for email in value or ()]
    if kind == "set" and prop.label_colors is not None and side == "trello":
        colors = prop.label_colors
        return [{"name": name, "color": colors.get(name)} for name in value or ()]
    if kind == "set" and prop.by is not None and side == "custompms":
        return [{"id": None, **element} for element in value or ()]
    return value
