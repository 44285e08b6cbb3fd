"""Set-wise and item-wise merges: every small case, and random edit histories."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pmbridge.engine.merge import Base, MergeRule, plan_pair
from pmbridge.engine.merge_sets import NO_WRITE, merge_items, merge_set

SUBSETS = [sorted(s) for n in range(3) for s in itertools.combinations("abc", n)]


@pytest.mark.parametrize("base", SUBSETS)
def test_every_small_set_edit_combines_without_conflict(base):
    for c, t in itertools.product(SUBSETS, repeat=2):
        decision = merge_set(c, t, base_custompms=base, base_trello=base, key="tags")
        added = (set(c) - set(base)) | (set(t) - set(base))
        removed = (set(base) - set(c)) | (set(base) - set(t))
        expected = sorted((set(base) | added) - removed)
        assert decision.conflicts == ()
        assert (decision.to_custompms if decision.to_custompms is not NO_WRITE else c) == expected
        assert (decision.to_trello if decision.to_trello is not NO_WRITE else t) == expected
        assert decision.base_custompms == decision.base_trello == expected
        # An idle merge afterwards writes nothing (echo suppression).
        again = merge_set(expected, expected, base_custompms=expected, base_trello=expected)
        assert again.to_custompms is NO_WRITE and again.to_trello is NO_WRITE


def link(url: str, title: str) -> dict[str, str]:
    return {"url": url, "title": title}


LINK_STATES = [None, "x", "y"]  # absent, or present with that title


@pytest.mark.parametrize("base_title", LINK_STATES)
@pytest.mark.parametrize("policy", ["newest_wins", "custompms_wins", "trello_wins"])
def test_links_merge_by_url_and_an_edit_beats_a_removal(base_title, policy):
    for c_title, t_title in itertools.product(LINK_STATES, repeat=2):
        base = [link("u", base_title)] if base_title else []
        c = [link("u", c_title)] if c_title else []
        t = [link("u", t_title)] if t_title else []
        d = merge_set(
            c, t, base_custompms=base, base_trello=base, key="links", member="url", policy=policy
        )
        final_c = c if d.to_custompms is NO_WRITE else d.to_custompms
        final_t = t if d.to_trello is NO_WRITE else d.to_trello
        assert final_c == final_t == d.base_custompms == d.base_trello
        c_changed, t_changed = c_title != base_title, t_title != base_title
        both_differ = c_changed and t_changed and c_title != t_title
        if both_differ and c_title and t_title:
            assert len(d.conflicts) == 1  # edited (or added) differently on both sides
            winner = d.conflicts[0].winner
            assert final_c == (c if winner == "custompms" else t)
        else:
            assert d.conflicts == ()
            if both_differ:  # one side removed, the other edited: the edit is kept
                assert final_c == (c or t)


def test_manual_policy_holds_a_set_element_changed_on_both_sides():
    base = [link("u", "x")]
    d = merge_set(
        [link("u", "c")],
        [link("u", "t")],
        base_custompms=base,
        base_trello=base,
        key="links",
        member="url",
        policy="manual",
    )
    assert d.to_custompms is NO_WRITE and d.to_trello is NO_WRITE
    assert d.base_custompms == base and d.conflicts[0].winner is None


# -- item lists --------------------------------------------------------------------------


def items(side: str, *texts: str, done: str = "") -> list[dict[str, Any]]:
    """Items with ids ``<side><n>``; ``done`` names the texts that are done."""
    return [{"id": f"{side}{t}", "text": t, "done": t in done} for t in texts]


def texts(value: Any) -> list[str]:
    return [i["text"] for i in value]


def settle(c, t, bc, bt, **kw):
    """Merge, apply the writes (new items get ids), merge again: the second merge must
    write nothing and both sides must hold the same items."""
    d = merge_items(c, t, base_custompms=bc, base_trello=bt, key="checklist", **kw)
    final_c = c if d.to_custompms is NO_WRITE else _give_ids(d.to_custompms, "C")
    final_t = t if d.to_trello is NO_WRITE else _give_ids(d.to_trello, "T")
    again = merge_items(
        final_c, final_t, base_custompms=d.base_custompms, base_trello=d.base_trello
    )
    assert again.to_custompms is NO_WRITE and again.to_trello is NO_WRITE, (d, again)
    strip = lambda v: [(i["text"], i["done"]) for i in v]  # noqa: E731
    assert strip(final_c) == strip(final_t)
    return d, final_c


def _give_ids(value, prefix):
    return [dict(i, id=i["id"] or f"{prefix}{n}-{i['text']}") for n, i in enumerate(value)]


BASE_C, BASE_T = items("c", "a", "b", "c"), items("t", "a", "b", "c")


@pytest.mark.parametrize(
    ("c", "t", "expected"),
    [
        (BASE_C, BASE_T, ["a", "b", "c"]),  # nothing changed
        (BASE_C + items("c", "d"), BASE_T, ["a", "b", "c", "d"]),  # added in Custompms
        (BASE_C, BASE_T[:1] + items("t", "x") + BASE_T[1:], ["a", "x", "b", "c"]),
        (BASE_C[:2], BASE_T, ["a", "b"]),  # removed in Custompms
        (BASE_C, BASE_T[1:], ["b", "c"]),  # removed in Trello
        (BASE_C[:2], BASE_T[1:], ["b"]),  # removed on both, different items
        (BASE_C + items("c", "n"), BASE_T + items("t", "n"), ["a", "b", "c", "n"]),  # same add
        (BASE_C + items("c", "p"), BASE_T + items("t", "q"), ["a", "b", "c", "p", "q"]),
        ([BASE_C[2], BASE_C[0], BASE_C[1]], BASE_T, ["c", "a", "b"]),  # reordered
        (BASE_C, [BASE_T[1], BASE_T[0], BASE_T[2]], ["b", "a", "c"]),
        ([BASE_C[1], BASE_C[0], BASE_C[2]], BASE_T[:2] + items("t", "z"), ["b", "z", "a"]),
    ],
)
def test_items_added_removed_and_reordered_on_either_side(c, t, expected):
    d, final = settle(c, t, BASE_C, BASE_T)
    assert texts(final) == expected
    assert d.conflicts == ()


def test_item_text_and_done_merge_per_member_without_conflict():
    c = [dict(BASE_C[0], text="A!"), *BASE_C[1:]]
    t = [dict(BASE_T[0], done=True), *BASE_T[1:]]
    d, final = settle(c, t, BASE_C, BASE_T)
    assert final[0]["text"] == "A!" and final[0]["done"] is True and d.conflicts == ()


def test_a_removed_item_edited_on_the_other_side_is_kept():
    c = BASE_C[1:]  # removed "a"
    t = [dict(BASE_T[0], text="a, edited"), *BASE_T[1:]]
    d, final = settle(c, t, BASE_C, BASE_T)
    assert texts(final) == ["a, edited", "b", "c"] and d.conflicts == ()


@pytest.mark.parametrize(("policy", "kept"), [("custompms_wins", "C"), ("trello_wins", "T")])
def test_an_item_edited_differently_on_both_sides_is_a_conflict(policy, kept):
    c = [dict(BASE_C[0], text="C"), *BASE_C[1:]]
    t = [dict(BASE_T[0], text="T"), *BASE_T[1:]]
    d, final = settle(c, t, BASE_C, BASE_T, policy=policy)
    assert final[0]["text"] == kept
    (note,) = d.conflicts
    # One conflict over the whole checklist, with both sides' items (without their ids).
    assert note.key == "checklist"
    assert [i["text"] for i in note.custompms] == ["C", "b", "c"]
    assert [i["text"] for i in note.trello] == ["T", "b", "c"]


def test_an_item_written_but_not_read_back_is_found_by_its_text():
    d = merge_items(BASE_C + items("c", "new"), BASE_T, base_custompms=BASE_C, base_trello=BASE_T)
    assert d.to_trello[-1] == {"id": None, "text": "new", "done": False}
    assert d.base_trello[-1]["id"] is None
    # The write happened; the answer was lost: Trello holds the item under a new id.
    echoed = [*BASE_T, {"id": "t-new", "text": "new", "done": False}]
    again = merge_items(
        BASE_C + items("c", "new"),
        echoed,
        base_custompms=d.base_custompms,
        base_trello=d.base_trello,
    )
    assert again.to_custompms is NO_WRITE and again.to_trello is NO_WRITE
    assert again.base_trello[-1]["id"] == "t-new"


def test_an_item_list_merges_inside_plan_pair():
    rule = MergeRule("checklist", shape="items")
    base = Base({"checklist": BASE_C}, {"checklist": BASE_T})
    plan = plan_pair([rule], base, {"checklist": BASE_C[:1]}, {"checklist": BASE_T})
    assert texts(plan.to_trello["checklist"]) == ["a"] and "checklist" not in plan.to_custompms


TEXTS = st.sampled_from("abcd")


@st.composite
def edits(draw, side):
    """A side's edit of the three base items: keep/remove/retext/toggle each, add some,
    maybe reorder."""
    base = items(side, "a", "b", "c")
    out = []
    for item in base:
        op = draw(st.sampled_from(["keep", "remove", "text", "done"]))
        if op == "remove":
            continue
        if op == "text":
            item = dict(item, text=item["text"] + draw(TEXTS))
        if op == "done":
            item = dict(item, done=not item["done"])
        out.append(item)
    for n, text in enumerate(draw(st.lists(TEXTS, max_size=2))):
        out.insert(
            draw(st.integers(0, len(out))), {"id": f"{side}+{n}", "text": text, "done": False}
        )
    if draw(st.booleans()):
        out = draw(st.permutations(out))
    return out


@settings(max_examples=300, deadline=None)
@given(c=edits("c"), t=edits("t"), policy=st.sampled_from(["newest_wins", "trello_wins"]))
def test_random_item_edits_converge_and_keep_every_addition(c, t, policy):
    base_c, base_t = items("c", "a", "b", "c"), items("t", "a", "b", "c")
    _, final = settle(c, t, base_c, base_t, policy=policy)
    added = {i["text"] for i in c + t if "+" in i["id"]}
    assert added <= {i["text"] for i in final}


ELEMENTS = st.sampled_from(["a", "b", "c", "d"])


class SetEditHistory(RuleBasedStateMachine):
    """Random additions and removals on both sides between syncs (through ``plan_pair``):
    after every sync both sides hold the same set, every element added since the last sync
    is there, every one removed is gone, and a second sync writes nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.c: set[str] = {"a"}
        self.t: set[str] = {"a"}
        self.base = Base({"s": ["a"]}, {"s": ["a"]})
        self.synced = True
        self.added: set[str] = set()
        self.removed: set[str] = set()

    @rule(side=st.sampled_from(["c", "t"]), element=ELEMENTS)
    def toggle(self, side: str, element: str) -> None:
        getattr(self, side).symmetric_difference_update({element})
        self.synced = False

    @rule()
    def sync(self) -> None:
        rule_ = MergeRule("s", shape="set")
        base_c, base_t = set(self.base.custompms["s"]), set(self.base.trello["s"])
        self.added = (self.c - base_c) | (self.t - base_t)
        self.removed = (base_c - self.c) | (base_t - self.t)
        plan = plan_pair([rule_], self.base, {"s": sorted(self.c)}, {"s": sorted(self.t)})
        assert plan.conflicts == []
        self.c = set(plan.to_custompms.get("s", self.c))
        self.t = set(plan.to_trello.get("s", self.t))
        self.base = plan.base
        self.synced = True

    @precondition(lambda self: self.synced)
    @invariant()
    def sides_equal_with_every_change(self) -> None:
        assert self.c == self.t
        assert self.added <= self.c and not (self.removed & self.c)
        again = plan_pair(
            [MergeRule("s", shape="set")], self.base, {"s": sorted(self.c)}, {"s": sorted(self.t)}
        )
        assert again.writes == 0


SetEditHistory.TestCase.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)
test_random_set_edit_histories = SetEditHistory.TestCase
