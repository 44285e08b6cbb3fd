"""Finding an object whose create was sent but whose answer was lost.

Before every create the engine journals an intent; after it, the link. An intent without a
link means a crash (or a lost answer) fell between the two. Repair never creates a second
object: Custompms creates are repeated with the same ``Idempotency-Key`` (the server returns
the first one); on Trello the object is looked up in its container — a card by the backlink
footer in its description, a comment by its card, text and time, a board or workspace by
name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pmbridge.flows.mapping import FlowMapping
from pmbridge.records import Record
from pmbridge.systems.base import Scope, System

# Clocks differ between us and Trello; a comment made a little "before" our intent is ours.
CLOCK_SKEW = timedelta(minutes=5)


def intent_payload(
    container: str | None, fields: dict[str, Any], custompms_id: str | None, started: datetime
) -> dict[str, Any]:
    """What repair needs to find the object again, JSON-safe."""
    probe = {k: v for k, v in fields.items() if k in ("name", "displayName", "text", "title")}
    return {
        "container": container,
        "probe": probe,
        "custompms_id": custompms_id,
        "started": started.isoformat(),
    }


async def find_created_on_trello(
    trello: System, mapping: FlowMapping, payload: dict[str, Any]
) -> Record | None:
    """The Trello object an interrupted create made, if it exists (see module docstring)."""
    kind = mapping.flow.trello
    container = payload.get("container")
    if kind == "comment":
        # Comments are read per board; the intent knows the card.
        card = await trello.get("card", container) if container else None
        if card is None:
            return None
        scope = Scope((str(card.fields.get("idBoard")),))
    else:
        scope = Scope((container,)) if container else Scope()
    feed = await trello.read(kind, None, scope)
    while feed.more:  # pragma: no cover - Trello reads are not paged by the connector
        feed = await trello.read(kind, feed.cursor, scope)
    probe: dict[str, Any] = payload.get("probe") or {}
    started = datetime.fromisoformat(payload["started"]) - CLOCK_SKEW
    candidates = [r for r in feed.records if not r.deleted]
    if mapping.footer is not None and payload.get("custompms_id"):
        for record in candidates:
            if mapping.footer_id(record) == payload["custompms_id"]:
                return record
        return None
    if kind == "comment":
        for record in sorted(candidates, key=lambda r: r.updated_at or started, reverse=True):
            when = record.fields.get("date") or record.updated_at
            if (
                record.fields.get("idCard") == container
                and (record.fields.get("text") or "").strip() == (probe.get("text") or "").strip()
                and (when is None or when >= started)
            ):
                return record
        return None
    for record in candidates:
        if probe and all(record.fields.get(k) == v for k, v in probe.items()):
            return record
    return None
