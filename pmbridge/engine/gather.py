"""Reading a flow's changes and pairing them up: the I/O half of deciding.

For one flow: read both sides since their cursors (each read is made once per cycle and
shared by the flows of the same kind), then pair records into ``plan.Item``s:

1. records of linked objects join their link;
2. linked objects absent from a complete listing of their container are looked up: gone
   (a tombstone) or moved;
3. records left over from earlier cycles (dead letters, waits, held deletes, creates whose
   outcome a crash left unknown) are read again;
4. unlinked records that are the same object are paired: by backlink footer (an object we
   made whose link a crash lost), then by match key within the same parent;
5. unlinked records a feed gave only in part are read whole (a create needs every value);
6. unlinked records whose parent is unlinked and gone (a comment on a task deleted before
   the comment was synced) drop out, instead of waiting for a parent that never comes.

What to scope a read by, and how to page it, is each system's business (``System``).
"""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import replace
from typing import Any

from pmbridge.engine.context import OP_HELD_DELETE, OP_SYNC, OP_WAIT, CycleContext
from pmbridge.engine.plan import Item
from pmbridge.engine.state import about_flow, planned
from pmbridge.errors import InvalidValueError
from pmbridge.flows.mapping import FlowMapping, Unmapped
from pmbridge.flows.models import Flow
from pmbridge.records import SIDES, Record, Side, other_side
from pmbridge.systems.base import Feed, Scope

log = logging.getLogger(__name__)


async def gather(cycle: CycleContext, flow: Flow, mapping: FlowMapping) -> list[Item]:
    """Every item of ``flow`` that needs a decision this cycle (see the module docstring)."""
    feeds = {side: await read(cycle, side, getattr(flow, side)) for side in SIDES}
    items: dict[tuple[str, str], Item] = {}
    for side in SIDES:
        for record in feeds[side].records:
            _place(cycle, flow, mapping, items, side, record)
    for side in SIDES:
        await _verify_absent(cycle, flow, side, feeds[side], items)
    if cycle.options.targets is None:  # a targeted cycle leaves them to the periodic one
        await _add_leftovers(cycle, flow, mapping, items)
    await _match_new(cycle, flow, mapping, items)
    await _read_whole(cycle, items)
    await _drop_orphans(cycle, flow, mapping, items)
    return list(items.values())


def _place(
    cycle: CycleContext,
    flow: Flow,
    mapping: FlowMapping,
    items: dict[tuple[str, str], Item],
    side: Side,
    record: Record,
) -> None:
    link = cycle.index.get(flow.name, side, record.id)
    if link is None:
        if _is_anchor(cycle, flow, side, record.id) or not mapping.belongs(side, record):
            return
        key = (f"new-{side}", record.id)
    else:
        key = ("link", link.custompms_id)
    setattr(items.setdefault(key, Item(link=link)), side, record)


def _is_anchor(cycle: CycleContext, flow: Flow, side: Side, id: str) -> bool:
    """Whether ``id`` is an anchor (an "About this project" card), not a record of ``flow``."""
    if getattr(flow, side) != cycle.systems[side].anchor_kind:
        return False
    return any(
        cycle.index.get(about_flow(f.name), side, id) is not None for f in cycle.flow_file.flows
    )


# -- reading ---------------------------------------------------------------------------------


def scope_of(cycle: CycleContext, side: Side, kind: str) -> Scope:
    """The containers to read ``kind`` in on ``side`` (the linked objects of the kind the
    system scopes it by), and the ids of ``kind`` we already hold a base for."""
    system = cycle.systems[side]
    container_kind = system.scope_kind(kind)
    containers: list[str] = []
    holders: list[str] = []  # the flows (and anchor pseudo-flows) whose links are ``kind``
    for flow in cycle.flow_file.flows:
        flow_kind = getattr(flow, side)
        if container_kind is not None and flow_kind == container_kind and not containers:
            containers = [
                _id(link, side)
                for link in cycle.index.links(flow.name)
                if not planned(_id(link, side))
            ]
        if flow_kind == kind:
            holders.append(flow.name)
        if kind == system.anchor_kind:
            holders.append(about_flow(flow.name))
    known: Container[str] = _Known(cycle, side, holders)
    if cycle.options.full:  # a full listing asks about every object: read them all at once
        known = frozenset(_id(link, side) for name in holders for link in cycle.index.links(name))
    return Scope(tuple(containers), known=known, full=cycle.options.full)


