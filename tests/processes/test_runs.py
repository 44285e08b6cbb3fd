"""Every run ends with a status: an error, Ctrl-C, SIGTERM, or a SIGKILL that the next
process notices (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmbridge.cli import app
from pmbridge.store import SYNC_LEASE, Run
from tests.engine.test_cli import env_of
from tests.fixtures.bridge import Bridge, seed
from tests.processes.conftest import start, wait_for

runner = CliRunner()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def runs_of(bridge: Bridge) -> list[Run]:
    with bridge.store() as store:
        return store.runs()


def running_run(bridge: Bridge) -> Run | None:
    return next((run for run in runs_of(bridge) if run.status == "running"), None)


def test_a_sync_stopped_by_an_error_ends_its_run_as_failed(bridge: Bridge):
    # A Custompms URL one level off: the first read finds no customers resource.
    env = env_of(bridge, PMBRIDGE_CUSTOMPMS_URL=bridge.settings.custompms_url + "/nope")
    result = runner.invoke(app, ["sync"], env=env)
    assert result.exit_code == 2, result.output
    assert "Custompms has no customers" in result.output
    [run] = runs_of(bridge)
    assert run.status == "failed"
    assert run.error is not None and "Custompms has no customers" in run.error
    assert run.finished_at is not None
    with bridge.store() as store:
        assert store.get_lease(SYNC_LEASE) is None


def slow_trello(bridge: Bridge) -> None:
    """Every Trello call takes a while, so a first sync is still running when stopped."""
    seed(bridge.pms, tasks=3, comments=False)
    bridge.trello_app.state.control.set_faults(latency_ms=250)


def test_a_killed_sync_is_marked_interrupted_by_the_next_one(bridge: Bridge, tmp_path: Path):
    slow_trello(bridge)
    killed = start(bridge, tmp_path, "sync")
    try:
        run = wait_for(lambda: running_run(bridge), what="a running run")
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
    finally:
        if killed.poll() is None:
            killed.kill()
    assert running_run(bridge) is not None  # nobody could end it

    bridge.trello_app.state.control.clear_faults()
    result = runner.invoke(app, ["sync"], env=env_of(bridge))
    assert result.exit_code == 0, result.output
    runs = {entry.id: entry for entry in runs_of(bridge)}
    assert runs[run.id].status == "interrupted"
    assert f"pid {killed.pid} on " in (runs[run.id].error or "")
    assert [entry.status for entry in runs.values() if entry.id != run.id] == ["ok"]
    assert len(bridge.trello.cards(bridge.only_board()["id"])) == 3


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_sync_stopped_by_a_signal_ends_its_run_as_interrupted(
    bridge: Bridge, tmp_path: Path, stop_with: signal.Signals
):
    slow_trello(bridge)
    process = start(bridge, tmp_path, "sync")
    try:
        wait_for(lambda: running_run(bridge), what="a running run")
        process.send_signal(stop_with)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    name = "SIGTERM" if stop_with == signal.SIGTERM else "Ctrl-C"
    assert process.returncode == 2, stderr
    assert f"sync stopped by {name}; the run is recorded as interrupted and the next" in stderr
    [run] = runs_of(bridge)
    assert (run.status, run.error) == ("interrupted", f"interrupted: {name}")
    with bridge.store() as store:
        assert store.get_lease(SYNC_LEASE) is None
