"""The three-way merge: a pure decision per property, no I/O.

For each linked pair the store keeps a base *per side*: the canonical value each side held
when the two last agreed. A side changed a property when its current value differs from its
own base. Keeping one base per side means a value a system normalises on write (Trello
renumbers a card's ``pos``; a date gains milliseconds) is never mistaken for an edit.

The decision table, per property (values are canonical, see ``pmbridge.engine.values``):

    neither side changed          nothing
    only custompms changed        copy it to Trello
    only trello changed           copy it to Custompms
    both changed to one value     nothing to write; both bases move to it
    both changed a text, in       the two edits are merged line by line and the result
      lines that do not touch     is written to both sides (no conflict)
    both changed, differently     conflict → the policy picks the winner, whose value is
                                  copied over (``manual`` holds both as they are); the losing
                                  value always goes to the conflict log

A one-way property (direction to_trello / to_custompms) only ever copies from its source;
an edit on its target side is left alone until the source changes, and when that overwrites
it, the overwritten value goes to the conflict log.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pmbridge.flows.models import ConflictPolicy, Direction
from pmbridge.records import Side

Winner = Literal["custompms", "trello"]


@dataclass(frozen=True, slots=True)
class ConflictNote:
    """Both sides changed one property differently since they last agreed.

    :param winner: the side whose value was applied; None when held for a person
    """

    key: str
    base: Any
    custompms: Any
    trello: Any
    custompms_changed_at: datetime | None
    trello_changed_at: datetime | None
    policy: ConflictPolicy
    winner: Winner | None

    @property
    def losing_value(self) -> Any:
        if self.winner == "custompms":
            return self.trello
        if self.winner == "trello":
            return self.custompms
        return None


@dataclass(frozen=True, slots=True)
class Base:
    """The canonical values each side held when the two last agreed, by property key."""

    custompms: dict[str, Any] = field(default_factory=dict)
    trello: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PropertyDecision:
    """What to do with one property: write ``value`` to ``write_to``; the new bases.

    ``held`` marks a conflict kept for a person (policy ``manual``): nothing is written and
    the bases stay as they were, so the conflict stays visible until resolved.
    """

    write_to: Side | Literal["both"] | None
    value: Any
    base_custompms: Any
    base_trello: Any
    conflict: ConflictNote | None = None

    @property
    def held(self) -> bool:
        return self.conflict is not None and self.conflict.winner is None


@dataclass(slots=True)
class PairPlan:
    """The merge of one linked pair: canonical values to write to each side, the new bases."""

    to_custompms: dict[str, Any] = field(default_factory=dict)
    to_trello: dict[str, Any] = field(default_factory=dict)
    base: Base = field(default_factory=Base)
    conflicts: list[ConflictNote] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return bool(self.to_custompms) + bool(self.to_trello)


@dataclass(frozen=True, slots=True)
class MergeRule:
    """How one property merges."""

    key: str
    direction: Direction = "both"
    policy: ConflictPolicy = "newest_wins"
    lines: bool = False  # a text whose edits may merge line by line
    #: "value" merges whole values; "set" element by element; "items" item by item
    shape: Literal["value", "set", "items"] = "value"
    member: str | None = None  # a set of objects: the member identifying an element


def merge_lines(base: str, ours: str, theirs: str) -> str | None:
    """Both edits of ``base`` applied, when they change lines that neither overlap nor
    touch; None when they do (then it is a conflict)."""
    original = base.split("\n")

    def hunks(edited: str) -> list[tuple[int, int, list[str]]]:
        lines = edited.split("\n")
        matcher = difflib.SequenceMatcher(None, original, lines, autojunk=False)
        return [
            (i1, i2, lines[j1:j2])
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"
        ]

    mine, other = hunks(ours), hunks(theirs)
    for start, end, _ in mine:
        for o_start, o_end, _ in other:
            if start <= o_end and o_start <= end:
                return None
    merged = list(original)
    for start, end, replacement in sorted(mine + other, key=lambda h: h[0], reverse=True):
        merged[start:end] = replacement
    return "\n".join(merged)


def merge_property(
    custompms: Any,
    trello: Any,
    *,
    base_custompms: Any = None,
    base_trello: Any = None,
    key: str = "",
    direction: Direction = "both",
    policy: ConflictPolicy = "newest_wins",
    custompms_changed_at: datetime | None = None,
    trello_changed_at: datetime | None = None,
    lines: bool = False,
) -> PropertyDecision:
    """Decide one property of a linked pair (see the module docstring)."""
    c_changed = custompms != base_custompms
    t_changed = trello != base_trello
    if not c_changed and not t_changed:
        return PropertyDecision(None, None, base_custompms, base_trello)
    if c_changed and t_changed and custompms == trello:
        return PropertyDecision(None, None, custompms, trello)

    def note(winner: Winner | None, used_policy: ConflictPolicy) -> ConflictNote:
        return ConflictNote(
            key=key,
            base=base_custompms if base_custompms == base_trello else base_trello,
            custompms=custompms,
            trello=trello,
            custompms_changed_at=custompms_changed_at,
            trello_changed_at=trello_changed_at,
            policy=used_policy,
            winner=winner,
        )

    if direction == "to_trello":
        if not c_changed:
            return PropertyDecision(None, None, base_custompms, base_trello)
        lost = note("custompms", "custompms_wins") if t_changed else None
        return PropertyDecision("trello", custompms, custompms, custompms, lost)
    if direction == "to_custompms":
        if not t_changed:
            return PropertyDecision(None, None, base_custompms, base_trello)
        lost = note("trello", "trello_wins") if c_changed else None
        return PropertyDecision("custompms", trello, trello, trello, lost)
    if c_changed and not t_changed:
        return PropertyDecision("trello", custompms, custompms, custompms)
    if t_changed and not c_changed:
        return PropertyDecision("custompms", trello, trello, trello)
    if lines and base_custompms == base_trello and isinstance(base_custompms, str):
        merged = merge_lines(base_custompms, str(custompms), str(trello))
        if merged is not None:
            return PropertyDecision("both", merged, merged, merged)
    winner = _winner(policy, custompms_changed_at, trello_changed_at)
    conflict = note(winner, policy)
    if winner is None:
        return PropertyDecision(None, None, base_custompms, base_trello, conflict)
    if winner == "custompms":
        return PropertyDecision("trello", custompms, custompms, custompms, conflict)
    return PropertyDecision("custompms", trello, trello, trello, conflict)


def _winner(
    policy: ConflictPolicy, custompms_at: datetime | None, trello_at: datetime | None
) -> Winner | None:
    if policy == "custompms_wins":
        return "custompms"
    if policy == "trello_wins":
        return "trello"
    if policy == "manual":
        return None
    # newest_wins: an unknown time loses to a known one; a tie goes to Custompms, the
    # system of record.
    if trello_at is not None and (custompms_at is None or trello_at > custompms_at):
        return "trello"
    return "custompms"


def plan_pair(
    rules: list[MergeRule],
    base: Base,
    custompms: Mapping[str, Any],
    trello: Mapping[str, Any],
    *,
    custompms_times: Mapping[str, datetime | None] | None = None,
    trello_times: Mapping[str, datetime | None] | None = None,
) -> PairPlan:
    """Merge every property of a linked pair; views hold canonical values by key."""
    plan = PairPlan()
    c_times = custompms_times or {}
    t_times = trello_times or {}
    for rule in rules:
        if rule.shape != "value":
            _plan_collection(plan, rule, base, custompms, trello, c_times, t_times)
            continue
        decision = merge_property(
            custompms.get(rule.key),
            trello.get(rule.key),
            base_custompms=base.custompms.get(rule.key),
            base_trello=base.trello.get(rule.key),
            key=rule.key,
            direction=rule.direction,
            policy=rule.policy,
            custompms_changed_at=c_times.get(rule.key),
            trello_changed_at=t_times.get(rule.key),
            lines=rule.lines,
        )
        plan.base.custompms[rule.key] = decision.base_custompms
        plan.base.trello[rule.key] = decision.base_trello
        if decision.write_to in ("custompms", "both"):
            plan.to_custompms[rule.key] = decision.value
        if decision.write_to in ("trello", "both"):
            plan.to_trello[rule.key] = decision.value
        if decision.conflict is not None:
            plan.conflicts.append(decision.conflict)
    return plan


def _plan_collection(
    plan: PairPlan,
    rule: MergeRule,
    base: Base,
    custompms: Mapping[str, Any],
    trello: Mapping[str, Any],
    c_times: Mapping[str, datetime | None],
    t_times: Mapping[str, datetime | None],
) -> None:
    """A set or item list: each side may get its own value (item ids differ per side)."""
    # merge_sets builds on merge_property: imported here to keep the import one-way.
    from pmbridge.engine import merge_sets

    merge = merge_sets.merge_set if rule.shape == "set" else merge_sets.merge_items
    extra = {"member": rule.member} if rule.shape == "set" else {}
    decision = merge(
        custompms.get(rule.key),
        trello.get(rule.key),
        base_custompms=base.custompms.get(rule.key),
        base_trello=base.trello.get(rule.key),
        key=rule.key,
        policy=rule.policy,
        times=merge_sets.Times(c_times.get(rule.key), t_times.get(rule.key)),
        **extra,
    )
    plan.base.custompms[rule.key] = decision.base_custompms
    plan.base.trello[rule.key] = decision.base_trello
    if decision.to_custompms is not merge_sets.NO_WRITE:
        plan.to_custompms[rule.key] = decision.to_custompms
    if decision.to_trello is not merge_sets.NO_WRITE:
        plan.to_trello[rule.key] = decision.to_trello
    plan.conflicts.extend(decision.conflicts)
