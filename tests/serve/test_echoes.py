"""Our own writes' echoes cost nothing: the notice of a write pmbridge made starts no cycle,
and a person's edit right after it is still seen."""

from __future__ import annotations

import asyncio

from tests.fixtures.bridge import Bridge, seed
from tests.serve.conftest import by_name, settled, until
from tests.serve.test_service import MakeService, first_cycle_done


async def test_each_edit_makes_one_cycle_and_our_echoes_none(
    bridge: Bridge, make_service: MakeService
):
    data = await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    task_id = data["tasks"][0]["id"]
    service = make_service(interval_s=60, once_per_s=0.2)
    async with service.running():
        await first_cycle_done(bridge, service)
        board = await asyncio.to_thread(bridge.only_board)
        await settled(service, quiet=0.5)
        cycles, echoes = service.cycles, service.echoes

        # Custompms → Trello: our card write's delivery is an echo.
        await asyncio.to_thread(bridge.pms.update, "tasks", task_id, title="From PMS")
        await until(
            lambda: "From PMS" in by_name(bridge.trello.cards(board["id"])), what="the card"
        )
        await settled(service, quiet=0.6)
        assert service.cycles == cycles + 1
        assert service.echoes > echoes

        # A person edits the same card right after our write: seen, in one more cycle.
        card = by_name(await asyncio.to_thread(bridge.trello.cards, board["id"]))["From PMS"]
        await asyncio.to_thread(
            bridge.trello.call, "PUT", f"/cards/{card['id']}", name="From Trello"
        )
        await until(
            lambda: bridge.pms.get("tasks", task_id)["title"] == "From Trello",
            what="the person's edit in Custompms",
        )
        await settled(service, quiet=0.6)
        # Trello → Custompms: our task write's notification is an echo too.
        assert service.cycles == cycles + 2