class _Known:
    """Ids of objects some flow holds a link for, asked one at a time (links load lazily)."""

    def __init__(self, cycle: CycleContext, side: Side, flows: list[str]):
        self.cycle, self.side, self.flows = cycle, side, flows

    def __contains__(self, id: object) -> bool:
        index = self.cycle.index
        return any(index.get(flow, self.side, str(id)) is not None for flow in self.flows)


def _id(link: Any, side: Side) -> str:
    return str(link.custompms_id if side == "custompms" else link.trello_id)


async def read(cycle: CycleContext, side: Side, kind: str) -> Feed:
    """Everything ``side`` reports changed in ``kind`` this cycle (read once, shared). In a
    targeted cycle, a feed not targeted is not read: it answers nothing, moves no cursor and
    lets nothing be inferred."""
    key = (side, kind)
    if key in cycle.reads:
        return cycle.reads[key]
    targets = cycle.options.targets
    if targets is not None and not targets.reads(side, kind):
        cycle.reads[key] = Feed([], None, complete=False)
        return cycle.reads[key]
    scope = scope_of(cycle, side, kind)
    if targets is not None and side in targets.containers:
        wanted = targets.containers[side]
        scope = replace(scope, containers=tuple(c for c in scope.containers if c in wanted))
    if cycle.saved_cursors is None:
        cycle.saved_cursors = cycle.store.cursors()
    stored = cycle.saved_cursors.get(key)
    feed = await cycle.systems[side].read(kind, stored, scope)
    log.debug(
        "read %s %s%s in %d container(s): %d record(s)%s",
        side,
        kind,
        " (full)" if scope.full else "",
        len(scope.containers),
        len(feed.records),
        "" if feed.complete else ", incomplete",
    )
    cycle.reads[key] = feed
    cycle.cursors[key] = feed.cursor
    _set_aside(cycle, side, kind, feed.rejected)
    return feed


def _set_aside(cycle: CycleContext, side: Side, kind: str, rejected: list[tuple[str, str]]) -> None:
    """Dead-letter records a system sent malformed; the cycle goes on with the rest.
    (Filed under the first flow of their kind; that flow retries them.)"""
    flow = next(f for f in cycle.flow_file.flows if getattr(f, side) == kind)
    for record_id, reason in rejected:
        cycle.rejected.add((side, record_id))
        cycle.failed(flow.name, other_side(side), record_id, side, reason)


async def _verify_absent(
    cycle: CycleContext, flow: Flow, side: Side, feed: Feed, items: dict[tuple[str, str], Item]
) -> None:
    """Linked objects missing from a complete listing of their container: gone or moved?

    Only a complete read lists containers; each absent object is looked up before it
    counts as deleted, so a partial or failed read never turns into deletions.
    """
    if feed.listed is None or not feed.complete:
        return
    kind = getattr(flow, side)
    containers = set(scope_of(cycle, side, kind).containers)
    if "*" not in feed.listed and not (containers and containers <= feed.listed):
        return
    seen = {r.id for r in feed.records}
    system = cycle.systems[side]
    for link in cycle.index.links(flow.name):
        own = _id(link, side)
        if own in seen:
            continue
        record = await system.get(kind, own)
        if record is None:
            record = Record(kind, own, deleted=True)
        setattr(items.setdefault(("link", link.custompms_id), Item(link=link)), side, record)


async def _add_leftovers(
    cycle: CycleContext, flow: Flow, mapping: FlowMapping, items: dict[tuple[str, str], Item]
) -> None:
    """Records from earlier cycles that still need work: failures, waits, held deletes,
    and creates whose outcome a crash left unknown (open journal intents)."""
    pending: dict[tuple[Side, str], None] = {}
    for letter_flow, side, record_id, _ in sorted(cycle.letters):
        if letter_flow == flow.name:
            pending[(other_side("trello" if side == "trello" else "custompms"), record_id)] = None
    for intent in cycle.open_intents.get(flow.name, {}).values():
        pending[(other_side(intent.target_side), intent.source_id)] = None
    for source, record_id in pending:
        if (source, record_id) in cycle.rejected:
            continue
        link = cycle.index.get(flow.name, source, record_id)
        key = ("link", link.custompms_id) if link else (f"new-{source}", record_id)
        if key in items and getattr(items[key], source) is not None:
            continue
        kind = mapping.kind(source)
        target = other_side(source)
        try:
            record = await cycle.systems[source].get(kind, record_id)
        except InvalidValueError as err:  # still malformed: it stays set aside
            cycle.failed(flow.name, target, record_id, source, str(err))
            continue
        if record is None:
            if link is None:
                for op in (OP_SYNC, OP_WAIT, OP_HELD_DELETE):
                    cycle.clear_letter(flow.name, target, record_id, op)
                continue
            record = Record(kind, record_id, deleted=True)
        elif link is None and not mapping.belongs(source, record):
            # Readable now but another flow's (a comment set aside before its parent
            # was known): the change that fixed it brings it to that flow's feed.
            for op in (OP_SYNC, OP_WAIT):
                cycle.clear_letter(flow.name, target, record_id, op)
            continue
        _place(cycle, flow, mapping, items, source, record)


