"""Rules of the engine, on the in-memory systems (no network): fast, and exact about what
was written where."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pmbridge.engine.report import CycleReport
from pmbridge.engine.run import Engine, SyncOptions
from pmbridge.flows import load_flows
from pmbridge.store import Store, open_store
from pmbridge.systems.memory import MemoryCustompms, MemoryTrello


@dataclass
class Pair:
    pms: MemoryCustompms
    trello: MemoryTrello
    store: Store
    engine: Engine

    def sync(self, **options: object) -> CycleReport:
        return asyncio.run(self.engine.run(SyncOptions(**options)))  # type: ignore[arg-type]

    def card_of(self, task_id: str) -> dict:
        [link] = [k for k in self.store.links("tasks") if k.custompms_id == task_id]
        return dict(self.trello.records["card"][link.trello_id].fields)


@pytest.fixture
def pair() -> Iterator[Pair]:
    pms, trello = MemoryCustompms(), MemoryTrello()
    store = open_store("sqlite://")
    yield Pair(pms, trello, store, Engine(load_flows(None), store, pms, trello))
    store.close()


def one_task(pair: Pair) -> str:
    customer = pair.pms.add("customer", name="Acme", description="", website=None)
    project = pair.pms.add(
        "project", customer_id=customer.id, name="Site", description="", archived=False
    )
    task = pair.pms.add(
        "task",
        project_id=project.id,
        title="Draft",
        description="",
        status="todo",
        completed=False,
        archived=False,
    )
    pair.sync()
    return task.id


def test_an_unmappable_value_is_set_aside_alone_and_the_other_edits_sync(pair: Pair):
    task_id = one_task(pair)
    pair.pms.edit("task", task_id, title="Final", status="bogus")

    report = pair.sync()

    card = pair.card_of(task_id)
    assert (card["name"], card["list"]) == ("Final", "To Do")
    [letter] = pair.store.dead_letters("tasks")
    assert letter.record_id == task_id and letter.side == "trello"
    assert "status 'bogus' has no Trello list" in letter.error and "values" in letter.error
    assert report.errors == 1

    # Still set aside while it stays wrong; synced once fixed, and the letter goes.
    assert pair.sync().errors == 1
    pair.pms.edit("task", task_id, status="done")
    assert pair.sync().errors == 0
    assert pair.card_of(task_id)["list"] == "Done"
    assert pair.store.dead_letters() == []
    pair.trello.writes.clear()
    pair.pms.writes.clear()
    pair.sync()
    assert not pair.trello.writes and not pair.pms.writes


def test_an_edit_beats_a_delete_and_a_conflict_in_it_is_logged(pair: Pair):
    task_id = one_task(pair)
    [link] = pair.store.links("tasks")
    pair.pms.edit("task", task_id, description="from PMS")
    pair.trello.edit("card", link.trello_id, desc="from Trello")
    pair.pms.remove("task", task_id)

    pair.sync()

    task = pair.pms.records["task"][task_id]
    assert not task.deleted  # the edit on Trello brought the task back
    [conflict] = pair.store.conflicts()
    assert conflict.property == "description"
    assert {conflict.custompms_value, conflict.trello_value} == {"from PMS", "from Trello"}
    assert task.fields["description"] == pair.card_of(task_id)["desc"].split("\n\n---")[0]


def two_projects(pair: Pair) -> tuple[str, str]:
    customer = pair.pms.add("customer", name="Acme", description="", website=None)
    made = [
        pair.pms.add(
            "project", customer_id=customer.id, name=name, description="", archived=False
        ).id
        for name in ("Alpha", "Beta")
    ]
    return made[0], made[1]


def test_two_comments_alike_both_in_doubt_after_a_crash_are_each_linked_once(pair: Pair):
    from pmbridge.systems.memory import Crash

    task_id = one_task(pair)
    for _ in range(2):
        pair.pms.add("comment", task_id=task_id, project_id=None, author="Ann", text="same")
    pair.trello.crash_after(2, applied=False)  # the first comment is made, then the process dies
    with pytest.raises(Crash):
        pair.sync()
    pair.trello.crash_after(10**9, applied=False)

    assert pair.sync().errors == 0

    card = next(iter(pair.store.links("tasks"))).trello_id
    on_card = [c for c in pair.trello.live("comment") if c.fields["idCard"] == card]
    assert [c.fields["text"] for c in on_card] == ["same", "same"]
    assert len(pair.store.links("task_comments")) == 2


def test_a_card_made_again_after_its_deletion_gets_its_tasks_comments_again(pair: Pair):
    alpha, beta = two_projects(pair)
    task = pair.pms.add(
        "task",
        project_id=alpha,
        title="Move me",
        description="",
        status="todo",
        completed=False,
        archived=False,
    )
    pair.pms.add("comment", task_id=task.id, project_id=None, author="Ann", text="keep me")
    pair.sync()
    [link] = pair.store.links("tasks")
    pair.pms.edit("task", task.id, project_id=beta)  # an edit in Custompms …
    pair.trello.remove("card", link.trello_id)  # … while the card is deleted on Trello

    pair.sync()

    [new] = pair.store.links("tasks")
    assert new.trello_id != link.trello_id  # the edit won: the card was made again
    on_card = [c for c in pair.trello.live("comment") if c.fields["idCard"] == new.trello_id]
    assert [c.fields["text"] for c in on_card] == ["keep me"]


def test_a_checklist_conflict_is_resolved_without_force(pair: Pair):
    task_id = one_task(pair)
    pair.pms.edit("task", task_id, checklist=[{"text": "Brief", "done": False}])
    pair.sync()
    [item] = pair.pms.records["task"][task_id].fields["checklist"]
    card = pair.card_of(task_id)
    pair.pms.edit("task", task_id, checklist=[{**item, "text": "Brief v2"}])
    pair.trello.edit(
        "card",
        pair.store.links("tasks")[0].trello_id,
        checklist=[{**card["checklist"][0], "text": "Brief v3"}],
    )
    pair.sync()
    [conflict] = pair.store.conflicts()
    assert conflict.property == "checklist"

    said = asyncio.run(pair.engine.resolve_conflict(conflict.id, "custompms"))

    assert "resolved" in said
    texts = [i["text"] for i in pair.card_of(task_id)["checklist"]]
    assert texts == ["Brief v2"]
    assert [i["text"] for i in pair.pms.records["task"][task_id].fields["checklist"]] == texts
    pair.trello.writes.clear()
    pair.pms.writes.clear()
    pair.trello.edit("card", pair.store.links("tasks")[0].trello_id, name="Draft 2")
    pair.sync()
    assert dict(pair.trello.writes) == {} and dict(pair.pms.writes) == {"update tasks": 1}
    assert [i["text"] for i in pair.card_of(task_id)["checklist"]] == texts


def comments_on(pair: Pair, card_id: str) -> list[str]:
    return sorted(
        c.fields["text"] for c in pair.trello.live("comment") if c.fields["idCard"] == card_id
    )


def a_task_commented_on_both_sides(pair: Pair) -> tuple[str, str]:
    """A task in Alpha with a comment made in Custompms and one made on its card; returns
    the task's id and Beta's."""
    alpha, beta = two_projects(pair)
    task = pair.pms.add(
        "task",
        project_id=alpha,
        title="Move me",
        description="",
        status="todo",
        completed=False,
        archived=False,
    )
    pair.pms.add("comment", task_id=task.id, project_id=None, author="Ann", text="from Custompms")
    pair.sync()
    [link] = pair.store.links("tasks")
    fields = {"idCard": link.trello_id, "text": "from Trello"}
    asyncio.run(pair.trello.create("comment", fields, idempotency_key=""))
    pair.sync()
    return task.id, beta


# Trello writes of the cycle that makes the card again: the card, then its two comments.
REMAKE_WRITES = 3


@pytest.mark.parametrize("applied", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("write", range(1, REMAKE_WRITES + 1))
def test_killed_anywhere_while_a_card_is_made_again_its_comments_come_back_once(
    pair: Pair, write: int, applied: bool
):
    from pmbridge.systems.memory import Crash

    task_id, beta = a_task_commented_on_both_sides(pair)
    [old] = pair.store.links("tasks")
    pair.pms.edit("task", task_id, project_id=beta)
    pair.trello.remove("card", old.trello_id)
    pair.trello.crash_after(write, applied=applied)
    with pytest.raises(Crash):
        pair.sync()
    pair.trello.crash_after(10**9, applied=False)

    assert pair.sync().errors == 0

    [new] = pair.store.links("tasks")
    assert [c.id for c in pair.trello.live("card")] == [new.trello_id]  # one card, no copy
    assert comments_on(pair, new.trello_id) == ["from Custompms", "from Trello"]
    pms_comments = sorted(c.fields["text"] for c in pair.pms.live("comment"))
    assert pms_comments == ["from Custompms", "from Trello"]  # nothing came back as a copy
    links = pair.store.links("task_comments")
    assert (
        sorted(pair.trello.records["comment"][k.trello_id].fields["idCard"] for k in links)
        == [new.trello_id] * 2
    )
    assert pair.store.dead_letters() == []
    pair.trello.writes.clear()
    pair.pms.writes.clear()
    pair.sync()
    assert not pair.trello.writes and not pair.pms.writes


def test_a_dry_run_shows_the_comments_a_card_made_again_gets(pair: Pair):
    task_id, beta = a_task_commented_on_both_sides(pair)
    [old] = pair.store.links("tasks")
    pair.pms.edit("task", task_id, project_id=beta)
    pair.trello.remove("card", old.trello_id)

    plans = asyncio.run(pair.engine.plan(SyncOptions()))

    planned = [a.describe() for plan in plans for a in plan.actions]
    assert sorted(p for p in planned if p.startswith("create on trello: comment")) == sorted(
        f"create on trello: comment {c.id} {c.fields['text']!r}" for c in pair.pms.live("comment")
    )
    assert pair.store.links("tasks") == [old] and pair.store.dead_letters() == []


def test_a_board_made_again_after_its_deletion_gets_its_cards_and_comments_again(pair: Pair):
    alpha, _ = two_projects(pair)
    task = pair.pms.add(
        "task",
        project_id=alpha,
        title="Keep me",
        description="",
        status="todo",
        completed=False,
        archived=False,
    )
    pair.pms.add("comment", task_id=task.id, project_id=None, author="Ann", text="on the task")
    pair.pms.add("comment", task_id=None, project_id=alpha, author="Ann", text="on the project")
    pair.sync()
    [old_board] = [k for k in pair.store.links("projects") if k.custompms_id == alpha]
    pair.pms.edit("project", alpha, description="edited")  # an edit in Custompms …
    pair.trello.remove("board", old_board.trello_id)  # … while the board is deleted on Trello

    assert pair.sync().errors == 0

    [board] = [k for k in pair.store.links("projects") if k.custompms_id == alpha]
    assert board.trello_id != old_board.trello_id  # the edit won: the board was made again
    assert not pair.pms.records["task"][task.id].deleted
    [card] = pair.store.links("tasks")
    assert pair.trello.records["card"][card.trello_id].fields["idBoard"] == board.trello_id
    assert comments_on(pair, card.trello_id) == ["on the task"]
    [about] = [k for k in pair.store.links("projects.about_card") if k.custompms_id == alpha]
    assert pair.trello.records["card"][about.trello_id].fields["idBoard"] == board.trello_id
    assert comments_on(pair, about.trello_id) == ["on the project"]
    assert pair.store.dead_letters() == []


def test_a_task_brought_back_by_an_edit_on_its_card_keeps_its_comments(pair: Pair):
    # The other way round: Custompms deletes softly, the task alone, and an edit on its card
    # restores the same task; its comments were never gone, nor are they copied.
    task_id, _ = a_task_commented_on_both_sides(pair)
    [link] = pair.store.links("tasks")
    comment_links = pair.store.links("task_comments")
    pair.trello.edit("card", link.trello_id, name="Renamed")
    pair.pms.remove("task", task_id)

    assert pair.sync().errors == 0

    assert pair.pms.records["task"][task_id].fields["title"] == "Renamed"
    assert [k.trello_id for k in pair.store.links("tasks")] == [link.trello_id]
    assert comments_on(pair, link.trello_id) == ["from Custompms", "from Trello"]
    pms_comments = sorted(c.fields["text"] for c in pair.pms.live("comment"))
    assert pms_comments == ["from Custompms", "from Trello"]
    assert [(k.custompms_id, k.trello_id) for k in pair.store.links("task_comments")] == [
        (k.custompms_id, k.trello_id) for k in comment_links
    ]


def test_a_crash_after_archiving_a_deleted_tasks_card_does_not_bring_the_task_back(pair: Pair):
    from pmbridge.systems.memory import Crash

    task_id = one_task(pair)
    pair.pms.remove("task", task_id)
    pair.trello.crash_after(1, applied=True)  # the card is archived, then the process dies
    with pytest.raises(Crash):
        pair.sync()
    pair.trello.crash_after(10**9, applied=False)

    assert pair.sync().errors == 0

    # The archive the engine wrote is not a person's edit beating the deletion.
    assert pair.pms.records["task"][task_id].deleted
    assert pair.card_of(task_id)["closed"] is True
    pair.trello.writes.clear()
    pair.pms.writes.clear()
    pair.sync()
    assert not pair.trello.writes and not pair.pms.writes


def test_a_project_archived_as_its_board_was_deleted_leaves_nothing_to_do(pair: Pair):
    alpha, _ = two_projects(pair)
    pair.sync()
    [board] = [k for k in pair.store.links("projects") if k.custompms_id == alpha]
    pair.trello.remove("board", board.trello_id)

    assert pair.sync().errors == 0

    assert pair.pms.records["project"][alpha].fields["archived"] is True
    plans = asyncio.run(pair.engine.plan(SyncOptions()))
    assert [a.describe() for plan in plans for a in plan.actions] == []
