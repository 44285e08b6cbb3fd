"""Several `pmbridge sync` processes on one store take turns: no duplicate, nothing lost, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import collections
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.dataset import seed as seed_in_bulk
from pmbridge.cli import app
from pmbridge.store import SYNC_LEASE
from tests.engine.test_cli import env_of
from tests.fixtures.bridge import Bridge, on_both_stores, seed
from tests.processes.conftest import start_sync

runner = CliRunner()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def duplicates(names: list[str]) -> list[str]:
    return [name for name, n in collections.Counter(names).items() if n > 1]


@on_both_stores
def test_three_syncs_started_at_once_make_no_duplicate_and_lose_nothing(
    bridge: Bridge, tmp_path: Path
):
    data = seed_in_bulk(bridge.pms_app, tasks=300, customers=2, projects=3, comments_per_task=0)
    processes = [start_sync(bridge, tmp_path) for _ in range(3)]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stdout + stderr
    waited = [stdout for stdout, _ in outputs if "Nothing done: another pmbridge" in stdout]
    assert len(waited) <= 2

    orgs = bridge.trello.organizations()
    boards = [board for org in orgs for board in bridge.trello.boards(org["id"])]
    cards = [card for board in boards for card in bridge.trello.cards(board["id"])]
    assert sorted(org["displayName"] for org in orgs) == ["Customer 0", "Customer 1"]
    assert sorted(board["name"] for board in boards) == ["Project 0", "Project 1", "Project 2"]
    assert duplicates([card["name"] for card in cards]) == []
    assert sorted(card["name"] for card in cards) == sorted(t["title"] for t in data.tasks)
    # Nothing came back to Custompms as a second copy either.
    for resource, seeded in (("customers", 2), ("projects", 3), ("tasks", 300)):
        assert len(bridge.pms.all(resource)) == seeded, resource
    with bridge.store() as store:
        assert store.count_links("tasks") == 300
        assert {run.status for run in store.runs()} == {"ok"}


def test_a_sync_while_another_process_syncs_says_who_and_does_nothing(bridge: Bridge):
    seed(bridge.pms, tasks=1, comments=False)
    with bridge.store() as holder:
        lease = holder.acquire_lease(SYNC_LEASE, lease_s=60)
        result = runner.invoke(app, ["sync"], env=env_of(bridge))
        assert result.exit_code == 0, result.output
        assert "Nothing done: another pmbridge (pid " in result.output
        assert f"since {lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC" in result.output
        assert holder.runs() == []
        assert bridge.trello.organizations() == []

        # Told to wait, it waits for the lease until the holder gives it up.
        giving_up = threading.Timer(0.5, holder.release_lease, [SYNC_LEASE])
        giving_up.start()
        env = env_of(bridge, PMBRIDGE_LEASE_WAIT_S="30")
        result = runner.invoke(app, ["sync"], env=env)
        giving_up.join()
        assert result.exit_code == 0, result.output
        assert "Nothing done" not in result.output
        assert [run.status for run in holder.runs()] == ["ok"]
