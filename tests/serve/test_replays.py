"""Replays cost nothing: a delivery seen before is answered as the first one was and starts
no cycle (Trello's by action id, Custompms' by resource, id, version and deletion)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx

from pmbridge.sandbox.custompms import notify
from pmbridge.sandbox.trello.webhooks import sign
from pmbridge.serve import CUSTOMPMS_PATH, TRELLO_PATH, Hint, Service, create_receiver
from pmbridge.serve.receiver import ReplayFilter
from tests.fixtures.bridge import Bridge, seed
from tests.serve.conftest import settled, until, webhooks_at_trello

SECRET = "per-run-secret"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_replayed_delivery_of_a_board_action_starts_one_cycle_only(
    bridge: Bridge, make_service: Callable[..., Service]
):
    await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    service = make_service(interval_s=60, once_per_s=0.05)
    secret = service.settings.trello_secret.get_secret_value()  # type: ignore[union-attr]
    async with service.running(), httpx.AsyncClient(base_url=service.public_url) as http:
        await until(lambda: service.cycles >= 1 and webhooks_at_trello(bridge), what="start")
        before = await settled(service, quiet=0.2)
        # A delivery as Trello sends it, of a person's action on the board, captured once
        # (the sandbox delivers it too: that and the 11 below make one cycle).
        board = bridge.only_board()
        [card] = bridge.trello.cards(board["id"])
        bridge.trello.call("PUT", f"/cards/{card['id']}", name="Renamed by a person")
        [action] = bridge.trello.call("GET", f"/boards/{board['id']}/actions", limit=1)
        assert action["type"] == "updateCard"
        [hook] = webhooks_at_trello(bridge)
        body = json.dumps({"action": action, "model": board, "webhook": hook}).encode()
        headers = {"X-Trello-Webhook": sign(secret, body, service.trello_callback_url)}
        for _ in range(11):  # the delivery, then 10 replays, each after the cycles settled
            answer = await http.post(TRELLO_PATH, content=body, headers=headers)
            assert answer.status_code == 200
            await settled(service, quiet=0.2)
        assert service.cycles == before + 1
    with bridge.store() as store:
        assert len(store.runs(limit=100)) == before + 1


async def test_replayed_notifications_make_no_hint_within_the_window():
    hints: list[Hint] = []
    clock = Clock()
    replays = ReplayFilter(window_s=600, timer=clock)
    app = create_receiver(hints.append, custompms_secret=SECRET, replays=replays)
    transport = httpx.ASGITransport(app=app)

    async def deliver(version: int, deleted: bool = False) -> int:
        body = json.dumps(
            {"resource": "tasks", "id": "t1", "version": version, "deleted": deleted}
        ).encode()
        headers = {"X-Custompms-Signature": notify.sign(SECRET, body)}
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as http:
            return (await http.post(CUSTOMPMS_PATH, content=body, headers=headers)).status_code

    assert [await deliver(3) for _ in range(10)] == [204] * 10
    assert len(hints) == 1
    assert await deliver(4) == 204  # a new change of the same task: a hint
    assert await deliver(4, deleted=True) == 204  # its deletion: another
    assert len(hints) == 3 and replays.replays == 9
    clock.now += 601  # past the window, the identity is forgotten
    assert await deliver(3) == 204
    assert len(hints) == 4


def test_the_memory_of_deliveries_is_bounded():
    replays = ReplayFilter(size=3, window_s=600)
    for n in range(10):
        assert replays.first_time(("trello", n))
    assert not replays.first_time(("trello", 9))
    assert replays.first_time(("trello", 0))  # pushed out by newer ones
