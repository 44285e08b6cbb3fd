"""A long-running engine (as under ``pmbridge serve``) keeps each board's lists between
cycles, and never makes a list twice when a person made it meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pmbridge.engine.run import SyncOptions, Targets
from pmbridge.wiring import open_engine
from tests.fixtures.bridge import UNLIMITED, Bridge, seed


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
