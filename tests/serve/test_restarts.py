"""`pmbridge serve` leaves nothing behind: killed during a cycle, the next serve deletes what
it registered; stopped cleanly, nothing stays (real processes, SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from pmbridge.sandbox.trello.config import SandboxConfig
from pmbridge.serve import Service
from pmbridge.sockets import free_port
from pmbridge.store import SYNC_LEASE
from tests.engine.test_cli import env_of
from tests.fixtures.bridge import Bridge, seed
from tests.fixtures.database import BACKENDS
from tests.processes.conftest import wait_for
from tests.serve.conftest import subscriptions_at_custompms, until, webhooks_at_trello


class Serve:
    """``pmbridge serve`` as a process of its own, its stdout lines collected."""

    def __init__(self, bridge: Bridge, secret: str, port: int, cwd: Path):
        env = {
            **os.environ,
            **env_of(bridge, PMBRIDGE_TRELLO_SECRET=secret),
            "PYTHONUNBUFFERED": "1",
        }
        command = [sys.executable, "-m", "pmbridge", "serve", "--interval", "60"]
        command += ["--public-url", f"http://127.0.0.1:{port}", "--listen", f"127.0.0.1:{port}"]
        command += ["--once-per", "0.1"]
        self.process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        stdout = self.process.stdout
        self._reader = threading.Thread(target=lambda: self.lines.extend(stdout), daemon=True)
        self._reader.start()

    def said(self, text: str) -> bool:
        assert self.process.poll() is None, "".join(self.lines) + self.process.stderr.read()  # type: ignore[union-attr]
        return any(text in line for line in self.lines)

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=20)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def running_runs(bridge: Bridge) -> int:
    with bridge.store() as store:
        return sum(run.status == "running" for run in store.runs())


@pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)
def test_a_serve_killed_during_a_cycle_leaves_nothing_once_the_next_one_stops(
    bridge: Bridge, trello_config: SandboxConfig, tmp_path: Path
):
    [task] = seed(bridge.pms, tasks=1, comments=False)["tasks"]
    port = free_port()
    first = Serve(bridge, trello_config.secret, port, tmp_path)
    try:
        wait_for(lambda: first.said("cycle 1 (") and webhooks_at_trello(bridge), what="start")
        assert len(webhooks_at_trello(bridge)) == 1
        assert len(subscriptions_at_custompms(bridge)) == 1
        # A change notified by Custompms starts a cycle; Trello is slow, so it is still
        # running when the process is killed.
        bridge.trello_app.state.control.set_faults(latency_ms=300)
        bridge.pms.update("tasks", task["id"], title="Renamed")
        wait_for(lambda: running_runs(bridge), what="a running cycle")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        first.kill()
    assert len(webhooks_at_trello(bridge)) == 1  # left behind
    assert len(subscriptions_at_custompms(bridge)) == 1

    bridge.trello_app.state.control.clear_faults()
    second = Serve(bridge, trello_config.secret, port, tmp_path)
    try:
        wait_for(lambda: second.said("cycle 1 (") and webhooks_at_trello(bridge), what="restart")
        assert second.said("removed what an earlier serve left: ")
        assert len(webhooks_at_trello(bridge)) == 1  # its own, and only its own
        assert len(subscriptions_at_custompms(bridge)) == 1
        assert second.stop(signal.SIGTERM) == 0
    finally:
        second.kill()
    assert webhooks_at_trello(bridge) == []
    assert subscriptions_at_custompms(bridge) == []
    with bridge.store() as store:
        assert store.registrations() == []
        statuses = [run.status for run in store.runs()]
    assert "running" not in statuses and "interrupted" in statuses
    assert bridge.trello.cards(bridge.only_board()["id"])[0]["name"] == "Renamed"


async def test_a_serve_cycle_waits_its_turn_while_another_process_syncs(
    bridge: Bridge, make_service: Callable[..., Service], caplog: pytest.LogCaptureFixture
):
    await asyncio.to_thread(seed, bridge.pms, tasks=1, comments=False)
    caplog.set_level(logging.INFO, logger="pmbridge")
    with bridge.store() as other:
        other.acquire_lease(SYNC_LEASE, lease_s=60)
        service = make_service(public=False, interval_s=0.2)
        async with service.running():
            await until(lambda: "cycle skipped (start)" in caplog.text, what="a skipped cycle")
            assert service.cycles == 0 and other.runs() == []
            assert bridge.trello.organizations() == []
            other.release_lease(SYNC_LEASE)
            await until(lambda: service.cycles >= 1, what="a cycle once the lease is free")
        assert [run.status for run in other.runs()][-1] == "ok"
    assert "another pmbridge (pid " in caplog.text
