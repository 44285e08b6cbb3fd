"""Processes sharing a store: run heartbeats, leases and serve's registrations, on a fake
clock (a process on another host is only known dead once its lease expires)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pmbridge.store import LeaseHeldError, Owner, Store, open_store

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def two(store_url: str):
    """Two processes on one store: ``here`` (this one) and ``there`` (on another host)."""
    clock = Clock()
    here, there = open_store(store_url), open_store(store_url)
    there.owner = replace(there.owner, host="elsewhere", pid=4242)
    here.clock = there.clock = clock
    yield here, there, clock
    here.close()
    there.close()


def test_a_run_of_a_live_process_stays_running_until_its_heartbeat_stops(two):
    here, there, clock = two
    run_id = there.start_run(lease_s=60)
    clock.now += timedelta(seconds=50)
    assert here.mark_interrupted_runs() == []
    assert there.heartbeat(run_id, lease_s=60) == 1
    clock.now += timedelta(seconds=50)
    assert here.mark_interrupted_runs() == []
    clock.now += timedelta(seconds=11)
    [run] = here.mark_interrupted_runs()
    assert (run.id, run.status) == (run_id, "interrupted")
    assert run.error is not None and "pid 4242 on elsewhere stopped without finishing" in run.error
    assert "last sign of life 2026-01-01 12:00:50 UTC" in run.error
    # The late process cannot finish it as if nothing happened, nor keep it alive.
    assert there.heartbeat(run_id) == 0
    assert here.get_run(run_id).status == "interrupted"  # type: ignore[union-attr]


def test_a_process_never_marks_its_own_runs(two):
    here, _, clock = two
    run_id = here.start_run(lease_s=1)
    clock.now += timedelta(hours=1)
    assert here.mark_interrupted_runs() == []
    [ended] = here.end_open_runs("failed", "stopped by an error")
    assert (ended.id, ended.status, ended.error) == (run_id, "failed", "stopped by an error")


def test_a_lease_goes_to_one_process_at_a_time(two):
    here, there, clock = two
    taken = there.acquire_lease("sync", lease_s=60)
    assert taken.owner == there.owner.key
    with pytest.raises(LeaseHeldError) as held:
        here.acquire_lease("sync", lease_s=60)
    assert str(held.value) == (
        "another pmbridge (pid 4242 on elsewhere) has held the sync lease on this store "
        "since 2026-01-01 12:00:00 UTC"
    )
    clock.now += timedelta(seconds=59)
    assert there.renew_lease("sync", lease_s=60)
    assert there.acquire_lease("sync", lease_s=60).acquired_at == T0  # its own: renewed
    clock.now += timedelta(seconds=61)
    # Expired: the next process takes it, and the late one learns it lost it.
    mine = here.acquire_lease("sync", lease_s=60)
    assert (mine.owner, mine.acquired_at) == (here.owner.key, clock.now)
    assert not there.renew_lease("sync", lease_s=60)
    assert not there.release_lease("sync")
    assert here.release_lease("sync")
    assert here.get_lease("sync") is None


def test_a_lease_of_a_dead_process_on_this_host_is_taken_at_once(store: Store, store_url: str):
    dead = open_store(store_url)
    # A PID that cannot be alive on this host (above any pid_max).
    dead.owner = replace(store.owner, pid=2**22 + 1, token="gone")
    dead.acquire_lease("sync", lease_s=600)
    dead.start_run(lease_s=600)
    dead.close()
    assert store.acquire_lease("sync", lease_s=60).owner == store.owner.key
    [run] = store.mark_interrupted_runs()
    assert run.status == "interrupted"


def test_registrations_of_a_gone_serve_are_found_for_adoption(two):
    here, there, clock = two
    there.acquire_lease(f"serve {there.owner.key}", lease_s=60)
    hook = there.add_registration("trello", "wh-1", "https://x/hooks/trello", "board-1")
    assert here.orphaned_registrations("serve ") == []
    clock.now += timedelta(seconds=61)
    assert [r.remote_id for r in here.orphaned_registrations("serve ")] == ["wh-1"]
    assert here.adopt_registration(hook.id)
    assert [r.remote_id for r in here.registrations(mine=True)] == ["wh-1"]
    assert here.delete_registration(hook.id)
    assert here.registrations() == []


def test_owner_keys_read_back(store: Store) -> None:
    assert Owner.parse(store.owner.key) == store.owner
