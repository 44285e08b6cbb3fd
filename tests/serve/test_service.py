"""A running ``Service`` against both sandboxes over real HTTP: webhooks and notifications
make prompt cycles, forged ones make none, bursts make few cycles and never two at once,
polling alone still syncs, an unreachable system is waited out, and stopping cleans up."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from pmbridge.engine.run import Engine
from pmbridge.errors import AuthenticationError
from pmbridge.sandbox.trello.webhooks import sign
from pmbridge.serve import Service
from pmbridge.store import open_store
from pmbridge.systems.custompms import CustompmsClient, CustompmsSystem
from pmbridge.systems.custompms import RetryPolicy as CustompmsRetry
from pmbridge.systems.trello import RetryPolicy as TrelloRetry
from pmbridge.systems.trello import TrelloClient, TrelloSystem
from pmbridge.wiring import Runtime, list_order, load_flow_file
from tests.fixtures.bridge import UNLIMITED, Bridge, seed
from tests.fixtures.database import BACKENDS
from tests.serve.conftest import (
    by_name,
    settled,
    subscriptions_at_custompms,
    until,
    webhooks_at_trello,
)

MakeService = Callable[..., Service]


async def first_cycle_done(bridge: Bridge, service: Service, boards: int = 1) -> None:
    """The first cycle has linked the seeded boards and each has its webhook."""
    await until(lambda: service.cycles >= 1, what="the first cycle")
    assert service.last_error is None, service.last_error
    if service.public_url:
        await until(lambda: len(webhooks_at_trello(bridge)) == boards, what="webhooks")


@pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)
async def test_a_card_edit_on_trello_reaches_custompms_through_a_webhook(
    bridge: Bridge, make_service: MakeService
):
    data = await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    task_id = data["tasks"][0]["id"]
    service = make_service(interval_s=60, once_per_s=0.2)
    async with service.running():
        await first_cycle_done(bridge, service)
        [hook] = webhooks_at_trello(bridge)
        board = await asyncio.to_thread(bridge.only_board)
        assert hook["idModel"] == board["id"]
        assert hook["callbackURL"] == f"{service.public_url}/hooks/trello"
        card = by_name(await asyncio.to_thread(bridge.trello.cards, board["id"]))["Task 0"]
        await settled(service, quiet=0.3)
        hints, cycles = service.hints, service.cycles
        edited = time.monotonic()
        await asyncio.to_thread(
            bridge.trello.call, "PUT", f"/cards/{card['id']}", name="Renamed on Trello"
        )
        await until(
            lambda: bridge.pms.get("tasks", task_id)["title"] == "Renamed on Trello",
            within=5,
            what="the edit in Custompms",
        )
        # The periodic cycle is a minute away: a webhook made this one.
        assert time.monotonic() - edited < 5
        assert service.hints > hints
        await until(lambda: service.cycles > cycles, within=5, what="the end of the cycle")
    assert webhooks_at_trello(bridge) == []


async def test_a_custompms_edit_reaches_trello_through_a_notification(
    bridge: Bridge, make_service: MakeService
):
    data = await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    service = make_service(interval_s=60, once_per_s=0.2)
    async with service.running():
        await first_cycle_done(bridge, service)
        [subscription] = await asyncio.to_thread(subscriptions_at_custompms, bridge)
        assert subscription["url"] == f"{service.public_url}/hooks/custompms"
        board = await asyncio.to_thread(bridge.only_board)
        await settled(service, quiet=0.3)
        hints = service.hints
        edited = time.monotonic()
        await asyncio.to_thread(
            bridge.pms.update, "tasks", data["tasks"][0]["id"], title="Renamed in Custompms"
        )
        await until(
            lambda: "Renamed in Custompms" in by_name(bridge.trello.cards(board["id"])),
            within=5,
            what="the edit on Trello",
        )
        assert time.monotonic() - edited < 5
        assert service.hints > hints
    assert await asyncio.to_thread(subscriptions_at_custompms, bridge) == []


async def test_a_comment_edit_on_trello_reaches_custompms_through_a_full_cycle(
    bridge: Bridge, make_service: MakeService
):
    # Trello's feeds never show comment edits; the webhook's updateComment asks for a full read.
    data = await asyncio.to_thread(seed, bridge.pms, tasks=1)
    service = make_service(interval_s=60, once_per_s=0.2)
    async with service.running():
        await first_cycle_done(bridge, service)
        # One more cycle, so that the board's feeds are read past the comment.
        await asyncio.to_thread(
            bridge.pms.update, "projects", data["project"]["id"], description="Moved on"
        )
        await until(lambda: bridge.only_board()["desc"] == "Moved on", within=5)
        await settled(service, quiet=0.3)
        board = await asyncio.to_thread(bridge.only_board)
        comments = await asyncio.to_thread(bridge.trello.comments, board["id"])
        action = next(c for c in comments if c["data"]["text"] == "On Task 0")
        await asyncio.to_thread(
            bridge.trello.call, "PUT", f"/actions/{action['id']}", text="On Task 0 (edited)"
        )
        await until(
            lambda: "On Task 0 (edited)" in {c["text"] for c in bridge.pms.all("comments")},
            within=5,
            what="the comment edit in Custompms",
        )
        assert service.last_report is not None


async def test_forged_deliveries_are_refused_and_start_no_cycle(
    bridge: Bridge, make_service: MakeService
):
    await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    service = make_service(interval_s=60, once_per_s=0.2)
    async with service.running(), httpx.AsyncClient(base_url=service.public_url) as http:
        await first_cycle_done(bridge, service)
        before = await settled(service, quiet=0.3)
        runs_before = len(open_store(bridge.settings.database_url).runs(limit=100))
        body = b'{"action": {"type": "updateCard"}, "model": {}, "webhook": {}}'
        forged = [
            await http.post("/hooks/trello", content=body),
            await http.post(
                "/hooks/trello",
                content=body,
                headers={"X-Trello-Webhook": sign("not-the-secret", body, "x")},
            ),
            await http.post(
                "/hooks/custompms",
                content=b'{"resource": "tasks", "id": "1", "version": 1, "deleted": false}',
                headers={"X-Custompms-Signature": "sha256=" + "0" * 64},
            ),
        ]
        assert [answer.status_code for answer in forged] == [401, 401, 401]
        await asyncio.sleep(0.5)
        assert service.cycles == before and service.hints == 0
        assert len(open_store(bridge.settings.database_url).runs(limit=100)) == runs_before
        # The same delivery, signed as Trello signs it, does start a cycle.
        secret = service.settings.trello_secret.get_secret_value()
        good = await http.post(
            "/hooks/trello",
            content=body,
            headers={"X-Trello-Webhook": sign(secret, body, service.trello_callback_url)},
        )
        assert good.status_code == 200
        await until(lambda: service.cycles == before + 1, within=3, what="the hinted cycle")


async def test_bursts_of_deliveries_make_few_cycles_and_never_two_at_once(
    bridge: Bridge, make_service: MakeService
):
    await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    service = make_service(interval_s=60, once_per_s=0.5)
    secret = service.settings.trello_secret.get_secret_value()

    async def deliver(http: httpx.AsyncClient, n: int) -> int:
        body = b'{"action": {"type": "updateCard", "n": %d}, "model": {}, "webhook": {}}' % n
        signature = sign(secret, body, service.trello_callback_url)
        answer = await http.post(
            "/hooks/trello", content=body, headers={"X-Trello-Webhook": signature}
        )
        return answer.status_code

    async with service.running(), httpx.AsyncClient(base_url=service.public_url) as http:
        await first_cycle_done(bridge, service)
        before = await settled(service, quiet=0.3)
        hints = service.hints
        # 30 deliveries at once: one cycle.
        statuses = await asyncio.gather(*(deliver(http, n) for n in range(30)))
        assert statuses == [200] * 30
        after_burst = await settled(service, quiet=0.3)
        assert after_burst - before == 1
        # 20 more, spread over ~1 s (some arrive while a cycle runs): a few cycles, one at a time.
        streamed = time.monotonic()
        for n in range(20):
            assert await deliver(http, n) == 200
            await asyncio.sleep(0.05)
        streamed = time.monotonic() - streamed
        after_stream = await settled(service, quiet=0.3)
        # At most one cycle per half second of deliveries, and the one after the last.
        assert 2 <= after_stream - after_burst <= streamed / 0.5 + 2
        assert service.hints - hints == 50
    runs = sorted(open_store(bridge.settings.database_url).runs(limit=100), key=lambda r: r.id)
    assert len(runs) == after_stream
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at is not None
        assert earlier.finished_at <= later.started_at, "two cycles overlapped"


async def test_without_a_public_url_the_periodic_cycle_alone_syncs(
    bridge: Bridge, make_service: MakeService
):
    data = await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    service = make_service(public=False, interval_s=0.3)
    async with service.running():
        await first_cycle_done(bridge, service)
        board = await asyncio.to_thread(bridge.only_board)
        await asyncio.to_thread(
            bridge.pms.update, "tasks", data["tasks"][0]["id"], title="Polled across"
        )
        await until(
            lambda: "Polled across" in by_name(bridge.trello.cards(board["id"])),
            within=5,
            what="the edit on Trello",
        )
        await until(lambda: service.cycles >= 2, within=5, what="the end of the cycle")
        assert service.hints == 0
        # No receiver, so nothing was registered anywhere.
        assert webhooks_at_trello(bridge) == []
        assert await asyncio.to_thread(subscriptions_at_custompms, bridge) == []


async def test_stopping_deletes_every_webhook_and_the_subscription(
    bridge: Bridge, make_service: MakeService
):
    first = await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    await asyncio.to_thread(
        bridge.pms.create,
        "projects",
        customer_id=first["customer"]["id"],
        name="Second project",
        description="",
        archived=False,
    )
    service = make_service(interval_s=60, once_per_s=0.2)
    await service.start()
    await first_cycle_done(bridge, service, boards=2)
    assert len(await asyncio.to_thread(subscriptions_at_custompms, bridge)) == 1
    await service.stop()
    assert webhooks_at_trello(bridge) == []
    assert await asyncio.to_thread(subscriptions_at_custompms, bridge) == []
    assert service.failure is None


@asynccontextmanager
async def impatient_runtime(bridge: Bridge) -> AsyncIterator[Runtime]:
    """The engine `open_engine` builds, but with clients that try each request once, so an
    unreachable system stops a cycle at once instead of after the clients' own retries."""
    s = bridge.settings
    flow_file = load_flow_file(s)
    store = open_store(s.database_url)
    trello = TrelloSystem(
        TrelloClient(
            s.trello_url,
            s.trello_key.get_secret_value(),
            s.trello_token.get_secret_value(),
            limits=UNLIMITED,
            retry=TrelloRetry(attempts=1),
        ),
        list_order=list_order(flow_file),
    )
    custompms = CustompmsSystem(
        CustompmsClient(
            s.custompms_url,
            s.custompms_token.get_secret_value(),
            retry=CustompmsRetry(attempts=1),
        )
    )
    engine = Engine(flow_file, store, custompms, trello, custompms_url=s.custompms_url)
    try:
        yield Runtime(engine, store, flow_file, custompms, trello)
    finally:
        await trello.aclose()
        await custompms.aclose()
        store.close()


