"""The naive baseline really syncs: it is only a fair yardstick if it does the job."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.dataset import seed
from bench.naive import NaiveSync, Outcome
from bench.people import PmsUser, TrelloUser
from bench.sandboxes import Sandboxes


@pytest.fixture
def sandboxes() -> Iterator[Sandboxes]:
    with Sandboxes() as found:
        yield found


def cycle(sandboxes: Sandboxes, state: Path) -> Outcome:
    async def go() -> Outcome:
        async with NaiveSync(state, **sandboxes.connection()) as naive:
            return await naive.cycle()

    return asyncio.run(go())


def test_naive_sync_carries_edits_both_ways_and_idles_without_writing(
    sandboxes: Sandboxes, tmp_path: Path
):
    data = seed(sandboxes.custompms_app, tasks=2, customers=1, projects=1)
    state = tmp_path / "naive.json"
    pms, trello = PmsUser(sandboxes), TrelloUser(sandboxes)

    first = cycle(sandboxes, state)
    (board,) = trello.boards()
    cards = {card["name"]: card for card in trello.cards(board["id"])}
    assert first.problems == [] and set(cards) == {"Task 0", "Task 1"}
    assert len(trello.comments(board["id"])) == 2

    pms.update("tasks", data.tasks[0]["id"], title="Task 0, renamed in Custompms")
    trello.call("PUT", f"/cards/{cards['Task 1']['id']}", desc="Changed on Trello")
    trello.call("POST", f"/cards/{cards['Task 1']['id']}/actions/comments", text="Hello")
    second = cycle(sandboxes, state)

    assert second.problems == []
    names = {card["name"] for card in trello.cards(board["id"])}
    assert "Task 0, renamed in Custompms" in names
    assert pms.get("tasks", data.tasks[1]["id"])["description"] == "Changed on Trello"
    comments = {(c["task_id"], c["text"]) for c in pms.all("comments")}
    assert (data.tasks[1]["id"], "Hello") in comments
    sandboxes.reset_counts()
    idle = cycle(sandboxes, state)
    assert idle.writes == 0
    counts = sandboxes.counts()
    assert counts["trello"]["writes"] == counts["custompms"]["writes"] == 0
    pms.close()
    trello.close()
