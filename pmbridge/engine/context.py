"""What one cycle carries from step to step: its options, its report, the links, what
the systems answered, and the bookkeeping of dead letters and held conflicts.

A ``CycleContext`` is made per cycle by ``engine.run`` and handed to the reading, planning
and executing steps; nothing of a cycle is kept on the ``Engine`` itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pmbridge.engine.echoes import Echoes
from pmbridge.engine.report import CycleReport, Direction
from pmbridge.engine.state import LinkIndex
from pmbridge.flows.models import FlowFile
from pmbridge.records import Side
from pmbridge.store import Intent, Store, Transaction
from pmbridge.systems.base import Feed, System

DIRECTION: dict[Side, Direction] = {"trello": "to_trello", "custompms": "to_custompms"}
OP_SYNC, OP_WAIT, OP_HELD_DELETE = "sync", "wait", "held_delete"
# A property set aside for one record: "property:<key>" (the rest of the record syncs).
OP_PROPERTY = "property:"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Targets:
    """What a hint-targeted cycle reads (``pmbridge serve`` after a webhook delivery): per
    side, the kinds whose feeds to read, and the containers to read them in (Trello boards);
    a side with no kinds named is not read at all. The periodic cycle reads everything, so a
    missed delivery is only late, never lost.

    :param kinds: side → kinds to read
    :param containers: side → the only containers to read in (absent: all of them)
    """

    kinds: Mapping[Side, frozenset[str]]
    containers: Mapping[Side, frozenset[str]] = field(default_factory=dict)

    def reads(self, side: Side, kind: str) -> bool:
        return kind in self.kinds.get(side, frozenset())

    def describe(self) -> str:
        parts = []
        for side, kinds in self.kinds.items():
            where = self.containers.get(side)
            inside = f" in {len(where)} container(s)" if where else ""
            parts.append(f"{side} {', '.join(sorted(kinds))}{inside}")
        return "; ".join(parts) or "nothing"


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
    :param targets: read only these feeds (a hint-targeted cycle); None: everything
    """

    full: bool = False
    full_every: int | None = None
    dry_run: bool = False
    flows: Sequence[str] | None = None
    allow_deletes: bool = False
    delete_share: float = 0.10
    delete_min: int = 5
    concurrency: int = 8
    targets: Targets | None = None


@dataclass
class CycleContext:
    """The state of one cycle (see the module docstring)."""

    flow_file: FlowFile
    store: Store
    systems: dict[Side, System]
    options: SyncOptions
    report: CycleReport
    index: LinkIndex
    custompms_url: str = ""
    progress: Progress = field(default=lambda flow, done, total: None)
    echoes: Echoes = field(default_factory=Echoes)
    #: the store's run of this cycle (None in a dry run): its writes are recorded there
    run_id: int | None = None
    reads: dict[tuple[Side, str], Feed] = field(default_factory=dict)
    #: each feed's position after this cycle's read
    cursors: dict[tuple[Side, str], str | None] = field(default_factory=dict)
    #: the positions saved in the store, read once at the cycle's first feed read
    saved_cursors: dict[tuple[str, str], str] | None = None
    #: records a read of this cycle set aside as malformed
    rejected: set[tuple[Side, str]] = field(default_factory=set)
    #: (flow, side, record id, operation) of every dead letter
    letters: set[tuple[str, str, str, str]] = field(default_factory=set)
    #: (flow, custompms id, property) of every conflict held for a person
    held: set[tuple[str, str, str]] = field(default_factory=set)
    open_intents: dict[str, dict[str, Intent]] = field(default_factory=dict)
    anchor_locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    @property
    def dry_run(self) -> bool:
        return self.options.dry_run

    def load(self) -> None:
        """Read what the cycle needs from the store up front: letters, held conflicts, open
        intents (links are read as the cycle touches them, see ``LinkIndex``)."""
        self.letters = {
            (d.flow, d.side, d.record_id, d.operation) for d in self.store.dead_letters()
        }
        self.held = {
            (c.flow, c.custompms_id, c.property) for c in self.store.conflicts(status="held")
        }
        if not self.dry_run:
            for intent in self.store.open_intents():
                self.open_intents.setdefault(intent.flow, {})[intent.source_id] = intent

    def dead_letter(
        self,
        flow: str,
        side: Side,
        record_id: str,
        op: str,
        error: str,
        tx: Transaction | None = None,
    ) -> None:
        """File a dead letter (in ``tx`` when given: with what else it commits)."""
        if self.dry_run:
            return
        (tx or self.store).add_dead_letter(flow, side, record_id, op, error, None)
        self.letters.add((flow, side, record_id, op))

    def clear_letter(self, flow: str, side: str, record_id: str, op: str = OP_SYNC) -> None:
        key = (flow, side, record_id, op)
        if key in self.letters and not self.dry_run:
            self.store.clear_dead_letter(flow, side, record_id, op)
            self.letters.discard(key)

    def clear_property_letters(self, flow: str, record_id: str, keep: set[str]) -> None:
        """Clear a record's property dead letters, but for the properties in ``keep``."""
        for f, side, rid, op in list(self.letters):
            if f == flow and rid == record_id and op.startswith(OP_PROPERTY):
                if op[len(OP_PROPERTY) :] not in keep:
                    self.clear_letter(flow, side, record_id, op)

    def failed(self, flow: str, target: Side, record_id: str, source: Side, error: str) -> None:
        """A record failed for a reason a person must fix: count it, say it, file it."""
        self.report.add(flow, DIRECTION[target], "errors")
        self.report.problem(f"{flow} {source} {record_id}: {error}")
        self.dead_letter(flow, target, record_id, OP_SYNC, error)