async def _match_new(
    cycle: CycleContext, flow: Flow, mapping: FlowMapping, items: dict[tuple[str, str], Item]
) -> None:
    """Pair unlinked records that are the same object: by backlink footer (an object we
    made whose link a crash lost), then by match key within the same parent where
    exactly one candidate is on each side."""
    new_c = {k[1]: v for k, v in items.items() if k[0] == "new-custompms" and v.custompms}
    new_t = {k[1]: v for k, v in items.items() if k[0] == "new-trello" and v.trello}
    for tid, entry in list(new_t.items()):
        assert entry.trello is not None
        cid = mapping.footer_id(entry.trello)
        if not cid or entry.trello.deleted:
            continue
        if cid not in new_c:
            if cycle.index.get(flow.name, "custompms", cid) is not None:
                continue  # its record is linked to another object: this one is a copy
            record = await cycle.systems["custompms"].get(flow.custompms, cid)
            if record is None or record.deleted:
                continue
            new_c[cid] = items[("new-custompms", cid)] = Item(custompms=record)
        new_c.pop(cid).trello = entry.trello
        del items[("new-trello", tid)]
        new_t.pop(tid)
    if not flow.match:
        return
    by_key: dict[tuple[Any, ...], tuple[list[str], list[str]]] = {}
    side: Side
    for side, pool in (("custompms", new_c), ("trello", new_t)):
        for rid, entry in pool.items():
            record = getattr(entry, side)
            if record is None or record.deleted or record.partial:
                continue
            try:
                view = mapping.view(side, record)
            except Unmapped:
                continue
            match = mapping.match_key(side, view)
            if match is None:
                continue
            scope = view.values.get(flow.parent.key) if flow.parent else None
            by_key.setdefault((scope, *match), ([], []))[side == "trello"].append(rid)
    for c_ids, t_ids in by_key.values():
        if len(c_ids) == 1 and len(t_ids) == 1:
            entry = items.pop(("new-trello", t_ids[0]))
            items[("new-custompms", c_ids[0])].trello = entry.trello


async def _read_whole(cycle: CycleContext, items: dict[tuple[str, str], Item]) -> None:
    """Unlinked records a feed gave only in part are read whole; gone ones drop out."""
    for key, item in list(items.items()):
        if item.link is not None:
            continue
        for side in SIDES:
            record = getattr(item, side)
            if record is None or not record.partial:
                continue
            whole = await cycle.systems[side].get(record.kind, record.id)
            setattr(item, side, whole)
        if item.custompms is None and item.trello is None:
            del items[key]


async def _drop_orphans(
    cycle: CycleContext, flow: Flow, mapping: FlowMapping, items: dict[tuple[str, str], Item]
) -> None:
    parent = flow.parent
    if parent is None or parent.flow is None:
        return
    parent_flow = cycle.flow_file.get(parent.flow)
    for key, item in list(items.items()):
        if item.link is not None or item.custompms is None or item.trello is not None:
            continue
        record = item.custompms
        parent_id = mapping.parent_id("custompms", record)
        if record.deleted or parent_id is None:
            continue
        if cycle.index.get(parent.flow, "custompms", parent_id) is not None:
            continue
        if await cycle.systems["custompms"].get(parent_flow.custompms, parent_id) is None:
            del items[key]
            for op in (OP_SYNC, OP_WAIT):
                cycle.clear_letter(flow.name, "trello", record.id, op)


__all__ = ["gather", "read", "scope_of"]