async def test_an_unreachable_system_is_tried_again_with_backoff(
    bridge: Bridge, make_service: MakeService, caplog: pytest.LogCaptureFixture
):
    await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    bridge.pms_app.state.control.set_faults(error_rate=1.0, error_status=503)
    caplog.set_level(logging.WARNING, logger="pmbridge.serve")
    async with impatient_runtime(bridge) as runtime:
        service = make_service(public=False, interval_s=60, backoff_s=0.2, runtime=runtime)
        async with service.running():
            await until(lambda: service.cycles >= 2, within=5, what="two failed tries")
            assert "503" in str(service.last_error)
            retries = [
                r.getMessage() for r in caplog.records if "trying again in" in r.getMessage()
            ]
            assert len(retries) >= 1 and "Custompms" in retries[0]
            bridge.pms_app.state.control.clear_faults()
            await until(lambda: service.last_error is None, within=5, what="a cycle that works")
            assert service.failure is None
            assert await asyncio.to_thread(bridge.only_board)


async def test_refused_credentials_end_the_service(bridge: Bridge, make_service: MakeService):
    service = make_service(public=False, interval_s=60)
    service.settings = service.settings.model_copy(
        update={"trello_token": type(service.settings.trello_token)("ATTA" + "0" * 60)}
    )
    started = time.monotonic()
    with pytest.raises(AuthenticationError) as err:
        await service.run()
    assert "Trello rejected the token" in str(err.value)
    assert "ATTA" + "0" * 60 not in str(err.value)
    assert time.monotonic() - started < 5  # no backoff: trying again cannot help


async def test_stopping_finishes_the_running_cycle_and_aborting_cancels_it(
    bridge: Bridge, make_service: MakeService
):
    await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    # Every Custompms read takes a while, so the first cycle is still running when we stop.
    bridge.pms_app.state.control.set_faults(latency_ms=150, methods=["GET"])
    service = make_service(interval_s=60)
    await service.start()
    await until(lambda: not service.idle, within=5, what="a running cycle")
    await service.stop()
    assert service.cycles == 1 and service.last_error is None
    assert await asyncio.to_thread(bridge.only_board)  # the cycle went to its end

    aborted = make_service(interval_s=60)
    await aborted.start()
    await until(lambda: not aborted.idle, within=5, what="a running cycle")
    aborted.abort()
    await aborted.stop()
    assert aborted.cycles == 0 and aborted.failure is None
    assert await asyncio.to_thread(subscriptions_at_custompms, bridge) == []
