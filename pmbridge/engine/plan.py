"""The sync decision for whole records: pure, no I/O, no clock.

``plan_flow`` takes what a cycle read for one flow — linked pairs and unlinked records,
already paired up by ``engine.gather`` — with the links and the options, and returns the
actions to carry out (``engine.actions``). Per record, the decision table:

    linked, both sides deleted                 unlink
    linked, deleted on one side                the flow's on_delete policy for the other
                                               (unlink / archive / delete), unless the
                                               other side was edited: an edit beats a
                                               delete (restore it, or create it again)
    linked, moved out of the sync's scope      unlink (never delete)
    linked, otherwise                          merge property by property
                                               (``engine.merge``); write what changed
    unlinked on both sides, same object        link them, then merge
    unlinked on one side                       create it on the other (journaled)
    parent not linked yet                      wait
    cannot be mapped as it is                  set aside (dead letter, with what to fix)

Deletions of a flow are counted together: when they are more than the circuit breaker
allows, each becomes a ``HoldDelete`` for a person to confirm.

One module because it is the whole decision table of the planner, pure; the set and
checklist rules already live in ``merge_sets``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

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
from pmbridge.engine.merge import Base, MergeRule, plan_pair
from pmbridge.engine.state import base_of
from pmbridge.flows.mapping import FlowMapping, Unmapped, View
from pmbridge.flows.models import Flow
from pmbridge.records import Record, Side, other_side
from pmbridge.store import Link

log = logging.getLogger(__name__)


class Links(Protocol):
    """What the planner reads of the links (``engine.state.LinkIndex``)."""

    def get(self, flow: str, side: Side, id: str) -> Link | None: ...

    def count(self, flow: str) -> int: ...


@dataclass(slots=True)
class Item:
    """One unit of work: a linked pair, a matched pair, or an unlinked record."""

    link: Link | None = None
    custompms: Record | None = None
    trello: Record | None = None

    @property
    def subject(self) -> tuple[Side, str]:
        """The side and id a failure of this item is filed under."""
        if self.link is not None:
            return "custompms", self.link.custompms_id
        record = self.custompms or self.trello
        assert record is not None
        return ("custompms" if self.custompms is not None else "trello"), record.id


@dataclass(frozen=True)
class Breaker:
    """The delete circuit breaker: hold a flow's deletions when there are more than
    ``share`` of its links and more than ``minimum``, unless ``allow``."""

    share: float = 0.10
    minimum: int = 5
    allow: bool = False


@dataclass(frozen=True)
class FlowContext:
    """Everything the planner knows about one flow in this cycle."""

    flow: Flow
    mapping: FlowMapping
    links: Links
    breaker: Breaker = Breaker()
    #: (custompms id, property key) of conflicts already held for a person
    held: frozenset[tuple[str, str]] = frozenset()
    rules: tuple[MergeRule, ...] = field(init=False)

    def __post_init__(self) -> None:
        rules = tuple(
            MergeRule(
                p.key,
                p.direction,
                self.flow.policy_for(p),
                p.type in ("text", "markdown"),
                shape=p.type if p.type in ("set", "items") else "value",
                member=p.by,
            )
            for p in self.flow.properties
        )
        object.__setattr__(self, "rules", rules)


@dataclass(frozen=True)
class Step:
    """The actions for one item, carried out in order; ``side``/``record_id`` name the
    record a failure is filed under."""

    side: Side
    record_id: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class FlowPlan:
    """A flow's plan: steps (independent of each other), then its deletions."""

    flow: str
    steps: tuple[Step, ...]
    deletes: tuple[Archive | Delete | HoldDelete, ...] = ()

    @property
    def actions(self) -> list[Action]:
        return [a for step in self.steps for a in step.actions] + list(self.deletes)


def plan_flow(ctx: FlowContext, items: Iterable[Item]) -> FlowPlan:
    """The actions for every item of one flow, deletions last (see the module docstring)."""
    steps: list[Step] = []
    deletes: list[Archive | Delete] = []
    for item in items:
        side, record_id = item.subject
        actions = plan_item(ctx, item)
        deletes.extend(a for a in actions if isinstance(a, Archive | Delete))
        rest = tuple(a for a in actions if not isinstance(a, Archive | Delete))
        if rest:
            steps.append(Step(side, record_id, rest))
    plan = FlowPlan(ctx.flow.name, tuple(steps), tuple(_breaker(ctx, deletes)))
    if log.isEnabledFor(logging.DEBUG):
        for action in plan.actions:
            log.debug("%s: %s", ctx.flow.name, action.describe())
    return plan


def _breaker(
    ctx: FlowContext, deletes: list[Archive | Delete]
) -> list[Archive | Delete | HoldDelete]:
    breaker = ctx.breaker
    if len(deletes) <= breaker.minimum or breaker.allow:
        return list(deletes)
    links = max(ctx.links.count(ctx.flow.name), 1)
    if len(deletes) <= breaker.share * links:
        return list(deletes)
    reason = (
        f"{ctx.flow.name}: held {len(deletes)} deletions of {links} linked objects "
        f"(more than {breaker.share:.0%} and more than {breaker.minimum}); "
        "check them, then run again with --allow-deletes to apply them"
    )
    return [HoldDelete(ctx.flow.name, d, reason) for d in deletes]


