"""Creates are journaled: an intent before the write, the link after it.

An intent without a link means a crash (or a lost answer) fell between the two. Repair never
creates a second object: the target system is asked to find what the interrupted create
made (``System.find_created``: Trello looks in the container, by the backlink footer, by
name or by a comment's text and time); a system whose creates are idempotent by key finds
nothing and the create is repeated with the same key, which returns the first object.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pmbridge.engine.context import CycleContext
from pmbridge.flows.mapping import FlowMapping
from pmbridge.flows.models import Flow
from pmbridge.records import Side, other_side
from pmbridge.store import Intent
from pmbridge.systems.base import CreatedProbe

# Fields kept in an intent to recognise the object again (the rest is not needed).
_PROBE_FIELDS = ("name", "displayName", "text", "title")


def intent_payload(
    container: str | None, fields: Mapping[str, Any], custompms_id: str | None, started: datetime
) -> dict[str, Any]:
    """What repair needs to find the object again, JSON-safe."""
    probe = {k: _jsonable(v) for k, v in fields.items() if k in _PROBE_FIELDS}
    return {
        "container": container,
        "probe": probe,
        "custompms_id": custompms_id,
        "started": started.isoformat(),
    }


def probe_of(mapping: FlowMapping, payload: Mapping[str, Any]) -> CreatedProbe:
    """The ``CreatedProbe`` of a journaled create: the backlink footer it wrote, if any."""
    custompms_id = payload.get("custompms_id")
    marker_field = marker = None
    if mapping.footer is not None and custompms_id:
        marker_field = mapping.footer.spec.property
        marker = mapping.footer.render(str(custompms_id))
    started = payload.get("started")
    return CreatedProbe(
        container=payload.get("container"),
        fields=dict(payload.get("probe") or {}),
        marker_field=marker_field,
        marker=marker,
        since=datetime.fromisoformat(started) if started else None,
    )


def open_intent(
    cycle: CycleContext,
    flow: Flow,
    target: Side,
    source_id: str,
    container: str | None,
    fields: Mapping[str, Any],
    custompms_id: str | None,
) -> tuple[Intent | None, bool]:
    """The journal intent of a create, and whether an earlier attempt was interrupted.

    An open intent left by an earlier attempt is reused (its create may have happened).
    A record created again after its counterpart was deleted gets a new generation of
    the key, so Custompms does not hand back the deleted object.
    """
    if cycle.dry_run:
        return None, False
    base_key = f"pmbridge:{flow.name}:{other_side(target)}:{source_id}"
    key, generation = base_key, 1
    intent = cycle.store.find_intent(key)
    while intent is not None and not intent.is_open:
        generation += 1
        key = f"{base_key}:{generation}"
        intent = cycle.store.find_intent(key)
    if intent is not None:
        return intent, True
    payload = intent_payload(container, fields, custompms_id, datetime.now(UTC))
    return cycle.store.add_intent(flow.name, target, source_id, key, payload), False


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value
