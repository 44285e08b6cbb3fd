"""The merge decision: every case of the table, and random edit histories (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pmbridge.engine.merge import Base, MergeRule, merge_property, plan_pair

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EARLY, LATE = T0, T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("base_c", "base_t", "c", "t", "write_to", "value"),
    [
        ("a", "a", "a", "a", None, None),  # nothing changed
        ("a", "a", "b", "a", "trello", "b"),  # only Custompms changed
        ("a", "a", "a", "b", "custompms", "b"),  # only Trello changed
        ("a", "a", "b", "b", None, None),  # both changed to the same value
        ("a", "x", "a", "x", None, None),  # sides differ by normalisation only: no change
        (None, None, "a", None, "trello", "a"),  # a value appears on one side
        ("a", "a", None, "a", "trello", None),  # a value is cleared on one side
    ],
)
def test_decision_table_without_conflict(base_c, base_t, c, t, write_to, value):
    decision = merge_property(c, t, base_custompms=base_c, base_trello=base_t)
    assert decision.write_to == write_to
    assert decision.value == value
    assert decision.conflict is None


@pytest.mark.parametrize(
    ("policy", "c_time", "t_time", "winner"),
    [
        ("newest_wins", LATE, EARLY, "custompms"),
        ("newest_wins", EARLY, LATE, "trello"),
        ("newest_wins", LATE, LATE, "custompms"),  # a tie goes to the system of record
        ("newest_wins", None, EARLY, "trello"),  # a known time beats an unknown one
        ("newest_wins", EARLY, None, "custompms"),
        ("custompms_wins", EARLY, LATE, "custompms"),
        ("trello_wins", LATE, EARLY, "trello"),
    ],
)
def test_conflict_policies_pick_a_winner_and_log_the_loser(policy, c_time, t_time, winner):
    decision = merge_property(
        "mine",
        "theirs",
        base_custompms="old",
        base_trello="old",
        key="title",
        policy=policy,
        custompms_changed_at=c_time,
        trello_changed_at=t_time,
    )
    assert decision.conflict is not None
    assert decision.conflict.winner == winner
    winning, losing = ("mine", "theirs") if winner == "custompms" else ("theirs", "mine")
    assert decision.value == winning
    assert decision.write_to == ("trello" if winner == "custompms" else "custompms")
    assert decision.conflict.losing_value == losing
    assert (decision.base_custompms, decision.base_trello) == (winning, winning)


def test_manual_policy_holds_both_values_and_writes_nothing():
    decision = merge_property(
        "mine", "theirs", base_custompms="old", base_trello="old", policy="manual"
    )
    assert decision.held
    assert decision.write_to is None
    assert (decision.base_custompms, decision.base_trello) == ("old", "old")
    assert decision.conflict is not None and decision.conflict.winner is None


def test_one_way_property_ignores_target_edits_until_the_source_changes():
    kept = merge_property("a", "edited", base_custompms="a", base_trello="a", direction="to_trello")
    assert kept.write_to is None and kept.conflict is None
    over = merge_property("b", "edited", base_custompms="a", base_trello="a", direction="to_trello")
    assert (over.write_to, over.value) == ("trello", "b")
    assert over.conflict is not None and over.conflict.losing_value == "edited"
    back = merge_property("a", "b", base_custompms="a", base_trello="a", direction="to_custompms")
    assert (back.write_to, back.value) == ("custompms", "b")


def test_plan_pair_merges_different_properties_edited_on_each_side():
    rules = [MergeRule("title"), MergeRule("status")]
    base = Base({"title": "t", "status": "todo"}, {"title": "t", "status": "todo"})
    plan = plan_pair(
        rules, base, {"title": "T2", "status": "todo"}, {"title": "t", "status": "done"}
    )
    assert plan.to_trello == {"title": "T2"}
    assert plan.to_custompms == {"status": "done"}
    assert plan.conflicts == []
    assert plan.base.custompms == plan.base.trello == {"title": "T2", "status": "done"}


VALUES = st.sampled_from(["a", "b", "c", "d", None])
POLICIES = ["newest_wins", "custompms_wins", "trello_wins"]


class EditHistory(RuleBasedStateMachine):
    """Random edits on both sides between syncs; after every sync both sides are equal and
    every side's last edit since the previous sync is visible or in the conflict log."""

    def __init__(self) -> None:
        super().__init__()
        self.c = self.t = "start"
        self.base = Base({"p": "start"}, {"p": "start"})
        self.clock = T0
        self.c_time: datetime | None = None
        self.t_time: datetime | None = None
        self.pending: list[str | None] = []
        self.lost: list[object] = []
        self.policy = "newest_wins"
        self.synced = True

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    @rule(policy=st.sampled_from(POLICIES))
    def choose_policy(self, policy: str) -> None:
        self.policy = policy

    @rule(value=VALUES)
    def edit_custompms(self, value: str | None) -> None:
        self.c, self.c_time, self.synced = value, self._tick(), False

    @rule(value=VALUES)
    def edit_trello(self, value: str | None) -> None:
        self.t, self.t_time, self.synced = value, self._tick(), False

    @rule()
    def sync(self) -> None:
        edits = ((self.c, self.base.custompms["p"]), (self.t, self.base.trello["p"]))
        last_edits = [value for value, base in edits if value != base]
        plan = plan_pair(
            [MergeRule("p", policy=self.policy)],  # type: ignore[arg-type]
            self.base,
            {"p": self.c},
            {"p": self.t},
            custompms_times={"p": self.c_time},
            trello_times={"p": self.t_time},
        )
        if "p" in plan.to_trello:
            self.t = plan.to_trello["p"]
        if "p" in plan.to_custompms:
            self.c = plan.to_custompms["p"]
        self.lost.extend(note.losing_value for note in plan.conflicts)
        self.base = plan.base
        self.pending = last_edits
        self.synced = True

    @precondition(lambda self: self.synced)
    @invariant()
    def both_sides_equal_and_nothing_silently_lost(self) -> None:
        assert self.c == self.t
        for edit in self.pending:
            assert edit == self.c or edit in self.lost

    @precondition(lambda self: self.synced)
    @invariant()
    def a_second_sync_writes_nothing(self) -> None:
        plan = plan_pair([MergeRule("p")], self.base, {"p": self.c}, {"p": self.t})
        assert plan.writes == 0


