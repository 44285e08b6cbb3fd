"""Record, the one shape in which both systems' objects reach the engine.

A connector turns its system's objects into records: system-native property names,
values normalised to plain Python (``str``, ``bool``, ``float``, ``None``, timezone-aware
UTC ``datetime`` for instants, ``date`` for date-only values). Everything downstream of the
connectors (flows, merge, store) sees only records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Side = Literal["custompms", "trello"]
SIDES: tuple[Side, Side] = ("custompms", "trello")


def other_side(side: Side) -> Side:
    """The side that is not ``side``."""
    return "trello" if side == "custompms" else "custompms"


@dataclass(frozen=True, slots=True)
class Record:
    """One object of one system, as the engine sees it.

    :param kind: the system's kind ("customer", "task", "organization", "card", "comment"…)
    :param id: the system's id of the object
    :param fields: property name → normalised value (system-native names)
    :param updated_at: when the object last changed, if the system says
    :param deleted: a tombstone: the object was deleted (``fields`` may be empty)
    :param version: the system's version/etag, for conditional writes
    :param partial: ``fields`` holds only the properties known to have changed (read from an
        activity feed); the others are unchanged since the last read
    :param changed_at: per-property change times, where the system tells them
    """

    kind: str
    id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
    deleted: bool = False
    version: str | None = None
    partial: bool = False
    changed_at: Mapping[str, datetime] = field(default_factory=dict)

    def changed_time(self, prop: str) -> datetime | None:
        """When ``prop`` last changed: its own time if known, else the record's."""
        return self.changed_at.get(prop, self.updated_at)