def plan_item(ctx: FlowContext, item: Item) -> list[Action]:
    """The actions for one item."""
    side, record_id = item.subject
    try:
        if item.link is not None:
            return _plan_linked(ctx, item.link, item.custompms, item.trello)
        if item.custompms is not None and item.trello is not None:
            return [LinkPair(ctx.flow.name, item.custompms, item.trello)]
        record = item.custompms or item.trello
        assert record is not None
        return _plan_create(ctx, side, record)
    except Unmapped as err:
        target = other_side(side)
        if err.waiting:
            return [Wait(ctx.flow.name, target, record_id, f"waiting: {err}")]
        return [SetAside(ctx.flow.name, target, record_id, str(err))]


def _plan_create(
    ctx: FlowContext, source: Side, record: Record, relink: Link | None = None
) -> list[Action]:
    """Create the counterpart of an unlinked record on the other side."""
    if record.deleted:
        return []
    try:
        view = ctx.mapping.view(source, record)
    except Unmapped:
        if source == "trello":
            return []  # outside the sync's scope (an unmapped list, an unlinked parent)
        raise
    target = other_side(source)
    parent = ctx.flow.parent
    anchor = None
    if source == "custompms" and parent is not None and parent.via == "about_card":
        anchor = view.values.get(parent.key)
        assert parent.flow is not None
        if anchor is not None and ctx.links.get(parent.flow, "custompms", str(anchor)) is None:
            raise Unmapped(f"{parent.key} {anchor} has no counterpart yet", waiting=True)
    else:
        # A reference that does not resolve yet makes the record wait (checked here, so the
        # plan says so); the executor resolves again when it writes.
        ctx.mapping.write_fields(target, view.values, custompms_id=record.id)
    # Items keep each system's own ids: the new object's items are new there. An empty set
    # or list is left out (a new object has none; a Custompms 1.0 has no such property).
    items = {rule.key for rule in ctx.rules if rule.shape == "items"}
    collections = {rule.key for rule in ctx.rules if rule.shape != "value"}
    values = {
        key: [{**item, "id": None} for item in value] if key in items and value else value
        for key, value in view.values.items()
        if key not in collections or value
    }
    create = Create(ctx.flow.name, target, record, values, anchor=anchor, relink=relink)
    return [
        create,
        *(
            SetAsideProperty(ctx.flow.name, target, record.id, key, reason)
            for key, reason in sorted(view.problems.items())
        ),
    ]


def _plan_linked(ctx: FlowContext, link: Link, c: Record | None, t: Record | None) -> list[Action]:
    flow = ctx.flow
    marks = dict(link.base or {})
    deleted_on = marks.get("deleted")
    if c is not None and c.deleted and t is not None and t.deleted:
        return [Unlink(flow.name, link, counted_on=None)]
    base = base_of(link)
    if c is not None and c.deleted and deleted_on != "custompms":
        return _plan_deleted(ctx, "custompms", link, t, c, base)
    if t is not None and t.deleted and deleted_on != "trello":
        return _plan_deleted(ctx, "trello", link, c, t, base)
    try:
        t_view = (
            ctx.mapping.view("trello", t, base.trello) if t is not None and not t.deleted else None
        )
    except Unmapped:
        # Moved out of the sync's scope (an unmapped list or board): unlink, never delete.
        return [Unlink(flow.name, link, counted_on="custompms")]
    c_view = ctx.mapping.view("custompms", c) if c is not None and not c.deleted else None
    restore: Side | None = None
    if deleted_on == "custompms" and c_view is not None:
        marks.pop("deleted", None)  # a person restored the record in Custompms
    elif deleted_on == "custompms" and t_view is not None and t_view.values != base.trello:
        # Edited on Trello after its record was deleted in Custompms: an edit beats a
        # delete, so the record comes back.
        restore = "custompms"
        marks.pop("deleted", None)
    if deleted_on == "trello" and c_view is not None and c_view.values != base.custompms:
        assert c is not None
        return _plan_create(ctx, "custompms", c, relink=link)
    return plan_merge(ctx, link, base, c, c_view, t, t_view, marks, restore=restore)


