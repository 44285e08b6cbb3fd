"""One sync cycle: read what changed on both sides, decide per record, write, record.

For each flow, in reference order (customers, projects, tasks, comments):

1. read the changes of both sides since the stored cursors (a full listing on ``full``);
2. pair them up: linked pairs, then unlinked records matched by backlink footer or match
   keys, then the rest (to be created on the other side); records left over from earlier
   cycles (dead letters, records waiting for their parent, held deletes) join in;
3. per record: merge linked pairs property by property, create what is new (journaled),
   apply deletions by the flow's policy (an edit beats a delete);
4. hold the flow's deletions if they trip the circuit breaker; otherwise apply them;
5. commit each record's outcome as it completes; advance a feed's cursor once every flow
   reading that feed is done, so a crash anywhere repeats reads, never loses a change, and
   repeats no write (a repeated change merges into a no-op against the stored base).

A system that refuses our credentials or cannot be reached stops the cycle at once; a
record that fails on its own goes to the dead-letter list and the cycle goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from pmbridge.engine.merge import Base, ConflictNote, MergeRule, plan_pair
from pmbridge.engine.repair import find_created_on_trello, intent_payload
from pmbridge.engine.report import CycleReport, Direction
from pmbridge.engine.state import LinkIndex, about_flow, base_of, link_base
from pmbridge.errors import (
    AuthenticationError,
    InvalidValueError,
    NotFoundError,
    PmbridgeError,
    RateLimitedError,
    RemoteSystemError,
    StaleVersionError,
    UnavailableError,
)
from pmbridge.flows.mapping import FlowMapping, Unmapped, View
from pmbridge.flows.models import Flow, FlowFile
from pmbridge.records import Record, Side, other_side
from pmbridge.store import Conflict, Link, Store
from pmbridge.systems.base import Feed, Scope, System

FATAL = (AuthenticationError, RateLimitedError)
DIRECTION: dict[Side, Direction] = {"trello": "to_trello", "custompms": "to_custompms"}
OP_SYNC, OP_WAIT, OP_HELD_DELETE = "sync", "wait", "held_delete"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SyncOptions:
    """How to run a cycle.

    :param full: read everything instead of changes (finds what feeds do not show)
    :param full_every: make every N-th cycle a full one (counted in the store's run log)
    :param dry_run: plan and report, write nothing anywhere
    :param flows: only these flows (None: all)
    :param allow_deletes: let deletions through the circuit breaker
    :param delete_share: the breaker trips above this share of a flow's links …
    :param delete_min: … and above this many deletions
    :param concurrency: records processed at once per flow
    """

    full: bool = False
    full_every: int | None = None
    dry_run: bool = False
    flows: Sequence[str] | None = None
    allow_deletes: bool = False
    delete_share: float = 0.10
    delete_min: int = 5
    concurrency: int = 8


@dataclass(slots=True)
class _Item:
    """One unit of work: a linked pair, or an unlinked record (or a matched pair)."""

    link: Link | None = None
    custompms: Record | None = None
    trello: Record | None = None


@dataclass
class _Delete:
    """A deletion to propagate, held back until the circuit breaker has counted them all."""

    flow: str
    target: Side
    source_id: str
    describe: str
    apply: Callable[[], Any]


@dataclass
class _FlowRun:
    flow: Flow
    mapping: FlowMapping
    rules: list[MergeRule]
    deletes: list[_Delete] = field(default_factory=list)
    open_intents: dict[str, Any] = field(default_factory=dict)  # source id → open Intent


class CycleStopped(PmbridgeError):
    """A cycle stopped before its end; ``report`` says what it had done."""

    def __init__(self, cause: PmbridgeError, report: CycleReport):
        self.cause = cause
        self.report = report
        super().__init__(str(cause))


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

    # --- the cycle ----------------------------------------------------------------------

    async def run(self, options: SyncOptions | None = None) -> CycleReport:
        """Run one cycle. Raises ``CycleStopped`` when a system stops it."""
        options = options or SyncOptions()
        if not options.full and self._full_is_due(options.full_every):
            options = replace(options, full=True)
        report = CycleReport(dry_run=options.dry_run, full=options.full)
        selected = self._selected_flows(options)
        self._options = options
        self._report = report
        self._index = LinkIndex(self.store, write_through=not options.dry_run)
        self._index.load(self.flow_file.names)
        self._reads: dict[tuple[Side, str], Feed] = {}
        self._cursors: dict[tuple[Side, str], str | None] = {}
        self._about_locks: dict[str, asyncio.Lock] = {}
        self._rejected: set[tuple[Side, str]] = set()  # set aside by this cycle's reads
        self._letters = {
            (d.flow, d.side, d.record_id, d.operation) for d in self.store.dead_letters()
        }
        self._held_conflicts = {
            (c.flow, c.custompms_id, c.property) for c in self.store.conflicts(status="held")
        }
        run_id = None if options.dry_run else self.store.start_run()
        try:
            # No separate credentials check: the first read of each system fails just as
            # clearly, and an idle cycle stays a handful of calls.
            for system in self.systems.values():
                begin = getattr(system, "begin_cycle", None)
                if begin is not None:
                    await begin()
            for flow in selected:
                await self._sync_flow(flow)
                self._commit_cursors(flow, selected)
        except (AuthenticationError, RateLimitedError, UnavailableError) as err:
            report.problem(str(err))
            if run_id is not None:
                self.store.finish_run(run_id, "failed", report.as_json(), error=str(err))
            raise CycleStopped(err, report) from err
        if run_id is not None:
            self.store.finish_run(run_id, report.status, report.as_json())
        return report

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

    def _mapping(self, flow: Flow) -> FlowMapping:
        return FlowMapping(flow, self._index.resolve, custompms_url=self.custompms_url)

    async def resolve_conflict(self, conflict_id: int, take: Side) -> str:
        """Settle a conflict: write the value of side ``take`` to both sides (where it is not
        already) and make it the base. Returns a sentence saying what was done."""
        conflict = self.store.get_conflict(conflict_id)
        if conflict is None:
            raise PmbridgeError(f"there is no conflict {conflict_id}; see `pmbridge conflicts`")
        if conflict.flow not in self.flow_file.names:
            raise PmbridgeError(
                f"conflict {conflict_id} is of flow {conflict.flow}, "
                "which the flow file no longer has"
            )
        flow = self.flow_file.get(conflict.flow)
        self._options = SyncOptions()
        self._index = LinkIndex(self.store)
        self._index.load(self.flow_file.names)
        link = self._index.get(flow.name, "custompms", conflict.custompms_id)
        if link is None:
            raise PmbridgeError(
                f"conflict {conflict_id}: {flow.custompms} {conflict.custompms_id} is no longer "
                "linked, so there is nothing to write"
            )
        run = _FlowRun(flow, self._mapping(flow), [])
        value = conflict.custompms_value if take == "custompms" else conflict.trello_value
        base = base_of(link)
        for side in ("custompms", "trello"):
            target_id = link.custompms_id if side == "custompms" else link.trello_id
            fields = run.mapping.write_fields(
                side, {conflict.property: value}, custompms_id=link.custompms_id
            )
            if not fields:
                continue
            current = await self.systems[side].get(run.mapping.kind(side), target_id)
            if current is not None:
                view = run.mapping.view(side, current).values
                if view.get(conflict.property) == value:
                    getattr(base, side)[conflict.property] = value
                    continue
            written = await self._write(side, run, "update", target_id, fields)
            back = run.mapping.view(side, written).values
            getattr(base, side)[conflict.property] = back.get(conflict.property, value)
        self._index.put(
            replace(link, base=link_base(base, deleted=(link.base or {}).get("deleted")))
        )
        self.store.resolve_conflict(conflict_id, take)
        return (
            f"Conflict {conflict_id} resolved: {flow.name} {conflict.property} is now "
            f"{value!r} on both sides (taken from {take})."
        )

    # --- reading ------------------------------------------------------------------------

    def _trello_scope(self, kind: str) -> list[str]:
        """The Trello containers to read for ``kind``: linked workspaces or boards."""
        for flow in self.flow_file.flows:
            if (kind in ("organization", "board") and flow.trello == "organization") or (
                kind in ("card", "comment") and flow.trello == "board"
            ):
                links = self._index.links(flow.name)
                return [link.trello_id for link in links if not _planned(link.trello_id)]
        return []

    def _known_trello_ids(self, kind: str) -> frozenset[str]:
        """Trello ids of ``kind`` that links already hold (ours: no need to fetch them)."""
        ids: set[str] = set()
        for flow in self.flow_file.flows:
            names = [flow.name]
            if flow.trello == "board":
                names.append(about_flow(flow.name))
            for name in names:
                is_card = name.endswith(".about_card")
                if (flow.trello == kind and not is_card) or (kind == "card" and is_card):
                    ids.update(link.trello_id for link in self._index.links(name))
        return frozenset(ids)

    async def _read(self, side: Side, kind: str) -> Feed:
        """Everything ``side`` reports changed in ``kind`` this cycle (read once, cached)."""
        key = (side, kind)
        if key in self._reads:
            return self._reads[key]
        system = self.systems[side]
        stored = None if self._options.full else self.store.get_cursor(side, kind)
        if side == "custompms":
            records: list[Record] = []
            rejected: list[tuple[str, str]] = []
            cursor = stored
            complete = True
            while True:
                feed = await system.read(kind, cursor)
                records.extend(feed.records)
                rejected.extend(feed.rejected)
                cursor = feed.cursor
                complete = complete and feed.complete
                if not feed.more:
                    break
            result = Feed(records, cursor, complete=complete, rejected=rejected)
        elif kind == "organization" and stored is None:
            result = await system.read(kind, None, Scope())
        else:
            known = self._known_trello_ids(kind)
            scope = Scope(tuple(self._trello_scope(kind)), known=known)
            result = await system.read(kind, stored, scope)
        self._reads[key] = result
        self._cursors[key] = result.cursor
        self._set_aside(side, kind, result.rejected)
        return result

    def _set_aside(self, side: Side, kind: str, rejected: list[tuple[str, str]]) -> None:
        """Dead-letter records a system sent malformed; the cycle goes on with the rest.
        (Filed under the first flow of their kind; that flow retries them.)"""
        flow = next(f for f in self.flow_file.flows if getattr(f, side) == kind)
        for record_id, reason in rejected:
            self._rejected.add((side, record_id))
            self._report.add(flow.name, DIRECTION[other_side(side)], "errors")
            self._report.problem(f"{flow.name} {side} {record_id}: {reason}")
            self._dead_letter_flow(flow.name, other_side(side), record_id, OP_SYNC, reason)

    def _commit_cursors(self, done: Flow, selected: list[Flow]) -> None:
        """Advance the cursors of feeds that every selected flow reading them has used."""
        if self._options.dry_run:
            return
        position = selected.index(done)
        names = {f.name for f in selected}
        for side in ("custompms", "trello"):
            kind = done.custompms if side == "custompms" else done.trello
            readers = [f for f in self.flow_file.flows if getattr(f, side) == kind]
            if any(f.name not in names for f in readers):
                continue  # a flow left out of this run still needs these changes
            if any(selected.index(f) > position for f in readers):
                continue
            cursor = self._cursors.get((side, kind))
            if cursor is not None:
                self.store.set_cursor(side, kind, cursor)

    # --- one flow -----------------------------------------------------------------------

    async def _sync_flow(self, flow: Flow) -> None:
        mapping = self._mapping(flow)
        run = _FlowRun(
            flow,
            mapping,
            [
                MergeRule(p.key, p.direction, flow.policy_for(p), p.type in ("text", "markdown"))
                for p in flow.properties
            ],
        )
        if not self._options.dry_run:
            run.open_intents = {i.source_id: i for i in self.store.open_intents(flow.name)}
        c_feed = await self._read("custompms", flow.custompms)
        t_feed = await self._read("trello", flow.trello)
        items: dict[tuple[str, str], _Item] = {}

        def item_for(side: Side, record: Record) -> None:
            link = self._index.get(flow.name, side, record.id)
            if link is None:
                if side == "trello" and self._is_about_card(flow, record.id):
                    return
                if not mapping.belongs(side, record):
                    return
                key = (f"new-{side}", record.id)
            else:
                key = ("link", link.custompms_id)
            entry = items.setdefault(key, _Item(link=link))
            setattr(entry, side, record)

        for record in c_feed.records:
            item_for("custompms", record)
        for record in t_feed.records:
            item_for("trello", record)
        await self._verify_absent(run, t_feed, items)
        await self._add_leftovers(run, items, item_for)
        await self._match_new(run, items)

        total = len(items)
        done = 0
        self.progress(flow.name, 0, total)
        work = iter(list(items.values()))
        items.clear()

        async def worker() -> None:
            # Workers share one iterator: only ``concurrency`` tasks exist at a time, however
            # many records there are.
            nonlocal done
            for entry in work:
                await self._process(run, entry)
                done += 1
                self.progress(flow.name, done, total)

        await _gather_all([worker() for _ in range(max(1, self._options.concurrency))])
        await self._apply_deletes(run)

    async def _verify_absent(
        self, run: _FlowRun, t_feed: Feed, items: dict[tuple[str, str], _Item]
    ) -> None:
        """Linked objects missing from a complete listing of their container: gone or moved?

        Only a complete read lists containers; each absent object is looked up before it
        counts as deleted, so a partial or failed read never turns into deletions.
        """
        if t_feed.listed is None or not t_feed.complete:
            return
        scope = set(self._trello_scope(run.flow.trello)) or {"*"}
        if run.flow.trello == "organization":
            scope = {"*"}
        if not scope <= t_feed.listed:
            return
        seen = {r.id for r in t_feed.records}
        trello = self.systems["trello"]
        for link in self._index.links(run.flow.name):
            if link.trello_id in seen:
                continue
            record = await trello.get(run.flow.trello, link.trello_id)
            if record is None:
                record = Record(run.flow.trello, link.trello_id, deleted=True)
            items.setdefault(("link", link.custompms_id), _Item(link=link)).trello = record

    async def _add_leftovers(
        self,
        run: _FlowRun,
        items: dict[tuple[str, str], _Item],
        item_for: Callable[[Side, Record], None],
    ) -> None:
        """Records from earlier cycles that still need work: failures, waits, held deletes,
        and creates whose outcome a crash left unknown (open journal intents)."""
        pending: dict[tuple[Side, str], None] = {}
        for letter in self.store.dead_letters(run.flow.name):
            pending[(other_side(letter.side), letter.record_id)] = None  # type: ignore[arg-type]
        if not self._options.dry_run:
            for intent in self.store.open_intents(run.flow.name):
                pending[(other_side(intent.target_side), intent.source_id)] = None
        for source, record_id in pending:
            if (source, record_id) in self._rejected:
                continue
            link = self._index.get(run.flow.name, source, record_id)
            key = ("link", link.custompms_id) if link else (f"new-{source}", record_id)
            if key in items and getattr(items[key], source) is not None:
                continue
            kind = run.mapping.kind(source)
            try:
                record = await self.systems[source].get(kind, record_id)
            except InvalidValueError as err:  # still malformed: it stays set aside
                self._report.add(run.flow.name, DIRECTION[other_side(source)], "errors")
                self._report.problem(f"{run.flow.name} {source} {record_id}: {err}")
                self._dead_letter(run, other_side(source), record_id, OP_SYNC, str(err))
                continue
            if record is None:
                if link is None:
                    for op in (OP_SYNC, OP_WAIT, OP_HELD_DELETE):
                        self._clear_letter(run.flow.name, other_side(source), record_id, op)
                    continue
                record = Record(kind, record_id, deleted=True)
            elif link is None and not run.mapping.belongs(source, record):
                # Readable now but another flow's (a comment set aside before its parent
                # was known): the change that fixed it brings it to that flow's feed.
                for op in (OP_SYNC, OP_WAIT):
                    self._clear_letter(run.flow.name, other_side(source), record_id, op)
                continue
            item_for(source, record)

    async def _match_new(self, run: _FlowRun, items: dict[tuple[str, str], _Item]) -> None:
        """Pair unlinked records that are the same object: by backlink footer (a card we
        made whose link a crash lost), then by match key within the same parent where
        exactly one candidate is on each side."""
        mapping = run.mapping
        new_c = {k[1]: v for k, v in items.items() if k[0] == "new-custompms" and v.custompms}
        new_t = {k[1]: v for k, v in items.items() if k[0] == "new-trello" and v.trello}
        for tid, entry in list(new_t.items()):
            assert entry.trello is not None
            cid = mapping.footer_id(entry.trello)
            if not cid or entry.trello.deleted:
                continue
            if cid not in new_c:
                if self._index.get(run.flow.name, "custompms", cid) is not None:
                    continue  # its task is linked to another card: this one is a copy
                record = await self.systems["custompms"].get(run.flow.custompms, cid)
                if record is None or record.deleted:
                    continue
                new_c[cid] = items[("new-custompms", cid)] = _Item(custompms=record)
            new_c.pop(cid).trello = entry.trello
            del items[("new-trello", tid)]
            new_t.pop(tid)
        if not run.flow.match:
            return
        by_key: dict[tuple[Any, ...], tuple[list[str], list[str]]] = {}
        for side, pool in (("custompms", new_c), ("trello", new_t)):
            for rid, entry in pool.items():
                record = getattr(entry, side)
                if record is None or record.deleted or record.partial:
                    continue
                try:
                    view = mapping.view(side, record)
                except Unmapped:
                    continue
                parent = run.flow.parent
                match = mapping.match_key(side, view)
                if match is None:
                    continue
                scope = view.values.get(parent.key) if parent else None
                by_key.setdefault((scope, *match), ([], []))[side == "trello"].append(rid)
        for c_ids, t_ids in by_key.values():
            if len(c_ids) == 1 and len(t_ids) == 1:
                entry = items.pop(("new-trello", t_ids[0]))
                items[("new-custompms", c_ids[0])].trello = entry.trello

    # --- one record ---------------------------------------------------------------------

    async def _process(self, run: _FlowRun, item: _Item) -> None:
        source: Side = "custompms" if item.custompms is not None else "trello"
        source_id = (item.custompms or item.trello).id  # type: ignore[union-attr]
        target = other_side(source)
        if item.link is not None:
            source, source_id, target = "custompms", item.link.custompms_id, "trello"
        try:
            if item.link is not None:
                await self._sync_linked(run, item)
            elif item.custompms is not None and item.trello is not None:
                await self._link_pair(run, item.custompms, item.trello)
            else:
                await self._create_counterpart(run, source, item.custompms or item.trello)  # type: ignore[arg-type]
            for op in (OP_SYNC, OP_WAIT):
                self._clear_letter(run.flow.name, target, source_id, op)
                self._clear_letter(run.flow.name, source, source_id, op)
            self._complete_settled_intents(run, item)
        except Unmapped as err:
            if err.waiting:
                self._report.waiting += 1
                self._dead_letter(run, target, source_id, OP_WAIT, f"waiting: {err}")
            else:
                self._report.add(run.flow.name, DIRECTION[target], "errors")
                self._report.problem(f"{run.flow.name} {source} {source_id}: {err}")
                self._dead_letter(run, target, source_id, OP_SYNC, str(err))
        except FATAL:
            raise
        except UnavailableError as err:
            if not err.maybe_applied:
                raise
            self._report.add(run.flow.name, DIRECTION[target], "errors")
            self._report.problem(f"{run.flow.name} {source} {source_id}: {err}")
        except (InvalidValueError, NotFoundError, StaleVersionError, RemoteSystemError) as err:
            self._report.add(run.flow.name, DIRECTION[err.system], "errors")  # type: ignore[index]
            self._report.problem(f"{run.flow.name} {source} {source_id}: {err}")
            self._dead_letter(run, target, source_id, OP_SYNC, str(err))

    def _complete_settled_intents(self, run: _FlowRun, item: _Item) -> None:
        """Close the open intents of records that are linked now (by repair or matching)."""
        for record in (item.custompms, item.trello):
            intent = run.open_intents.get(record.id) if record is not None else None
            if intent is None or intent.completed_at is not None:
                continue
            side = other_side(intent.target_side)
            link = self._index.get(run.flow.name, side, record.id)  # type: ignore[arg-type]
            if link is not None:
                result = link.trello_id if intent.target_side == "trello" else link.custompms_id
                self.store.complete_intent(intent.id, result)
                run.open_intents.pop(record.id, None)

    async def _sync_linked(self, run: _FlowRun, item: _Item) -> None:
        assert item.link is not None
        link = item.link
        flow = run.flow
        c, t = item.custompms, item.trello
        marks = dict(link.base or {})
        deleted_on = marks.get("deleted")
        if c is not None and c.deleted and t is not None and t.deleted:
            self._index.remove(flow.name, link.custompms_id)
            return
        base = base_of(link)
        if c is not None and c.deleted and deleted_on != "custompms":
            await self._deleted_on(run, "custompms", link, t, base)
            return
        if t is not None and t.deleted and deleted_on != "trello":
            await self._deleted_on(run, "trello", link, c, base)
            return
        try:
            t_view = (
                run.mapping.view("trello", t, base.trello)
                if t is not None and not t.deleted
                else None
            )
        except Unmapped:
            # Moved out of the sync's scope (an unmapped list or board): unlink, never delete.
            self._index.remove(flow.name, link.custompms_id)
            self._report.add(flow.name, "to_custompms", "unlinked")
            return
        c_view = run.mapping.view("custompms", c) if c is not None and not c.deleted else None
        if deleted_on == "custompms" and c_view is not None:
            marks.pop("deleted", None)  # a person restored the record in Custompms
        elif deleted_on == "custompms" and t_view is not None and t_view.values != base.trello:
            # Edited on Trello after its record was deleted in Custompms: an edit beats a
            # delete, so the record comes back.
            c = await self._write("custompms", run, "update", link.custompms_id, {"deleted": False})
            c_view = run.mapping.view("custompms", c)
            self._report.add(flow.name, "to_custompms", "created")
            marks.pop("deleted", None)
        if deleted_on == "trello" and c_view is not None and c_view.values != base.custompms:
            self._index.remove(flow.name, link.custompms_id)
            assert c is not None
            await self._create_counterpart(run, "custompms", c)
            return
        await self._merge_and_write(run, link, base, c, c_view, t, t_view, marks)

    async def _merge_and_write(
        self,
        run: _FlowRun,
        link: Link,
        base: Base,
        c: Record | None,
        c_view: View | None,
        t: Record | None,
        t_view: View | None,
        marks: Mapping[str, Any],
    ) -> Record | None:
        """Merge a linked pair, write what changed, store the new base; returns what the
        Trello write answered (None when nothing was written to Trello)."""
        flow = run.flow
        written_trello: Record | None = None
        for _attempt in range(3):
            plan = plan_pair(
                run.rules,
                base,
                c_view.values if c_view else base.custompms,
                t_view.values if t_view else base.trello,
                custompms_times=c_view.times if c_view else None,
                trello_times=t_view.times if t_view else None,
            )
            new_base = Base(dict(plan.base.custompms), dict(plan.base.trello))
            c_version = (c.version if c else None) or link.custompms_version
            try:
                if plan.to_custompms:
                    fields = run.mapping.write_fields("custompms", plan.to_custompms)
                    written = await self._write(
                        "custompms", run, "update", link.custompms_id, fields, version=c_version
                    )
                    c_version = written.version
                    back = run.mapping.view("custompms", written).values
                    new_base.custompms.update({k: back[k] for k in plan.to_custompms if k in back})
                    self._report.add(flow.name, "to_custompms", "updated")
                if plan.to_trello:
                    fields = run.mapping.write_fields(
                        "trello", plan.to_trello, custompms_id=link.custompms_id
                    )
                    fields.update(self._placement_fields(run, plan.to_trello, new_base, fields))
                    written = await self._write("trello", run, "update", link.trello_id, fields)
                    written_trello = written
                    try:
                        back = run.mapping.view("trello", written).values
                    except Unmapped:
                        back = {}
                    new_base.trello.update({k: back[k] for k in plan.to_trello if k in back})
                    self._report.add(flow.name, "to_trello", "updated")
            except StaleVersionError:
                c = await self.systems["custompms"].get(flow.custompms, link.custompms_id)
                if c is None:
                    raise
                c_view = run.mapping.view("custompms", c)
                continue
            break
        else:
            raise StaleVersionError(
                f"Custompms {flow.custompms} {link.custompms_id} kept changing while being "
                "written; it will be retried next cycle",
                system="custompms",
            )
        self._log_conflicts(run, link, plan.conflicts)
        changed = plan.to_custompms or plan.to_trello or new_base != base_of(link)
        if changed or c_version != link.custompms_version:
            self._index.put(
                replace(
                    link,
                    base=link_base(new_base, **{k: v for k, v in marks.items() if k == "deleted"}),
                    custompms_version=c_version,
                )
            )
        return written_trello

    def _placement_fields(
        self, run: _FlowRun, to_trello: Mapping[str, Any], base: Base, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A card's board and list travel together: a card moving to another board needs
        its list named there, and a card changing list is told its board (so Trello need
        not be asked where the card is)."""
        parent = run.flow.parent
        lists = next((p for p in run.flow.properties if p.type == "enum"), None)
        if run.flow.trello != "card" or parent is None or lists is None:
            return {}
        extra: dict[str, Any] = {}
        if parent.key in to_trello and lists.trello not in fields:
            value = base.custompms.get(lists.key)
            if value is not None:
                extra.update(run.mapping.write_fields("trello", {lists.key: value}))
        if lists.trello in fields and parent.trello not in fields:
            value = base.custompms.get(parent.key)
            if value is not None:
                extra.update(run.mapping.write_fields("trello", {parent.key: value}))
        return extra

    def _log_conflicts(self, run: _FlowRun, link: Link, notes: list[ConflictNote]) -> None:
        for note in notes:
            self._report.add(
                run.flow.name, DIRECTION[other_side(note.winner or "trello")], "conflicts"
            )
            if note.winner is None:
                key = (run.flow.name, link.custompms_id, note.key)
                if key in self._held_conflicts:
                    continue
                self._held_conflicts.add(key)
            if self._options.dry_run:
                continue
            self.store.add_conflict(
                Conflict(
                    flow=run.flow.name,
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

    async def _link_pair(self, run: _FlowRun, c: Record, t: Record) -> None:
        """Link two existing records found to be the same object, then merge them."""
        link = Link(run.flow.name, c.id, t.id, base=link_base(Base()), custompms_version=c.version)
        c_view = run.mapping.view("custompms", c)
        t_view = run.mapping.view("trello", t)
        self._report.add(run.flow.name, "to_trello", "linked")
        written = await self._merge_and_write(run, link, Base(), c, c_view, t, t_view, {})
        await self._ensure_footer(run, link, written or t)

    async def _ensure_footer(self, run: _FlowRun, link: Link, t: Record) -> None:
        fields = run.mapping.with_footer(t.fields, link.custompms_id)
        if fields:
            await self._write("trello", run, "update", link.trello_id, fields)

    async def _create_counterpart(self, run: _FlowRun, source: Side, record: Record) -> None:
        """Create on the other side the object for an unlinked record (journaled)."""
        flow = run.flow
        if record.deleted:
            return
        if record.partial:
            full = await self.systems[source].get(record.kind, record.id)
            if full is None:
                return
            record = full
        target = other_side(source)
        try:
            view = run.mapping.view(source, record)
        except Unmapped as err:
            if source == "trello":
                return  # outside the sync's scope (an unmapped list, an unlinked parent)
            raise err
        custompms_id = record.id if source == "custompms" else None
        if source == "custompms" and flow.parent is not None and flow.parent.via == "about_card":
            await self._ensure_about_card(run, view.values.get(flow.parent.key))
        fields = run.mapping.write_fields(target, view.values, custompms_id=custompms_id)
        fields = {k: v for k, v in fields.items() if v is not None}  # unset: the system's default
        container = run.mapping.parent_id(target, Record(record.kind, "", fields))
        intent, interrupted = self._intent(flow, target, record.id, container, fields, custompms_id)
        key = intent.idempotency_key if intent else f"pmbridge:{flow.name}:{source}:{record.id}"
        created = None
        if interrupted and target == "trello":
            # An earlier attempt may have created it before its answer was lost: look first.
            # (Custompms needs no look: the same Idempotency-Key returns the first object.)
            created = await find_created_on_trello(
                self.systems["trello"], run.mapping, intent.payload
            )
        if created is None:
            try:
                created = await self._write(target, run, "create", None, fields, key=key)
            except UnavailableError as err:
                if not err.maybe_applied or target != "trello" or intent is None:
                    raise
                created = await find_created_on_trello(
                    self.systems["trello"], run.mapping, intent.payload
                )
                if created is None:
                    self._dead_letter(run, target, record.id, OP_SYNC, str(err))
                    raise
            self._report.add(flow.name, DIRECTION[target], "created")
        else:
            self._report.add(flow.name, DIRECTION[target], "linked")
        c_rec, t_rec = (record, created) if source == "custompms" else (created, record)
        await self._link_created(run, c_rec, t_rec, intent)
        if source == "trello":
            stored = self._index.get(flow.name, "trello", record.id)
            if stored is not None:
                await self._ensure_footer(run, stored, record)

    def _intent(
        self,
        flow: Flow,
        target: Side,
        source_id: str,
        container: str | None,
        fields: Mapping[str, Any],
        custompms_id: str | None,
    ) -> tuple[Any, bool]:
        """The journal intent of a create, and whether an earlier attempt was interrupted.

        An open intent left by an earlier attempt is reused (its create may have happened).
        A record created again after its counterpart was deleted gets a new generation of
        the key, so Custompms does not hand back the deleted object.
        """
        if self._options.dry_run:
            return None, False
        base_key = f"pmbridge:{flow.name}:{other_side(target)}:{source_id}"
        key, generation = base_key, 1
        intent = self.store.find_intent(key)
        while intent is not None and not intent.is_open:
            generation += 1
            key = f"{base_key}:{generation}"
            intent = self.store.find_intent(key)
        if intent is not None:
            return intent, True
        payload = intent_payload(container, _jsonable(fields), custompms_id, datetime.now(UTC))
        return self.store.add_intent(flow.name, target, source_id, key, payload), False

    async def _link_created(self, run: _FlowRun, c: Record, t: Record, intent: Any) -> None:
        try:
            t_values = run.mapping.view("trello", t).values
        except Unmapped:
            t_values = {}
        base = Base(run.mapping.view("custompms", c).values, t_values)
        link = Link(run.flow.name, c.id, t.id, base=link_base(base), custompms_version=c.version)
        if self._options.dry_run:
            self._index.put(link)
            return
        with self.store.transaction() as tx:
            if intent is not None:
                tx.complete_intent(intent.id, t.id if intent.target_side == "trello" else c.id)
            self._index.put(link, tx)
        if intent is not None:
            run.open_intents.pop(intent.source_id, None)

    def _is_about_card(self, flow: Flow, card_id: str) -> bool:
        if flow.trello != "card":
            return False
        return any(
            self._index.get(about_flow(f.name), "trello", card_id) is not None
            for f in self.flow_file.flows
            if f.trello == "board"
        )

    async def _ensure_about_card(self, run: _FlowRun, project_id: Any) -> None:
        """Create the project's "About this project" card if it has none yet."""
        parent = run.flow.parent
        if parent is None or parent.flow is None or project_id is None:
            return
        name = about_flow(parent.flow)
        lock = self._about_locks.setdefault(str(project_id), asyncio.Lock())
        async with lock:
            if self._index.get(name, "custompms", str(project_id)) is not None:
                return
            board = self._index.resolve(parent.flow, None, "custompms", str(project_id))
            if board is None:
                raise Unmapped(f"project {project_id} has no board yet", waiting=True)
            card_name = run.flow.about_card.name if run.flow.about_card else "About this project"
            card = await self._find_about_card(board, card_name)
            if card is None:
                fields = {"idBoard": board, "name": card_name, "pos": "top"}
                card = await self._write("trello", run, "create", None, fields, kind="card")
                self._report.add(run.flow.name, "to_trello", "created")
            self._index.put(Link(name, str(project_id), card.id, base={}))

    async def _find_about_card(self, board: str, card_name: str) -> Record | None:
        if _planned(board):
            return None
        feed = await self.systems["trello"].read("card", None, Scope((board,)))
        for record in feed.records:
            if record.fields.get("name") == card_name and not record.deleted:
                return record
        return None

    # --- deletions ----------------------------------------------------------------------

    async def _deleted_on(
        self, run: _FlowRun, side: Side, link: Link, survivor: Record | None, base: Base
    ) -> None:
        """``side`` deleted its object; apply the flow's policy to the other one."""
        flow = run.flow
        target = other_side(side)
        policy = flow.on_delete.in_custompms if side == "custompms" else flow.on_delete.in_trello
        survivor_view = None
        if survivor is not None and not survivor.deleted:
            try:
                survivor_view = run.mapping.view(target, survivor, getattr(base, target))
            except Unmapped:
                survivor_view = None
        if survivor_view is not None and survivor_view.values != getattr(base, target):
            # An edit beats a delete: bring the deleted one back with the edit.
            assert survivor is not None
            if side == "custompms":
                restored = await self._write(
                    "custompms", run, "update", link.custompms_id, {"deleted": False}
                )
                self._report.add(flow.name, "to_custompms", "created")
                restored_view = run.mapping.view("custompms", restored)
                await self._merge_and_write(
                    run, link, base, restored, restored_view, survivor, survivor_view, {}
                )
            else:
                self._index.remove(flow.name, link.custompms_id)
                await self._create_counterpart(run, "custompms", survivor)
            return
        target_id = link.trello_id if target == "trello" else link.custompms_id
        describe = f"{flow.name}: {run.mapping.kind(target)} {target_id} on {target}"
        if policy == "unlink":
            self._index.remove(flow.name, link.custompms_id)
            self._report.add(flow.name, DIRECTION[target], "unlinked")
            return

        async def apply() -> None:
            if policy == "delete":
                await self._write(target, run, "delete", target_id, {})
                self._index.remove(flow.name, link.custompms_id)
            else:
                assert flow.archive is not None
                prop = flow.property(flow.archive.custompms)
                fields = run.mapping.write_fields(target, {prop.key: True})
                await self._write(target, run, "update", target_id, fields)
                # Both bases say "archived": if the deleted record comes back (restored by a
                # person), its un-archived state is a change that re-opens the other side.
                new = Base({**base.custompms, prop.key: True}, {**base.trello, prop.key: True})
                self._index.put(replace(link, base=link_base(new, deleted=side)))
            self._report.add(flow.name, DIRECTION[target], "deleted")

        source_id = link.custompms_id if side == "custompms" else link.trello_id
        run.deletes.append(_Delete(flow.name, target, source_id, describe, apply))

    async def _apply_deletes(self, run: _FlowRun) -> None:
        """Apply the flow's deletions, unless there are too many (the circuit breaker)."""
        if not run.deletes:
            return
        links = max(self._index.count(run.flow.name), 1)
        options = self._options
        too_many = len(run.deletes) > options.delete_min and (
            len(run.deletes) > options.delete_share * links
        )
        if too_many and not options.allow_deletes:
            self._report.held_deletes.extend(d.describe for d in run.deletes)
            self._report.problem(
                f"{run.flow.name}: held {len(run.deletes)} deletions of {links} linked objects "
                f"(more than {options.delete_share:.0%} and more than {options.delete_min}); "
                "check them, then run again with --allow-deletes to apply them"
            )
            for delete in run.deletes:
                self._dead_letter(
                    run,
                    delete.target,
                    delete.source_id,
                    OP_HELD_DELETE,
                    "deletion held by the circuit breaker; run with --allow-deletes",
                )
            return
        for delete in run.deletes:
            try:
                await delete.apply()
                self._clear_letter(run.flow.name, delete.target, delete.source_id, OP_HELD_DELETE)
            except FATAL:
                raise
            except RemoteSystemError as err:
                if isinstance(err, UnavailableError) and not err.maybe_applied:
                    raise
                self._report.add(run.flow.name, DIRECTION[delete.target], "errors")
                self._report.problem(f"{delete.describe}: {err}")
                self._dead_letter(run, delete.target, delete.source_id, OP_SYNC, str(err))

    # --- writes and bookkeeping ---------------------------------------------------------

    async def _write(
        self,
        side: Side,
        run: _FlowRun,
        operation: str,
        id: str | None,
        fields: Mapping[str, Any],
        *,
        version: str | None = None,
        key: str = "",
        kind: str | None = None,
    ) -> Record:
        """One write to a system; in a dry run, what the write would have returned."""
        kind = kind or run.mapping.kind(side)
        system = self.systems[side]
        if self._options.dry_run:
            return Record(kind, id or f"{_PLANNED}{kind} {key.rsplit(':', 1)[-1]})", dict(fields))
        if operation == "create":
            return await system.create(kind, fields, idempotency_key=key)
        if operation == "update":
            assert id is not None
            return await system.update(kind, id, fields, version=version)
        assert id is not None
        await system.delete(kind, id)
        return Record(kind, id, deleted=True)

    def _dead_letter(self, run: _FlowRun, side: Side, record_id: str, op: str, error: str) -> None:
        self._dead_letter_flow(run.flow.name, side, record_id, op, error)

    def _dead_letter_flow(self, flow: str, side: Side, record_id: str, op: str, error: str) -> None:
        if self._options.dry_run:
            return
        self.store.add_dead_letter(flow, side, record_id, op, error, None)
        self._letters.add((flow, side, record_id, op))

    def _clear_letter(self, flow: str, side: str, record_id: str, op: str = OP_SYNC) -> None:
        key = (flow, side, record_id, op)
        if key in self._letters and not self._options.dry_run:
            self.store.clear_dead_letter(flow, side, record_id, op)
            self._letters.discard(key)


_PLANNED = "(new "


def _planned(id: str) -> bool:
    """Whether ``id`` stands for an object a dry run only planned to create."""
    return id.startswith(_PLANNED)


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, datetime | date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


async def _gather_all(tasks: list[Any]) -> None:
    """Run tasks together; if one raises, cancel the rest and raise the first error."""
    running = [asyncio.ensure_future(t) for t in tasks]
    try:
        await asyncio.gather(*running)
    except BaseException:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
