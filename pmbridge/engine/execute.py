"""Carrying out a flow's plan: the writes, the journal, repair and dead letters.

Steps (one per record) run on a fixed pool of workers; each step's actions run in order,
and a failure stops only its own step: it goes to the dead-letter list, which every cycle
retries, and the flow goes on — also when a call used up its retries (a 5xx, a lost
connection, 429s). Only a system that refuses our credentials, or that fails
``UNREACHABLE_AFTER`` steps in a row without answering one, stops the cycle. Deletions run
after every step, so the circuit breaker has counted them all first.

Where a write's answer changes what should be written — a Custompms version that moved
on (``StaleVersionError``), a record restored before its merge — the executor reads again
and asks the planner (``engine.plan.plan_merge``), never deciding by itself.

One module because every action handler shares the executor's per-cycle bookkeeping
(strikes, logged conflicts, echoes, run writes); next split: creates (journal, anchor,
footer) apart from updates and deletions.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pmbridge.concurrency import run_all
from pmbridge.engine.actions import (
    Action,
    Archive,
    Conflict,
    Create,
    Delete,
    HoldDelete,
    LinkPair,
    SetAside,
    SetAsideProperty,
    Unlink,
    Update,
    Wait,
)
from pmbridge.engine.context import (
    DIRECTION,
    OP_HELD_DELETE,
    OP_PROPERTY,
    OP_SYNC,
    OP_WAIT,
    CycleContext,
)
from pmbridge.engine.journal import open_intent, probe_of
from pmbridge.engine.merge import Base
from pmbridge.engine.plan import FlowContext, FlowPlan, Step, plan_merge
from pmbridge.engine.relink import forget_gone
from pmbridge.engine.state import PLANNED, about_flow, base_of, link_base, planned
from pmbridge.errors import (
    AuthenticationError,
    InvalidValueError,
    NotFoundError,
    RateLimitedError,
    RemoteSystemError,
    StaleVersionError,
    UnavailableError,
)
from pmbridge.flows.mapping import Unmapped
from pmbridge.records import Record, Side, other_side
from pmbridge.store import Conflict as ConflictRow
from pmbridge.store import Intent, Link
from pmbridge.store.rows import OPEN_CONFLICT_STATUSES
from pmbridge.systems.base import CreatedProbe

STALE_RETRIES = 3
log = logging.getLogger(__name__)

# A system whose calls fail for this many steps in a row, with no step succeeding in
# between, answers nothing at all: the cycle stops instead of dead-lettering every record.
UNREACHABLE_AFTER = 3


class Executor:
    """Carries out plans within one cycle (see the module docstring)."""

    def __init__(self, cycle: CycleContext):
        self.cycle = cycle
        self._strikes: dict[str, int] = {}
        self._logged: set[tuple[str, str, str, str]] | None = None

    async def run_flow(self, ctx: FlowContext, plan: FlowPlan) -> None:
        """Every step of ``plan`` on a pool of workers, then its deletions."""
        cycle = self.cycle
        total, done = len(plan.steps), 0
        cycle.progress(plan.flow, 0, total)
        work = iter(plan.steps)

        async def worker() -> None:
            # Workers share one iterator: only ``concurrency`` tasks exist at a time, however
            # many records there are.
            nonlocal done
            for step in work:
                await self._step(ctx, step)
                done += 1
                cycle.progress(plan.flow, done, total)

        # One worker's error stops the flow (the others are cancelled).
        await run_all(worker() for _ in range(max(1, cycle.options.concurrency)))
        for action in plan.deletes:
            await self._delete(ctx, action)

    # -- one step ------------------------------------------------------------------------

    async def _step(self, ctx: FlowContext, step: Step) -> None:
        cycle, flow = self.cycle, ctx.flow.name
        source, source_id = step.side, step.record_id
        target = other_side(source)
        try:
            for action in step.actions:
                await self.do(ctx, action)
            if not any(isinstance(a, Wait | SetAside) for a in step.actions):
                for op in (OP_SYNC, OP_WAIT):
                    cycle.clear_letter(flow, target, source_id, op)
                    cycle.clear_letter(flow, source, source_id, op)
                self._complete_settled_intents(ctx, step)
            self._strikes.clear()
            aside = {a.key for a in step.actions if isinstance(a, SetAsideProperty)}
            cycle.clear_property_letters(flow, source_id, keep=aside)
        except Unmapped as err:
            await self.do(ctx, _unmapped(flow, target, source_id, err))
        except AuthenticationError:
            raise
        except (UnavailableError, RateLimitedError) as err:
            self._strike(err)
            system: Side = "trello" if err.system == "trello" else "custompms"
            cycle.report.add(flow, DIRECTION[system], "errors")
            cycle.report.problem(f"{flow} {source} {source_id}: {err}; retried next cycle")
            cycle.dead_letter(flow, target, source_id, OP_SYNC, str(err))
        except (InvalidValueError, NotFoundError, StaleVersionError, RemoteSystemError) as err:
            system = "trello" if err.system == "trello" else "custompms"
            cycle.report.add(flow, DIRECTION[system], "errors")
            cycle.report.problem(f"{flow} {source} {source_id}: {err}")
            # A set a system refused part of (a member not on the board) is filed under
            # that property: what else the write carried was written.
            op = _set_refused(ctx, err, system) or OP_SYNC
            cycle.dead_letter(flow, target, source_id, op, str(err))

    def _strike(self, err: UnavailableError | RateLimitedError) -> None:
        """Count a step its system failed; re-raise when the system answers nothing at all."""
        self._strikes[err.system] = self._strikes.get(err.system, 0) + 1
        if self._strikes[err.system] >= UNREACHABLE_AFTER:
            raise err

    async def do(self, ctx: FlowContext, action: Action) -> None:
        """Carry out one action."""
        cycle, flow = self.cycle, ctx.flow.name
        match action:
            case Create():
                await self._create(ctx, action)
            case LinkPair():
                await self._link_pair(ctx, action)
            case Update():
                await self._update(ctx, action)
            case Conflict():
                self._conflict(ctx, action)
            case Unlink():
                cycle.index.remove(flow, action.link.custompms_id)
                if action.counted_on is not None:
                    cycle.report.add(flow, DIRECTION[action.counted_on], "unlinked")
            case Wait():
                cycle.report.waiting += 1
                cycle.dead_letter(flow, action.side, action.record_id, OP_WAIT, action.reason)
            case SetAside():
                source = other_side(action.side)
                cycle.failed(flow, action.side, action.record_id, source, action.reason)
            case SetAsideProperty():
                cycle.report.add(flow, DIRECTION[action.side], "errors")
                cycle.report.problem(f"{flow} {action.record_id}: {action.reason}")
                op = OP_PROPERTY + action.key
                cycle.dead_letter(flow, action.side, action.record_id, op, action.reason)
            case Archive() | Delete() | HoldDelete():
                await self._delete(ctx, action)

    # -- creating ------------------------------------------------------------------------

    async def _create(self, ctx: FlowContext, action: Create) -> None:
        """Create the counterpart of an unlinked record (journaled), then link them."""
        cycle, flow, mapping = self.cycle, ctx.flow, ctx.mapping
        record, target = action.source, action.target
        source = other_side(target)
        if action.relink is not None:
            forget_gone(cycle, flow, action.relink, target)
        if action.anchor is not None:
            await self._ensure_anchor(ctx, action.anchor)
        custompms_id = record.id if source == "custompms" else None
        fields = mapping.write_fields(target, action.values, custompms_id=custompms_id)
        fields = {k: v for k, v in fields.items() if v is not None}  # unset: the default
        container = mapping.parent_id(target, Record(record.kind, "", fields))
        intent, interrupted = open_intent(
            cycle, flow, target, record.id, container, fields, custompms_id
        )
        key = intent.idempotency_key if intent else f"pmbridge:{flow.name}:{source}:{record.id}"
        system = cycle.systems[target]
        kind = mapping.kind(target)
        created = None
        if interrupted and intent is not None:
            # An earlier attempt may have created it before its answer was lost: look first.
            created = await system.find_created(kind, self._probe(ctx, intent.payload, target))
        if created is None:
            try:
                created = await self.write(
                    target, kind, "create", None, fields, key=key, flow=flow.name
                )
            except UnavailableError as err:
                if not err.maybe_applied or intent is None:
                    raise
                created = await system.find_created(kind, self._probe(ctx, intent.payload, target))
                if created is None:
                    cycle.dead_letter(flow.name, target, record.id, OP_SYNC, str(err))
                    raise
            cycle.report.add(flow.name, DIRECTION[target], "created")
        else:
            cycle.report.add(flow.name, DIRECTION[target], "linked")
        c_rec, t_rec = (record, created) if source == "custompms" else (created, record)
        if source == "trello":
            # The footer before the link: should this stop in between, the open intent makes
            # the next cycle find the same task again (its Idempotency-Key) and write it.
            await self._ensure_footer(ctx, c_rec.id, t_rec.id, t_rec)
        self._link_created(ctx, c_rec, t_rec, intent)

    def _probe(self, ctx: FlowContext, payload: Any, target: Side) -> CreatedProbe:
        """How to recognise what an interrupted create made, never an object linked already."""
        index, flow = self.cycle.index, ctx.flow.name

        class Taken:
            def __contains__(self, id: object) -> bool:
                return index.get(flow, target, str(id)) is not None

        return replace(probe_of(ctx.mapping, payload), taken=Taken())

    def _link_created(self, ctx: FlowContext, c: Record, t: Record, intent: Intent | None) -> Link:
        cycle, mapping = self.cycle, ctx.mapping
        try:
            t_values = mapping.view("trello", t).values
        except Unmapped:
            t_values = {}
        base = Base(mapping.view("custompms", c).values, t_values)
        link = Link(ctx.flow.name, c.id, t.id, base=link_base(base), custompms_version=c.version)
        if cycle.dry_run:
            return cycle.index.put(link)
        with cycle.store.transaction() as tx:
            if intent is not None:
                tx.complete_intent(intent.id, t.id if intent.target_side == "trello" else c.id)
            link = cycle.index.put(link, tx)
        if intent is not None:
            cycle.open_intents.get(ctx.flow.name, {}).pop(intent.source_id, None)
        return link

    async def _ensure_footer(
        self, ctx: FlowContext, custompms_id: str, trello_id: str, t: Record
    ) -> None:
        """Write the backlink footer naming ``custompms_id`` on the Trello object, unless
        ``t`` (the object as read) carries it already."""
        fields = ctx.mapping.with_footer(t.fields, custompms_id)
        if fields:
            kind = ctx.mapping.kind("trello")
            await self.write(
                "trello", kind, "update", trello_id, fields, flow=ctx.flow.name, before=t
            )

    async def _ensure_anchor(self, ctx: FlowContext, parent_id: Any) -> None:
        """Make sure ``parent_id``'s anchor (its "About this project" card) exists."""
        cycle, parent = self.cycle, ctx.flow.parent
        if parent is None or parent.flow is None or parent_id is None:
            return
        name = about_flow(parent.flow)
        lock = cycle.anchor_locks.setdefault(f"{name}:{parent_id}", asyncio.Lock())
        async with lock:
            if cycle.index.get(name, "custompms", str(parent_id)) is not None:
                return
            container = cycle.index.resolve(parent.flow, None, "custompms", str(parent_id))
            if container is None:
                raise Unmapped(f"{parent.key} {parent_id} has no counterpart yet", waiting=True)
            system = cycle.systems["trello"]
            title = ctx.flow.about_card.name if ctx.flow.about_card else "About this project"
            parent_flow = cycle.flow_file.get(parent.flow)
            if cycle.dry_run or planned(container):
                anchor_id, created = f"{PLANNED}{system.anchor_kind} {parent_id})", True
            else:
                record, created = await system.anchor(parent_flow.trello, container, title)
                anchor_id = record.id
            if created:
                cycle.report.add(ctx.flow.name, "to_trello", "created")
            cycle.index.put(Link(name, str(parent_id), anchor_id, base={}))

    # -- linked pairs ----------------------------------------------------------------------

    async def _link_pair(self, ctx: FlowContext, action: LinkPair) -> None:
        """Link two existing records found to be the same object, then merge them."""
        c, t = action.custompms, action.trello
        link = Link(ctx.flow.name, c.id, t.id, base=link_base(Base()), custompms_version=c.version)
        self.cycle.report.add(ctx.flow.name, "to_trello", "linked")
        c_view = ctx.mapping.view("custompms", c)
        t_view = ctx.mapping.view("trello", t)
        for follow in plan_merge(ctx, link, Base(), c, c_view, t, t_view, {}, footer=True):
            await self.do(ctx, follow)

    async def _update(
        self, ctx: FlowContext, action: Update, attempts: int = STALE_RETRIES
    ) -> None:
        """Write a pair's merge, then keep its new base."""
        cycle, flow, mapping = self.cycle, ctx.flow, ctx.mapping
        link = action.link
        if action.restore == "custompms":
            restored = await self.write(
                "custompms",
                flow.custompms,
                "update",
                link.custompms_id,
                {"deleted": False},
                flow=flow.name,
            )
            cycle.report.add(flow.name, "to_custompms", "created")
            await self._remerge(ctx, action, restored)
            return
        new_base = Base(dict(action.base.custompms), dict(action.base.trello))
        c_version = (action.custompms.version if action.custompms else None) or (
            link.custompms_version
        )
        written_trello: Record | None = None
        try:
            if action.to_custompms:
                fields = mapping.write_fields("custompms", action.to_custompms)
                written = await self.write(
                    "custompms",
                    flow.custompms,
                    "update",
                    link.custompms_id,
                    fields,
                    version=c_version,
                    flow=flow.name,
                    before=action.custompms,
                )
                c_version = written.version
                back = mapping.view("custompms", written).values
                new_base.custompms.update({k: back[k] for k in action.to_custompms if k in back})
                cycle.report.add(flow.name, "to_custompms", "updated")
            if action.to_trello:
                fields = mapping.write_fields(
                    "trello", action.to_trello, custompms_id=link.custompms_id
                )
                written_trello = await self.write(
                    "trello",
                    flow.trello,
                    "update",
                    link.trello_id,
                    fields,
                    known=_known(ctx, new_base),
                    flow=flow.name,
                    before=action.trello,
                )
                try:
                    back = mapping.view("trello", written_trello).values
                except Unmapped:
                    back = {}
                new_base.trello.update({k: back[k] for k in action.to_trello if k in back})
                cycle.report.add(flow.name, "to_trello", "updated")
        except StaleVersionError:
            if attempts <= 1:
                raise StaleVersionError(
                    f"Custompms {flow.custompms} {link.custompms_id} kept changing while being "
                    "written; it will be retried next cycle",
                    system="custompms",
                ) from None
            current = await cycle.systems["custompms"].get(flow.custompms, link.custompms_id)
            if current is None:
                raise
            await self._remerge(ctx, action, current, attempts - 1)
            return
        link = cycle.index.put(
            replace(link, base=link_base(new_base, **action.marks), custompms_version=c_version)
        )
        if action.footer:
            current = written_trello or action.trello or Record("", "")
            await self._ensure_footer(ctx, link.custompms_id, link.trello_id, current)

    async def _remerge(
        self, ctx: FlowContext, action: Update, custompms: Record, attempts: int = STALE_RETRIES
    ) -> None:
        """Merge again with Custompms as it is now (after a restore or a stale version), and
        log the conflicts the first merge could not see (those it saw follow in the plan)."""
        t = action.trello
        t_view = None
        if t is not None and not t.deleted:
            t_view = ctx.mapping.view("trello", t, action.old_base.trello)
        link = self.cycle.index.get(ctx.flow.name, "custompms", action.link.custompms_id)
        link = link or action.link
        marks = dict(action.marks)

        def merge(c: Record | None) -> list[Action]:
            c_view = ctx.mapping.view("custompms", c) if c is not None else None
            base = action.old_base
            return plan_merge(ctx, link, base, c, c_view, t, t_view, marks, footer=action.footer)

        seen = set()
        if action.restore is None and action.custompms is not None:
            seen = {a.note.key for a in merge(action.custompms) if isinstance(a, Conflict)}
        for follow in merge(custompms):
            if isinstance(follow, Update):
                await self._update(ctx, follow, attempts)
            elif isinstance(follow, Conflict) and follow.note.key not in seen:
                self._conflict(ctx, follow)

    def _conflict(self, ctx: FlowContext, action: Conflict) -> None:
        cycle, note, link = self.cycle, action.note, action.link
        winner_side: Side = note.winner or "trello"
        cycle.report.add(ctx.flow.name, DIRECTION[other_side(winner_side)], "conflicts")
        if note.winner is None:
            key = (ctx.flow.name, link.custompms_id, note.key)
            if key in cycle.held:
                return
            cycle.held.add(key)
        if cycle.dry_run:
            return
        # A write that failed before it acted makes the next cycle find the same conflict
        # again: one log entry is enough.
        same = (link.custompms_id, note.key, _json_key(note.custompms), _json_key(note.trello))
        if same in self._logged_conflicts(ctx.flow.name):
            return
        self._logged_conflicts(ctx.flow.name).add(same)
        cycle.store.add_conflict(
            ConflictRow(
                flow=ctx.flow.name,
                custompms_id=link.custompms_id,
                trello_id=link.trello_id,
                property=note.key,
                base_value=note.base,
                custompms_value=note.custompms,
                trello_value=note.trello,
                policy=note.policy,
                winner=note.winner,
                custompms_changed_at=note.custompms_changed_at,
                trello_changed_at=note.trello_changed_at,
            )
        )

    def _logged_conflicts(self, flow: str) -> set[tuple[str, str, str, str]]:
        """The open conflicts of ``flow`` already logged (read once per flow and cycle)."""
        if self._logged is None:
            self._logged = {
                (
                    c.custompms_id,
                    c.property,
                    _json_key(c.custompms_value),
                    _json_key(c.trello_value),
                )
                for c in self.cycle.store.conflicts(OPEN_CONFLICT_STATUSES, flow=flow)
            }
        return self._logged

    # -- deletions -------------------------------------------------------------------------

    async def _delete(self, ctx: FlowContext, action: Archive | Delete | HoldDelete) -> None:
        cycle, flow = self.cycle, ctx.flow
        if isinstance(action, HoldDelete):
            held = action.delete
            if action.reason not in cycle.report.problems:
                cycle.report.problem(action.reason)
            cycle.report.held_deletes.append(held.describe())
            cycle.dead_letter(
                flow.name,
                held.target,
                _source_id(held),
                OP_HELD_DELETE,
                "deletion held by the circuit breaker; run with --allow-deletes",
            )
            return
        link, target = action.link, action.target
        target_id = link.trello_id if target == "trello" else link.custompms_id
        try:
            if isinstance(action, Delete):
                kind = ctx.mapping.kind(target)
                await self.write(target, kind, "delete", target_id, {}, flow=flow.name)
                cycle.index.remove(flow.name, link.custompms_id)
            else:
                assert flow.archive is not None
                prop = flow.property(flow.archive.custompms)
                fields = ctx.mapping.write_fields(target, {prop.key: True})
                kind = ctx.mapping.kind(target)
                written = await self.write(
                    target, kind, "update", target_id, fields, flow=flow.name
                )
                # Both bases say "archived": if the deleted record comes back (restored by a
                # person), its un-archived state is a change that re-opens the other side.
                base = action.base
                new = Base({**base.custompms, prop.key: True}, {**base.trello, prop.key: True})
                version = written.version if target == "custompms" else link.custompms_version
                marked = link_base(new, deleted=action.deleted_on)
                cycle.index.put(replace(link, base=marked, custompms_version=version))
            cycle.report.add(flow.name, DIRECTION[target], "deleted")
            cycle.clear_letter(flow.name, target, _source_id(action), OP_HELD_DELETE)
            self._strikes.clear()
        except AuthenticationError:
            raise
        except RemoteSystemError as err:
            if isinstance(err, UnavailableError | RateLimitedError):
                self._strike(err)
            cycle.report.add(flow.name, DIRECTION[target], "errors")
            cycle.report.problem(f"{action.describe()}: {err}")
            cycle.dead_letter(flow.name, target, _source_id(action), OP_SYNC, str(err))

    # -- bookkeeping -----------------------------------------------------------------------

    def _complete_settled_intents(self, ctx: FlowContext, step: Step) -> None:
        """Close the open intents of records that are linked now (by repair or matching)."""
        cycle = self.cycle
        intents = cycle.open_intents.get(ctx.flow.name, {})
        for source_id in _sources(step):
            intent = intents.get(source_id)
            if intent is None:
                continue
            side = other_side(intent.target_side)
            link = cycle.index.get(ctx.flow.name, side, source_id)
            if link is not None and not cycle.dry_run:
                result = link.trello_id if intent.target_side == "trello" else link.custompms_id
                cycle.store.complete_intent(intent.id, result)
                intents.pop(source_id, None)

    async def write(
        self,
        side: Side,
        kind: str,
        operation: str,
        id: str | None,
        fields: Mapping[str, Any],
        *,
        version: str | None = None,
        key: str = "",
        known: Mapping[str, Any] | None = None,
        flow: str = "",
        before: Record | None = None,
    ) -> Record:
        """One write to a system; in a dry run, what the write would have returned. The
        write is recorded with the run: the fields it sent, and their values in ``before``
        (the object as this cycle read it) where known."""
        system = self.cycle.systems[side]
        log.info(
            "%s%s %s %s %s: %s",
            "(dry run) " if self.cycle.dry_run else "",
            operation,
            side,
            kind,
            id or "(new)",
            ", ".join(sorted(fields)) or "-",
        )
        if self.cycle.dry_run:
            return Record(kind, id or f"{PLANNED}{kind} {key.rsplit(':', 1)[-1]})", dict(fields))
        if operation == "create":
            written = await system.create(kind, fields, idempotency_key=key)
        elif operation == "update":
            assert id is not None
            written = await system.update(kind, id, fields, version=version, known=known)
        else:
            assert id is not None
            await system.delete(kind, id)
            self._record(flow, side, kind, operation, id, {}, before)
            return Record(kind, id, deleted=True)
        self.cycle.echoes.remember(side, kind, written.id, written.version or written.updated_at)
        self._record(flow, side, kind, operation, written.id, fields, before)
        return written

    def _record(
        self,
        flow: str,
        side: Side,
        kind: str,
        operation: str,
        id: str,
        fields: Mapping[str, Any],
        before: Record | None,
    ) -> None:
        cycle = self.cycle
        if cycle.run_id is None:
            return
        was = None
        if before is not None and not before.deleted:
            was = {name: before.fields.get(name) for name in fields if name in before.fields}
        cycle.store.add_run_write(cycle.run_id, flow, side, kind, id, operation, was, fields)


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _known(ctx: FlowContext, base: Base) -> dict[str, Any]:
    """The Trello object's fields as last agreed (lets a write place a card without a read)."""
    known: dict[str, Any] = {}
    for key, value in base.trello.items():
        try:
            known.update(ctx.mapping.write_fields("trello", {key: value}))
        except Unmapped:
            continue
    return known


def _set_refused(ctx: FlowContext, err: Exception, system: Side) -> str | None:
    """``property:<key>`` when ``err`` refused a set property of the flow, else None."""
    field = getattr(err, "field", None)
    if not isinstance(err, InvalidValueError) or field is None:
        return None
    for prop in ctx.flow.properties:
        if prop.type == "set" and getattr(prop, system) == field:
            return OP_PROPERTY + prop.key
    return None


def _unmapped(flow: str, target: Side, record_id: str, err: Unmapped) -> Wait | SetAside:
    if err.waiting:
        return Wait(flow, target, record_id, f"waiting: {err}")
    return SetAside(flow, target, record_id, str(err))


def _source_id(action: Archive | Delete) -> str:
    link = action.link
    return link.custompms_id if action.deleted_on == "custompms" else link.trello_id


def _sources(step: Step) -> list[str]:
    """Ids of the records a step is about (a created or linked record's own id)."""
    ids = [step.record_id]
    for action in step.actions:
        if isinstance(action, Create):
            ids.append(action.source.id)
        elif isinstance(action, LinkPair):
            ids.extend((action.custompms.id, action.trello.id))
    return ids


__all__ = ["Executor", "base_of"]