def plan_merge(
    ctx: FlowContext,
    link: Link,
    base: Base,
    c: Record | None,
    c_view: View | None,
    t: Record | None,
    t_view: View | None,
    marks: dict[str, Any],
    *,
    restore: Side | None = None,
    footer: bool = False,
) -> list[Action]:
    """Merge a linked pair: a ``Conflict`` per property changed differently on both sides
    (not already held), then an ``Update`` when anything is to be written or kept."""
    # A property one side cannot map (a person missing from the people map) is set aside
    # for this record: not merged, its base kept; the rest of the record syncs.
    aside = {
        key: reason
        for view in (c_view, t_view)
        if view is not None
        for key, reason in view.problems.items()
    }
    # A property a system lacks (a Custompms without the feature: the mapping has it in no
    # view), and a set or item list one side's record does not carry, are left alone, as is
    # their base.
    skipped = (
        set(aside)
        | set(ctx.mapping.unsupported)
        | {
            rule.key
            for rule in ctx.rules
            if rule.shape != "value"
            and any(v is not None and rule.key not in v.values for v in (c_view, t_view))
        }
    )
    merged = plan_pair(
        [rule for rule in ctx.rules if rule.key not in skipped],
        base,
        c_view.values if c_view else base.custompms,
        t_view.values if t_view else base.trello,
        custompms_times=c_view.times if c_view else None,
        trello_times=t_view.times if t_view else None,
    )
    new_base = Base(dict(merged.base.custompms), dict(merged.base.trello))
    for key in skipped:
        for kept_base, old in (
            (new_base.custompms, base.custompms),
            (new_base.trello, base.trello),
        ):
            if key in old:
                kept_base[key] = old[key]
    set_aside = _set_aside_unmappable(ctx, link, base, new_base, merged.to_custompms, "custompms")
    set_aside += _set_aside_unmappable(ctx, link, base, new_base, merged.to_trello, "trello")
    version = c.version if c is not None and c.version else link.custompms_version
    old_marks = {k: v for k, v in (link.base or {}).items() if k == "deleted"}
    kept = {k: v for k, v in marks.items() if k == "deleted"}
    # Conflicts are logged before the writes: a winning write that acts and then fails must
    # not take the losing value with it (the next cycle would find no conflict any more).
    actions: list[Action] = [
        Conflict(ctx.flow.name, link, note)
        for note in merged.conflicts
        if not (note.winner is None and (link.custompms_id, note.key) in ctx.held)
    ]
    if (
        merged.to_custompms
        or merged.to_trello
        or restore
        or footer
        or new_base != base_of(link)
        or version != link.custompms_version
        or kept != old_marks
    ):
        actions.append(
            Update(
                ctx.flow.name,
                link,
                base,
                new_base,
                dict(merged.to_custompms),
                dict(merged.to_trello),
                c,
                t,
                marks=kept,
                restore=restore,
                footer=footer,
            )
        )
    for key, reason in sorted(aside.items()):
        # Filed like any failure of the pair: under its Custompms record, which the next
        # cycle reads again.
        actions.append(SetAsideProperty(ctx.flow.name, "trello", link.custompms_id, key, reason))
    return actions + set_aside


def _set_aside_unmappable(
    ctx: FlowContext,
    link: Link,
    base: Base,
    new_base: Base,
    writes: dict[str, Any],
    target: Side,
) -> list[Action]:
    """Take out of ``writes`` each value ``target`` has no counterpart for (a status no list
    is mapped to): that property alone is set aside, with what to fix, and keeps its old
    base so it is tried again; the pair's other properties are written."""
    set_aside: list[Action] = []
    for key in list(writes):
        try:
            ctx.mapping.write_fields(target, {key: writes[key]}, custompms_id=link.custompms_id)
        except Unmapped as err:
            if err.waiting:
                continue  # a reference to a parent not linked yet: the executor waits
            del writes[key]
            new_base.custompms[key] = base.custompms.get(key)
            new_base.trello[key] = base.trello.get(key)
            reason = f"{key}: {err}"
            set_aside.append(
                SetAsideProperty(ctx.flow.name, "trello", link.custompms_id, key, reason)
            )
    return set_aside


def _plan_deleted(
    ctx: FlowContext,
    side: Side,
    link: Link,
    survivor: Record | None,
    gone: Record,
    base: Base,
) -> list[Action]:
    """``side`` deleted its object; apply the flow's policy to the other one."""
    flow = ctx.flow
    target = other_side(side)
    policy = flow.on_delete.in_custompms if side == "custompms" else flow.on_delete.in_trello
    survivor_view = None
    if survivor is not None and not survivor.deleted:
        try:
            survivor_view = ctx.mapping.view(target, survivor, getattr(base, target))
        except Unmapped:
            survivor_view = None
    if survivor_view is not None and _edited(ctx, survivor_view.values, getattr(base, target)):
        # An edit beats a delete: bring the deleted one back with the edit.
        if side == "custompms":
            marks = {k: v for k, v in (link.base or {}).items() if k == "deleted"}
            marks.pop("deleted", None)
            return plan_merge(
                ctx, link, base, None, None, survivor, survivor_view, marks, restore="custompms"
            )
        assert survivor is not None
        return _plan_create(ctx, "custompms", survivor, relink=link)
    if policy == "unlink":
        return [Unlink(flow.name, link, counted_on=target)]
    if policy == "delete":
        return [Delete(flow.name, link, side)]
    return [Archive(flow.name, link, side, base)]


def _edited(ctx: FlowContext, values: dict[str, Any], base: dict[str, Any]) -> bool:
    """Whether the survivor of a deletion changed since ``base`` by more than being archived:
    archiving goes the deletion's way, so it beats nothing — and the archive the engine
    wrote itself looks the same when a crash kept its base from being recorded."""
    archive = ctx.flow.archive
    if archive is not None:
        key = ctx.flow.property(archive.custompms).key
        if values.get(key) is True:
            values = {**values, key: base.get(key)}
    return values != base