EditHistory.TestCase.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)
test_random_edit_histories = EditHistory.TestCase


def test_text_edits_in_separate_lines_merge_and_touching_ones_conflict():
    base = "Goal\n\nSteps:\n1. plan\n2. build\n\nNotes"
    ours = base.replace("1. plan", "1. plan it well")
    theirs = base.replace("Notes", "Notes: ship on Friday")
    merged = merge_property(ours, theirs, base_custompms=base, base_trello=base, lines=True)
    assert merged.conflict is None and merged.write_to == "both"
    assert merged.value == "Goal\n\nSteps:\n1. plan it well\n2. build\n\nNotes: ship on Friday"
    touching = merge_property(
        ours,
        base.replace("2. build", "2. build it"),
        base_custompms=base,
        base_trello=base,
        lines=True,
        custompms_changed_at=LATE,
        trello_changed_at=EARLY,
    )
    assert touching.conflict is not None and touching.value == ours
    plain = merge_property(ours, theirs, base_custompms=base, base_trello=base)
    assert plain.conflict is not None  # a property that is not text does not merge lines


@pytest.mark.parametrize("policy", ["newest_wins", "custompms_wins", "trello_wins", "manual"])
@pytest.mark.parametrize("direction", ["both", "to_trello", "to_custompms"])
def test_every_small_case_converges_and_loses_nothing_silently(policy, direction):
    values = ["a", "b", "c", None]
    for base in values:
        for c in values:
            for t in values:
                d = merge_property(
                    c,
                    t,
                    base_custompms=base,
                    base_trello=base,
                    policy=policy,
                    direction=direction,
                    custompms_changed_at=EARLY,
                    trello_changed_at=LATE,
                )
                new_c = d.value if d.write_to in ("custompms", "both") else c
                new_t = d.value if d.write_to in ("trello", "both") else t
                case = (base, c, t)
                if c == base and t == base:
                    assert d.write_to is None, case  # nothing changed: nothing written
                if d.held or (direction != "both" and new_c != new_t):
                    # held for a person, or a one-way target edit left alone: both kept
                    assert (new_c, new_t) == (c, t), case
                    continue
                assert new_c == new_t, case  # the two sides agree afterwards
                for side_value, changed in ((c, c != base), (t, t != base)):
                    if changed and side_value != new_c:
                        assert d.conflict is not None, case  # a lost edit is logged
                        assert d.conflict.losing_value == side_value, case
