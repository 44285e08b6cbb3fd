"""A long-running engine (as under ``pmbridge serve``) keeps each board's lists between
cycles, and never makes a list twice when a person made it meanwhile; ``pmbridge sync`` runs
(an engine each) keep them in the state store, and drop them when a person changed the
board's lists between runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pmbridge.engine.run import SyncOptions, Targets
from pmbridge.wiring import open_engine
from tests.fixtures.bridge import UNLIMITED, Bridge, on_both_stores, seed


def cycles(bridge: Bridge, steps: Callable[[Callable[..., Awaitable[Any]]], Awaitable[None]]):
    """Run ``steps`` with one engine open throughout; ``steps`` gets ``run(**options)``."""

    async def go() -> None:
        async with open_engine(bridge.settings, trello_limits=UNLIMITED) as runtime:

            async def run(**options: Any) -> Any:
                return await runtime.engine.run(SyncOptions(**options))

            await steps(run)

    asyncio.run(go())


def list_reads(bridge: Bridge) -> int:
    return bridge.counts()["trello"]["by_route"].get("GET /1/boards/{id}/lists", 0)


def test_list_moves_in_later_cycles_read_no_lists(bridge: Bridge):
    data = seed(bridge.pms, tasks=2, comments=False)

    async def steps(run: Callable[..., Awaitable[Any]]) -> None:
        await run()
        bridge.pms.update("tasks", data["tasks"][0]["id"], status="in_progress")
        await run()  # reads the lists once more: "Doing" is new to the board
        bridge.reset_counts()
        bridge.pms.update("tasks", data["tasks"][1]["id"], status="in_progress")
        await run()
        assert list_reads(bridge) == 0

    cycles(bridge, steps)
    names = {c["name"]: c["idList"] for c in bridge.trello.cards(bridge.only_board()["id"])}
    assert names["Task 0"] == names["Task 1"]


def test_a_list_a_person_made_meanwhile_is_used_not_made_again(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    board: dict[str, Any] = {}

    async def steps(run: Callable[..., Awaitable[Any]]) -> None:
        await run()
        board.update(bridge.only_board())
        bridge.trello.call("POST", "/lists", name="Doing", idBoard=board["id"])
        bridge.pms.update("tasks", data["tasks"][0]["id"], status="in_progress")
        # A notification's cycle: only the tasks feed is read, not the board's actions.
        await run(targets=Targets({"custompms": frozenset({"task"})}))

    cycles(bridge, steps)
    doing = [n for n in bridge.trello.lists(board["id"]).values() if n == "Doing"]
    assert doing == ["Doing"]
    [card] = bridge.trello.cards(board["id"])
    assert bridge.trello.lists(board["id"])[card["idList"]] == "Doing"


@on_both_stores
def test_a_card_move_in_a_later_run_reads_no_lists(bridge: Bridge):
    data = seed(bridge.pms, tasks=2, comments=False)
    bridge.sync()
    bridge.pms.update("tasks", data["tasks"][0]["id"], status="in_progress")
    bridge.sync()  # reads the lists once more: "Doing" is new to the board
    bridge.reset_counts()
    bridge.pms.update("tasks", data["tasks"][1]["id"], status="in_progress")
    report = bridge.sync()
    assert report.status == "ok"
    assert list_reads(bridge) == 0
    board = bridge.only_board()["id"]
    names = {c["name"]: c["idList"] for c in bridge.trello.cards(board)}
    assert names["Task 0"] == names["Task 1"]
    assert bridge.trello.lists(board)[names["Task 1"]] == "Doing"


def test_the_run_after_the_first_sync_reads_no_lists(bridge: Bridge):
    data = seed(bridge.pms, tasks=1)
    bridge.sync()
    bridge.pms.create(
        "tasks",
        project_id=data["project"]["id"],
        title="Task 1",
        description="",
        status="todo",
        completed=False,
        archived=False,
    )
    bridge.reset_counts()
    assert bridge.sync().status == "ok"
    assert list_reads(bridge) == 0
    board = bridge.only_board()["id"]
    names = {c["name"]: c["idList"] for c in bridge.trello.cards(board)}
    assert names["Task 0"] == names["Task 1"]


@on_both_stores
@pytest.mark.parametrize("change", ["renamed", "archived", "added"])
def test_lists_a_person_changed_between_runs_are_read_again(bridge: Bridge, change: str):
    """The lists kept from the last run knew an empty "Done" (or none); a person renames it,
    archives it, or adds one; the next run puts a finished task's card in the open list
    called "Done", and makes no second one."""
    data = seed(bridge.pms, tasks=2, comments=False)
    bridge.sync()
    board = bridge.only_board()["id"]
    done = None
    if change != "added":
        done = bridge.trello.call("POST", "/lists", name="Done", idBoard=board)["id"]
    bridge.pms.update("tasks", data["tasks"][0]["id"], status="in_progress")
    bridge.sync()  # reads the lists: "Doing" is new, "Done" is there (or not)
    if change == "renamed":
        bridge.trello.call("PUT", f"/lists/{done}", name="Finished")
    elif change == "archived":
        bridge.trello.call("PUT", f"/lists/{done}", closed="true")
    else:
        done = bridge.trello.call("POST", "/lists", name="Done", idBoard=board)["id"]
    bridge.pms.update("tasks", data["tasks"][1]["id"], status="done")
    bridge.reset_counts()
    assert bridge.sync().status == "ok"
    assert list_reads(bridge) >= 1
    lists = bridge.trello.call("GET", f"/boards/{board}/lists", filter="all")
    open_done = [lst["id"] for lst in lists if lst["name"] == "Done" and not lst["closed"]]
    assert len(open_done) == 1
    if change == "added":
        assert open_done == [done]  # the person's list, not one more
    else:
        assert open_done != [done]
    card = next(c for c in bridge.trello.cards(board) if c["name"] == "Task 1")
    assert card["idList"] == open_done[0]


def test_a_dry_run_keeps_nothing_new_in_the_store(bridge: Bridge):
    seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    with bridge.store() as store:
        kept = store.memo("trello")
    assert len(kept) == 1  # the board's lists
    bridge.trello.call("POST", "/lists", name="Later", idBoard=bridge.only_board()["id"])
    bridge.sync(dry_run=True)  # sees the new list, so its lists are stale: drops nothing
    with bridge.store() as store:
        assert store.memo("trello") == kept
    bridge.sync()
    with bridge.store() as store:
        assert store.memo("trello") == {}
