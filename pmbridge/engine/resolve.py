"""Settling a conflict by hand: write the chosen side's value to both sides, make it the
base, mark the conflict resolved."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pmbridge.engine.context import SyncOptions
from pmbridge.engine.execute import Executor
from pmbridge.engine.state import base_of, link_base
from pmbridge.errors import PmbridgeError
from pmbridge.records import SIDES, Side

if TYPE_CHECKING:
    from pmbridge.engine.run import Engine


async def resolve_conflict(engine: Engine, conflict_id: int, take: Side) -> str:
    """Write the value of side ``take`` to both sides (where it is not already) and make it
    the base. Returns a sentence saying what was done."""
    store = engine.store
    conflict = store.get_conflict(conflict_id)
    if conflict is None:
        raise PmbridgeError(f"there is no conflict {conflict_id}; see `pmbridge conflicts`")
    if conflict.flow not in engine.flow_file.names:
        raise PmbridgeError(
            f"conflict {conflict_id} is of flow {conflict.flow}, which the flow file no longer has"
        )
    flow = engine.flow_file.get(conflict.flow)
    cycle = engine.context(SyncOptions())
    link = cycle.index.get(flow.name, "custompms", conflict.custompms_id)
    if link is None:
        raise PmbridgeError(
            f"conflict {conflict_id}: {flow.custompms} {conflict.custompms_id} is no longer "
            "linked, so there is nothing to write"
        )
    ctx = engine.flow_context(cycle, flow)
    executor = Executor(cycle)
    value = conflict.custompms_value if take == "custompms" else conflict.trello_value
    base = base_of(link)
    for side in SIDES:
        target_id = link.custompms_id if side == "custompms" else link.trello_id
        fields = ctx.mapping.write_fields(
            side, {conflict.property: value}, custompms_id=link.custompms_id
        )
        if not fields:
            continue
        kind = ctx.mapping.kind(side)
        current = await engine.systems[side].get(kind, target_id)
        if current is not None:
            view = ctx.mapping.view(side, current).values
            if view.get(conflict.property) == value:
                getattr(base, side)[conflict.property] = value
                continue
        written = await executor._write(side, kind, "update", target_id, fields)
        back = ctx.mapping.view(side, written).values
        getattr(base, side)[conflict.property] = back.get(conflict.property, value)
    cycle.index.put(replace(link, base=link_base(base, deleted=(link.base or {}).get("deleted"))))
    store.resolve_conflict(conflict_id, take)
    return (
        f"Conflict {conflict_id} resolved: {flow.name} {conflict.property} is now "
        f"{value!r} on both sides (taken from {take})."
    )
