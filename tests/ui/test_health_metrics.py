"""``pmbridge serve --listen`` without a public URL: the dashboard, ``/healthz``, ``/readyz``
(unready while a sandbox is down, ready again once it is back) and ``/metrics`` (Prometheus
text that the Prometheus parser reads)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from pmbridge.engine.report import CycleReport
from pmbridge.errors import UnavailableError
from pmbridge.sandbox.server import ServerThread
from pmbridge.serve import Service
from pmbridge.serve.health import ServeStatus
from pmbridge.sockets import listening_socket
from tests.fixtures.bridge import UNLIMITED, Bridge, seed
from tests.serve.conftest import until
from tests.serve.test_service import impatient_runtime


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics answer, parsed by Prometheus' own parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, timeout=5, **kwargs)


async def test_serve_listens_without_a_public_url_for_dashboard_health_and_metrics(
    bridge: Bridge,
):
    await asyncio.to_thread(seed, bridge.pms, tasks=2, comments=False)
    sock = listening_socket("127.0.0.1", 0)
    root = f"http://127.0.0.1:{sock.getsockname()[1]}"
    service = Service(bridge.settings, sock=sock, http=True, interval_s=60, trello_limits=UNLIMITED)
    async with service.running():
        await until(lambda: service.cycles >= 1, what="the first cycle")
        assert service.status.progress["tasks"] == (2, 2)  # what the overview shows meanwhile
        assert (await asyncio.to_thread(get, root + "/healthz")).text == "ok\n"
        ready = await asyncio.to_thread(get, root + "/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["problems"] == []

        answer = await asyncio.to_thread(get, root + "/metrics")
        assert answer.headers["content-type"].startswith("text/plain")
        metric = samples(answer.text)
        assert metric[("pmbridge_cycles_total", (("outcome", "ok"),))] == 1
        created = (("flow", "tasks"), ("operation", "created"), ("system", "trello"))
        assert metric[("pmbridge_writes_total", created)] == 2
        assert metric[("pmbridge_cycle_duration_seconds_count", ())] == 1
        assert metric[("pmbridge_http_answers_total", (("status", "2xx"), ("system", "trello")))]
        assert metric[("pmbridge_last_success_timestamp_seconds", ())] > 0

        # The dashboard: open on loopback (no password), showing the service as ready.
        with httpx.Client(base_url=root, follow_redirects=True) as browser:
            page = await asyncio.to_thread(browser.get, "/ui/")
            assert page.status_code == 200
            assert "Ready." in page.text and "No public URL: polling only" in page.text


async def test_readyz_is_unready_while_trello_is_down_and_ready_once_it_is_back(
    bridge: Bridge,
):
    await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    sock = listening_socket("127.0.0.1", 0)
    readyz = f"http://127.0.0.1:{sock.getsockname()[1]}/readyz"
    async with impatient_runtime(bridge) as runtime:
        service = Service(
            bridge.settings, sock=sock, http=True, interval_s=60, backoff_s=0.2, runtime=runtime
        )
        async with service.running():
            await until(lambda: get(readyz).status_code == 200, what="ready")
            port = bridge.trello_server.port
            bridge.trello_server.stop()
            service.prompt_cycle()  # as the dashboard's "Retry now" does
            down = await until(lambda: (a := get(readyz)).status_code == 503 and a, what="503")
            [problem] = down.json()["problems"]
            assert problem.startswith("Trello did not answer the last cycle")
            with ServerThread(bridge.trello_app, port=port):
                back = await until(lambda: (a := get(readyz)).status_code == 200 and a, within=15)
                assert back.json() == {
                    "ready": True,
                    "problems": [],
                    "cycles": back.json()["cycles"],
                }
    metric = samples(service.status.metrics.text().decode())
    assert metric[("pmbridge_cycles_total", (("outcome", "failed"),))] >= 1


async def test_retry_now_under_serve_asks_the_service_for_a_prompt_cycle(bridge: Bridge):
    data = await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    bad = data["tasks"][0]["id"]
    await asyncio.to_thread(bridge.pms.update, "tasks", bad, description="x" * 16384)
    sock = listening_socket("127.0.0.1", 0)
    root = f"http://127.0.0.1:{sock.getsockname()[1]}"
    service = Service(
        bridge.settings,
        sock=sock,
        http=True,
        interval_s=600,
        once_per_s=0.1,
        trello_limits=UNLIMITED,
    )
    async with service.running():
        await until(lambda: service.cycles >= 1, what="the first cycle")
        await asyncio.to_thread(bridge.pms.update, "tasks", bad, description="Fixed")

        def retry() -> str:
            with httpx.Client(base_url=root, follow_redirects=True, timeout=10) as browser:
                page = browser.get("/ui/dead-letters").text
                [letter] = re.findall(r'action="(/ui/dead-letters/\d+/retry)"', page)
                token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
                return browser.post(letter, data={"csrf_token": token}).text

        page = await asyncio.to_thread(retry)
        assert "A cycle starts in about a second" in page
        await until(lambda: service.cycles >= 2, what="the prompt cycle")
        overview = await asyncio.to_thread(get, root + "/ui/login", follow_redirects=True)
        assert "Last change notices: dashboard (retry now) at 20" in overview.text
    with bridge.store() as store:
        assert store.dead_letters() == []
    cards = await asyncio.to_thread(bridge.trello.cards, bridge.only_board()["id"])
    assert [c["name"] for c in cards] == ["Task 0"]


async def test_the_overview_shows_change_notices_waiting_for_their_cycle(bridge: Bridge):
    sock = listening_socket("127.0.0.1", 0)
    overview = f"http://127.0.0.1:{sock.getsockname()[1]}/ui/"
    service = Service(
        bridge.settings,
        sock=sock,
        http=True,
        interval_s=600,
        once_per_s=600,  # a notice waits for its cycle as long as this test runs
        trello_limits=UNLIMITED,
    )
    async with service.running():
        await until(lambda: service.idle and service.cycles >= 1, what="the first cycle")
        page = await asyncio.to_thread(get, overview, follow_redirects=True)
        assert "Idle; a cycle every 600 s." in page.text
        service.prompt_cycle()  # as the dashboard's "Retry now" does
        service.prompt_cycle()
        page = await asyncio.to_thread(get, overview, follow_redirects=True)
        assert "Idle; a cycle every 600 s, 2 change notice(s) waiting." in page.text
        assert service.cycles == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_readiness_ages_with_the_clock():
    clock = FakeClock()
    status = ServeStatus(interval_s=60, clock=clock)
    assert status.problems() == [
        "Custompms has not answered yet",
        "Trello has not answered yet",
        "no cycle has finished yet",
    ]
    status.cycle_started()
    status.answered("custompms", 200)
    status.answered("trello", 200)
    clock.now += 2
    status.cycle_ended(CycleReport(), 2.0)
    assert status.problems() == []
    clock.now += 60  # the next cycle is due: still within the interval and the cycle's length
    assert status.problems() == []
    status.answered("custompms", 200)
    status.answered("trello", 503)  # a 5xx is not an answer
    clock.now += 10
    assert status.problems() == ["Trello last answered 72 s ago (more than 67 s)"]
    status.cycle_ended(CycleReport(), 1.0, UnavailableError("Trello is down", system="trello"))
    assert status.problems()[0] == "Trello did not answer the last cycle: Trello is down"
    clock.now += 120  # 3 intervals since the last cycle that finished
    assert status.problems()[-1] == (
        "the last finished cycle is 190 s old (more than 3 intervals of 60 s)"
    )


def test_notice_to_write_latency_counts_from_the_first_delivery_to_the_writing_cycle():
    clock = FakeClock()
    status = ServeStatus(interval_s=60, clock=clock)
    wrote = CycleReport()
    wrote.add("tasks", "to_trello", "updated")
    status.hint_received("custompms", "tasks")
    clock.now += 1.0
    status.hint_received("trello", "updateCard")  # the same cycle answers both
    status.hint_received("dashboard", "retry now")  # not a change notice
    status.cycle_started()
    clock.now += 0.5
    status.cycle_ended(wrote, 0.5, UnavailableError("Trello is down", system="trello"))
    status.cycle_started()  # the retry
    clock.now += 1.0
    status.cycle_ended(wrote, 1.0)
    status.cycle_started()  # a periodic cycle, no notice: not measured
    status.cycle_ended(wrote, 1.0)
    metric = samples(status.metrics.text().decode())
    assert metric[("pmbridge_notice_to_write_seconds_count", ())] == 1
    assert metric[("pmbridge_notice_to_write_seconds_sum", ())] == 2.5


async def test_metrics_count_the_requests_tried_again(bridge: Bridge):
    await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    bridge.trello_app.state.control.set_faults(force_429=1)  # Trello's next answer is a 429
    sock = listening_socket("127.0.0.1", 0)
    root = f"http://127.0.0.1:{sock.getsockname()[1]}"
    service = Service(bridge.settings, sock=sock, http=True, interval_s=60, trello_limits=UNLIMITED)
    async with service.running():
        await until(lambda: service.cycles >= 1, what="the first cycle")
        metric = samples((await asyncio.to_thread(get, root + "/metrics")).text)
    assert metric[("pmbridge_retries_total", (("system", "trello"),))] == 1
    assert metric[("pmbridge_http_answers_total", (("status", "429"), ("system", "trello")))] == 1
    assert metric.get(("pmbridge_retries_total", (("system", "custompms"),)), 0) == 0
