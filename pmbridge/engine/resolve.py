"""Settling a conflict by hand: write the chosen side's value to both sides, make it the
base, mark the conflict resolved."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pmbridge.engine.context import SyncOptions
from pmbridge.engine.execute import Executor
from pmbridge.engine.merge_sets import item_texts
from pmbridge.engine.state import base_of, link_base
from pmbridge.errors import PmbridgeError
from pmbridge.records import SIDES, Side
from pmbridge.store import Conflict

if TYPE_CHECKING:
    from pmbridge.engine.run import Engine


async def resolve_conflict(
    engine: Engine, conflict_id: int, take: Side, *, force: bool = False
) -> str:
    """Write the value of side ``take`` to both sides (where it is not already) and make it
    the base. Returns a sentence saying what was done.

    Nothing is written when the conflict is settled already, or when either side changed
    the property since the conflict was logged (a newer edit is never overwritten), unless
    ``force``.
    """
    store = engine.store
    conflict = store.get_conflict(conflict_id)
    if conflict is None:
        raise PmbridgeError(f"there is no conflict {conflict_id}; see `pmbridge conflicts`")
    if conflict.status == "resolved":
        when = f" at {conflict.resolved_at:%Y-%m-%d %H:%M:%S} UTC" if conflict.resolved_at else ""
        raise PmbridgeError(
            f"conflict {conflict_id} was already resolved: {conflict.resolution}'s value was "
            f"taken{when}; nothing was written"
        )
    if conflict.status == "dismissed":
        raise PmbridgeError(f"conflict {conflict_id} was dismissed; nothing was written")
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
    ctx = await engine.flow_context(cycle, flow)
    prop = conflict.property
    value = conflict.custompms_value if take == "custompms" else conflict.trello_value
    # What each side holds if nothing changed since the conflict was logged: the winner's
    # value on both (a policy decided and wrote it), or each side's own (held).
    expected: dict[Side, Any] = {
        "custompms": conflict.custompms_value if conflict.winner is None else _winning(conflict),
        "trello": conflict.trello_value if conflict.winner is None else _winning(conflict),
    }
    prop_type = next((p.type for p in flow.properties if p.custompms == prop), None)
    current: dict[Side, Any] = {}
    for side in SIDES:
        target_id = link.custompms_id if side == "custompms" else link.trello_id
        record = await engine.systems[side].get(ctx.mapping.kind(side), target_id)
        if record is None:
            raise PmbridgeError(
                f"conflict {conflict_id}: the {ctx.mapping.kind(side)} {target_id} is gone "
                f"from {side}; nothing was written"
            )
        current[side] = _as_logged(prop_type, ctx.mapping.view(side, record).values.get(prop))
    changed = [side for side in SIDES if current[side] != expected[side]]
    if changed and not force:
        raise PmbridgeError(
            f"conflict {conflict_id}: {prop} of {flow.custompms} {conflict.custompms_id} "
            f"changed on {' and '.join(changed)} since the conflict was logged (now "
            f"custompms {current['custompms']!r}, trello {current['trello']!r}); nothing "
            f"was written. To write {value!r} anyway: pmbridge conflicts resolve "
            f"{conflict_id} --take {take} --force; to keep things as they are: pmbridge "
            f"conflicts dismiss {conflict_id}"
        )
    executor = Executor(cycle)
    base = base_of(link)
    for side in SIDES:
        fields = ctx.mapping.write_fields(side, {prop: value}, custompms_id=link.custompms_id)
        if not fields or current[side] == _as_logged(prop_type, value):
            getattr(base, side)[prop] = current[side] if not fields else value
            continue
        target_id = link.custompms_id if side == "custompms" else link.trello_id
        written = await executor.write(side, ctx.mapping.kind(side), "update", target_id, fields)
        getattr(base, side)[prop] = ctx.mapping.view(side, written).values.get(prop, value)
    cycle.index.put(replace(link, base=link_base(base, deleted=(link.base or {}).get("deleted"))))
    store.resolve_conflict(conflict_id, take)
    return (
        f"Conflict {conflict_id} resolved: {flow.name} {prop} is now "
        f"{value!r} on both sides (taken from {take})."
    )


def _as_logged(prop_type: str | None, value: Any) -> Any:
    """A side's value as a conflict logs it: a checklist without its items' ids, which differ
    between the systems (``merge_sets.item_texts``)."""
    return item_texts(value) if prop_type == "items" and value is not None else value


def _winning(conflict: Conflict) -> Any:
    return conflict.custompms_value if conflict.winner == "custompms" else conflict.trello_value
