"""One sync cycle: read → plan → execute → commit cursors, flow by flow.

For each flow, in reference order (customers, projects, tasks, comments):

1. ``engine.gather`` reads what changed on both sides since the stored cursors (a full
   listing on ``full``) and pairs records up with their links;
2. ``engine.plan`` decides, purely, what to do with each record;
3. ``engine.execute`` carries the plan out, committing each record's outcome as it
   completes;
4. a feed's cursor advances once every flow reading that feed is done, so a crash anywhere
   repeats reads, never loses a change, and repeats no write (a repeated change merges
   into a no-op against the stored base).

A system that refuses our credentials or cannot be reached stops the cycle at once
(``CycleStopped``); a record that fails on its own goes to the dead-letter list and the
cycle goes on. ``--dry-run`` plans and "executes" against nothing: every write answers
what it would have written, so later flows plan on top of earlier ones.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from pmbridge.engine.context import CycleContext, Progress, SyncOptions, Targets
from pmbridge.engine.echoes import Echoes
from pmbridge.engine.execute import Executor
from pmbridge.engine.gather import gather
from pmbridge.engine.plan import Breaker, FlowContext, FlowPlan, plan_flow
from pmbridge.engine.report import CycleReport
from pmbridge.engine.state import LinkIndex
from pmbridge.errors import (
    AuthenticationError,
    CycleStopped,
    RateLimitedError,
    UnavailableError,
)
from pmbridge.flows.mapping import FlowMapping
from pmbridge.flows.models import Flow, FlowFile
from pmbridge.records import SIDES, Side
from pmbridge.store import Store
from pmbridge.systems.base import System

__all__ = ["CycleStopped", "Engine", "Progress", "SyncOptions", "Targets"]

log = logging.getLogger(__name__)


class Engine:
    """Runs sync cycles between two systems for the flows of a flow file."""

    def __init__(
        self,
        flow_file: FlowFile,
        store: Store,
        custompms: System,
        trello: System,
        *,
        custompms_url: str = "",
        progress: Progress | None = None,
    ):
        self.flow_file = flow_file
        self.store = store
        self.systems: dict[Side, System] = {"custompms": custompms, "trello": trello}
        self.custompms_url = custompms_url
        self.progress = progress or (lambda flow, done, total: None)
        # What our own writes produced, across cycles: a notice of one of them is an echo.
        self.echoes = Echoes()

    def context(self, options: SyncOptions) -> CycleContext:
        """A fresh cycle context, with links, dead letters and held conflicts loaded."""
        cycle = CycleContext(
            flow_file=self.flow_file,
            store=self.store,
            systems=self.systems,
            options=options,
            report=CycleReport(dry_run=options.dry_run, full=options.full),
            index=LinkIndex(self.store, write_through=not options.dry_run),
            custompms_url=self.custompms_url,
            progress=self.progress,
            echoes=self.echoes,
        )
        cycle.load()
        return cycle

    async def flow_context(self, cycle: CycleContext, flow: Flow) -> FlowContext:
        options = cycle.options
        mapping = FlowMapping(
            flow,
            cycle.index.resolve,
            custompms_url=self.custompms_url,
            unsupported=await self.unsupported(flow),
        )
        return FlowContext(
            flow=flow,
            mapping=mapping,
            links=cycle.index,
            breaker=Breaker(options.delete_share, options.delete_min, options.allow_deletes),
            held=frozenset((c, p) for f, c, p in cycle.held if f == flow.name),
        )

    async def unsupported(self, flow: Flow) -> frozenset[str]:
        """Keys of ``flow``'s properties that one of the systems lacks (a Custompms 1.0 has
        no task tags): the cycle leaves them out of the mapping, so it plans no merge, no
        conflict and no write for them. The systems say so (``System.unsupported``), as
        only they know; each asks its server at most once."""
        lacking = {
            side: await self.systems[side].unsupported(getattr(flow, side)) for side in SIDES
        }
        return frozenset(
            prop.key
            for prop in flow.properties
            if any(getattr(prop, side) in lacking[side] for side in SIDES)
        )

    async def run(self, options: SyncOptions | None = None) -> CycleReport:
        """Run one cycle. Raises ``CycleStopped`` when a system stops it."""
        cycle, _ = await self._run(options or SyncOptions())
        return cycle.report

    async def plan(self, options: SyncOptions | None = None) -> list[FlowPlan]:
        """A dry run's plans, flow by flow (``pmbridge sync --dry-run`` prints them)."""
        options = replace(options or SyncOptions(), dry_run=True)
        _, plans = await self._run(options)
        return plans

    async def _run(self, options: SyncOptions) -> tuple[CycleContext, list[FlowPlan]]:
        # A targeted cycle (a delivery's) is never made a full one: it reads its targets only.
        if options.targets is None and not options.full and self._full_is_due(options.full_every):
            options = replace(options, full=True)
        cycle = self.context(options)
        selected = self._selected_flows(options)
        log.debug(
            "cycle: %s%s%s",
            "full" if options.full else "incremental",
            ", dry run" if options.dry_run else "",
            f", only {options.targets.describe()}" if options.targets else "",
        )
        plans: list[FlowPlan] = []
        run_id = None if options.dry_run else self.store.start_run()
        cycle.run_id = run_id
        try:
            for system in self.systems.values():
                await system.begin_cycle()
            for flow in selected:
                if options.targets is not None and not any(
                    options.targets.reads(side, getattr(flow, side)) for side in SIDES
                ):
                    continue  # a targeted cycle: nothing of this flow was hinted
                plans.append(await self._sync_flow(cycle, flow))
                self._commit_cursors(cycle, flow, selected)
        except (AuthenticationError, RateLimitedError, UnavailableError) as err:
            cycle.report.problem(str(err))
            if run_id is not None:
                self.store.finish_run(run_id, "failed", cycle.report.as_json(), error=str(err))
            raise CycleStopped(err, cycle.report) from err
        except Exception as err:
            # Whatever else stops a cycle, its run ends with a status (never "running"); a
            # signal or a kill is the guard's to record (``pmbridge.store.guard``).
            if run_id is not None:
                self.store.finish_run(run_id, "failed", cycle.report.as_json(), error=str(err))
            raise
        if run_id is not None:
            self.store.finish_run(run_id, cycle.report.status, cycle.report.as_json())
        return cycle, plans

    async def _sync_flow(self, cycle: CycleContext, flow: Flow) -> FlowPlan:
        ctx = await self.flow_context(cycle, flow)
        items = await gather(cycle, flow, ctx.mapping)
        plan = plan_flow(ctx, items)
        log.debug("%s: %d item(s), %d action(s)", flow.name, len(items), len(plan.actions))
        if cycle.dry_run:
            cycle.report.plan.extend((flow.name, a.describe()) for a in plan.actions)
        await Executor(cycle).run_flow(ctx, plan)
        return plan

    def _full_is_due(self, every: int | None) -> bool:
        """Whether none of the last ``every - 1`` runs read everything."""
        if not every:
            return False
        recent = self.store.runs(limit=every - 1) if every > 1 else []
        return not any((run.summary or {}).get("full") for run in recent)

    def _selected_flows(self, options: SyncOptions) -> list[Flow]:
        if options.flows is None:
            return list(self.flow_file.flows)
        return [f for f in self.flow_file.flows if f.name in set(options.flows)]

    def _commit_cursors(self, cycle: CycleContext, done: Flow, selected: list[Flow]) -> None:
        """Advance the cursors of feeds that every selected flow reading them has used."""
        if cycle.dry_run:
            return
        position = selected.index(done)
        names = {f.name for f in selected}
        for side in SIDES:
            kind = getattr(done, side)
            readers = [f for f in self.flow_file.flows if getattr(f, side) == kind]
            if any(f.name not in names for f in readers):
                continue  # a flow left out of this run still needs these changes
            if any(selected.index(f) > position for f in readers):
                continue
            cursor = cycle.cursors.get((side, kind))
            saved = cycle.saved_cursors if cycle.saved_cursors is not None else {}
            if cursor is not None and cursor != saved.get((side, kind)):
                self.store.set_cursor(side, kind, cursor)
                saved[(side, kind)] = cursor

    async def resolve_conflict(self, conflict_id: int, take: Side, *, force: bool = False) -> str:
        """Settle a conflict (see ``engine.resolve``); returns a sentence saying what was done."""
        from pmbridge.engine.resolve import resolve_conflict

        return await resolve_conflict(self, conflict_id, take, force=force)
