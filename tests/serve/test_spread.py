"""With webhooks, the periodic reconcile is spread over its interval: each tick reads the
next slice of the boards, every board once per interval, never all at once; and the default
interval is 15 minutes with webhooks, 60 s without."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from pmbridge.config import load_settings
from pmbridge.serve import Service
from pmbridge.serve.targets import TRELLO_BOARD_KINDS, SpreadReads
from tests.fixtures.bridge import Bridge
from tests.serve.conftest import by_name, settled, until
from tests.serve.test_service import MakeService, first_cycle_done
from tests.serve.test_targeted import board_ids, two_boards

FEED = "GET /1/boards/{id}/actions"
TRELLO_KINDS = {"workspace", "board", "card", "comment"}
CUSTOMPMS_KINDS = {"customer", "project", "task", "comment"}


async def test_one_interval_reads_every_board_once_a_slice_per_tick(
    bridge: Bridge, make_service: MakeService
):
    tasks = await asyncio.to_thread(two_boards, bridge, ("Alpha", "Beta", "Gamma"))
    # No public URL (so no delivery starts a cycle of its own); spreading asked for directly.
    service: Service = make_service(public=False, interval_s=2.4, spread_ticks=4)
    async with service.running():
        await first_cycle_done(bridge, service, boards=3)
        await settled(service, quiet=0.1)
        boards = await asyncio.to_thread(board_ids, bridge)
        for name, board in boards.items():  # a person renames the card on every board
            card = by_name(await asyncio.to_thread(bridge.trello.cards, board))[f"{name} task"]
            await asyncio.to_thread(
                bridge.trello.call, "PUT", f"/cards/{card['id']}", name=f"{name}, renamed"
            )
        # Ticks go on from the first cycle; wait for the start of a pass, then count one.
        await until(lambda: service.spread and service.spread.passes >= 1, within=5)
        passes = service.spread.passes  # type: ignore[union-attr]
        await until(lambda: service.spread.passes > passes, within=5)  # type: ignore[union-attr]
        cycles = service.cycles
        bridge.reset_counts()
        per_tick: list[dict[str, int]] = []
        while len(per_tick) < 4:
            await asyncio.sleep(0.01)
            if service.cycles > cycles:
                cycles = service.cycles
                per_tick.append(dict(bridge.counts()["trello"]["by_route"]))
                bridge.reset_counts()
        assert service.last_error is None, service.last_error
        titles = {
            name: bridge.pms.get("tasks", task["id"])["title"] for name, task in tasks.items()
        }
    # Over one pass (4 ticks, wherever counting began): one tick reads the listings and no
    # board feed, each other tick one board of three and no listing.
    assert sorted(tick.get(FEED, 0) for tick in per_tick) == [0, 1, 1, 1], per_tick
    feed_ticks = [tick for tick in per_tick if tick.get(FEED, 0)]
    assert not any("/organizations/" in route for tick in feed_ticks for route in tick)
    # Every board was read in the pass: every rename arrived.
    assert titles == {name: f"{name}, renamed" for name in tasks}


def test_each_board_falls_in_exactly_one_slice_of_a_pass():
    spread = SpreadReads(ticks=4, full_every=3)
    boards = {f"b{i}" for i in range(10)}
    for _ in range(2):  # two ordinary passes
        ticks = [spread.next(boards, TRELLO_KINDS, CUSTOMPMS_KINDS) for _ in range(4)]
        first, *rest = ticks
        assert first is not None and first[0] is not None and not first[1]
        assert first[0].kinds["trello"] == TRELLO_KINDS - TRELLO_BOARD_KINDS
        assert "trello" not in first[0].containers
        read = [board for tick in rest if tick for board in tick[0].containers["trello"]]
        assert sorted(read) == sorted(boards)  # each once
        assert all(len(tick[0].containers["trello"]) <= 4 for tick in rest if tick)
        assert all(tick and tick[0].kinds["custompms"] == CUSTOMPMS_KINDS for tick in ticks)
    # The third pass is one whole full reconcile at its start; its other ticks read nothing.
    third = [spread.next(boards, TRELLO_KINDS, CUSTOMPMS_KINDS) for _ in range(4)]
    assert third == [(None, True), None, None, None]


def test_the_default_interval_is_15_minutes_with_webhooks_and_60_s_without(
    bridge: Bridge, make_service: MakeService
):
    with_hooks: Service = make_service()
    assert with_hooks.interval_s == 900 and with_hooks.spread is not None
    assert with_hooks.spread.ticks == 30
    polling: Service = make_service(public=False)
    assert polling.interval_s == 60 and polling.spread is None
    # An interval the user set is kept, with webhooks too.
    settings = load_settings(
        None,
        interval_s=120,
        trello_secret=SecretStr("s" * 64),
        **bridge.settings.model_dump(include={"trello_url", "custompms_url", "database_url"}),
        trello_key=bridge.settings.trello_key,
        trello_token=bridge.settings.trello_token,
        custompms_token=bridge.settings.custompms_token,
    )
    chosen = Service(settings, public_url="http://127.0.0.1:1")
    assert chosen.interval_s == 120 and chosen.spread is not None and chosen.spread.ticks == 4
