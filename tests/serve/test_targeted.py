"""A delivery's cycle reads only what the delivery names: a Trello webhook its board's
feed, a Custompms notification its resource's feed. The periodic cycle reads everything."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from pmbridge.serve import Service
from tests.fixtures.bridge import Bridge
from tests.serve.conftest import by_name, settled, until
from tests.serve.test_service import MakeService, first_cycle_done


def two_boards(bridge: Bridge, names: tuple[str, ...] = ("Alpha", "Beta")) -> dict[str, Any]:
    """A project (so a board) per name, each with one task; the tasks by name."""
    customer = bridge.pms.create("customers", name="Acme", description="", website=None)
    made: dict[str, Any] = {}
    for name in names:
        project = bridge.pms.create(
            "projects", customer_id=customer["id"], name=name, description="", archived=False
        )
        made[name] = bridge.pms.create(
            "tasks",
            project_id=project["id"],
            title=f"{name} task",
            description="",
            status="todo",
            completed=False,
            archived=False,
        )
    return made


def reads(bridge: Bridge) -> dict[str, int]:
    """Requests each sandbox answered since the last reset, by route, reads only."""
    counts = bridge.counts()
    return {
        f"{system} {route}": n
        for system, stats in counts.items()
        for route, n in stats["by_route"].items()
        if route.startswith("GET")
    }


def board_ids(bridge: Bridge) -> dict[str, str]:
    orgs = bridge.trello.organizations()
    return {b["name"]: b["id"] for o in orgs for b in bridge.trello.boards(o["id"])}


async def test_a_webhook_cycle_reads_its_board_alone(bridge: Bridge, make_service: MakeService):
    tasks = await asyncio.to_thread(two_boards, bridge)
    service: Service = make_service(interval_s=60, once_per_s=0.2)
    async with service.running():
        await first_cycle_done(bridge, service, boards=2)
        boards = await asyncio.to_thread(board_ids, bridge)
        card = by_name(await asyncio.to_thread(bridge.trello.cards, boards["Alpha"]))
        await settled(service, quiet=0.3)
        cycles = service.cycles
        bridge.reset_counts()
        await asyncio.to_thread(
            bridge.trello.call, "PUT", f"/cards/{card['Alpha task']['id']}", name="Alpha, renamed"
        )
        await until(
            lambda: bridge.pms.get("tasks", tasks["Alpha"]["id"])["title"] == "Alpha, renamed",
            within=5,
            what="the edit in Custompms",
        )
        await until(lambda: service.cycles > cycles, within=5, what="the end of the cycle")
        read = reads(bridge)
    # One board feed read (of the two boards linked), and no Custompms feed (the test's own
    # look-ups of one task, GET /tasks/{id}, are counted too, and are no feed).
    assert read.get("trello GET /1/boards/{id}/actions") == 1, read
    feeds = ("customers", "projects", "tasks", "comments")
    assert not any(f"custompms GET /{feed}" in read for feed in feeds), read


async def test_a_notification_cycle_reads_its_resource_alone(
    bridge: Bridge, make_service: MakeService
):
    tasks = await asyncio.to_thread(two_boards, bridge)
    service: Service = make_service(interval_s=60, once_per_s=0.2)
    async with service.running():
        await first_cycle_done(bridge, service, boards=2)
        boards = await asyncio.to_thread(board_ids, bridge)
        await settled(service, quiet=0.3)
        cycles = service.cycles
        bridge.reset_counts()
        await asyncio.to_thread(
            bridge.pms.update, "tasks", tasks["Beta"]["id"], title="Beta, renamed"
        )
        await until(
            lambda: "Beta, renamed" in by_name(bridge.trello.cards(boards["Beta"])),
            within=5,
            what="the edit on Trello",
        )
        await until(lambda: service.cycles > cycles, within=5, what="the end of the cycle")
        read = reads(bridge)
    assert read.get("custompms GET /tasks") == 1, read  # the tasks feed, read once
    assert not any(f"custompms GET /{feed}" in read for feed in ("customers", "projects")), read
    assert not any("/actions" in r for r in read), read  # no board feed was read


async def test_the_dashboard_shows_each_boards_webhook_and_last_delivery(
    bridge: Bridge, make_service: MakeService
):
    await asyncio.to_thread(two_boards, bridge)
    service: Service = make_service(interval_s=60, once_per_s=0.2)
    async with service.running():
        await first_cycle_done(bridge, service, boards=2)
        boards = await asyncio.to_thread(board_ids, bridge)
        card = by_name(await asyncio.to_thread(bridge.trello.cards, boards["Beta"]))
        await asyncio.to_thread(
            bridge.trello.call, "PUT", f"/cards/{card['Beta task']['id']}", name="Beta, renamed"
        )
        await until(lambda: boards["Beta"] in service.status.boards, what="the delivery")
        page = await asyncio.to_thread(
            lambda: httpx.get(f"{service.public_url}/ui/", follow_redirects=True, timeout=5).text
        )
    rows = {
        board: re.search(rf"<tr><td>{board}</td><td>[^<]+</td><td>([^<]+)</td></tr>", page)
        for board in boards.values()
    }
    assert all(rows.values()), page
    assert rows[boards["Beta"]].group(1).startswith("updateCard at ")  # type: ignore[union-attr]
    assert rows[boards["Alpha"]].group(1) == "none yet"  # type: ignore[union-attr]
