"""The guard around a cycle: whatever ends it, the run has a status and the lease is free;
its heartbeat keeps both alive, and a lease taken over stops the cycle."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pmbridge.errors import LeaseLostError, PmbridgeError
from pmbridge.store import SYNC_LEASE, LeaseHeldError, Store, open_store
from pmbridge.store.guard import guard_cycle


async def test_an_error_ends_the_run_as_failed_and_frees_the_lease(store: Store) -> None:
    with pytest.raises(PmbridgeError):
        async with guard_cycle(store):
            run_id = store.start_run()
            raise PmbridgeError("Custompms has no customers")
    run = store.get_run(run_id)
    assert run is not None and (run.status, run.error) == ("failed", "Custompms has no customers")
    assert store.get_lease(SYNC_LEASE) is None


async def test_a_cancelled_cycle_ends_its_run_as_interrupted(store: Store) -> None:
    started = asyncio.Event()

    async def cycle() -> None:
        async with guard_cycle(store):
            store.start_run()
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(cycle())
    await started.wait()
    task.cancel("SIGTERM")
    with pytest.raises(asyncio.CancelledError):
        await task
    [run] = store.runs()
    assert (run.status, run.error) == ("interrupted", "interrupted: SIGTERM")
    assert store.get_lease(SYNC_LEASE) is None


async def test_a_second_guard_is_refused_or_waits(store: Store, store_url: str) -> None:
    with open_store(store_url) as other:
        async with guard_cycle(store):
            with pytest.raises(LeaseHeldError, match="has held the sync lease on this store"):
                async with guard_cycle(other):
                    pass
        async with guard_cycle(other, wait_s=5):
            assert other.get_lease(SYNC_LEASE).owner == other.owner.key  # type: ignore[union-attr]


async def test_the_heartbeat_keeps_the_run_alive_and_a_lost_lease_stops_the_cycle(
    store: Store, store_url: str
) -> None:
    with pytest.raises(LeaseLostError, match="another process took over the sync lease"):
        async with guard_cycle(store, lease_s=0.4):
            run_id = store.start_run(lease_s=0.4)
            first = store.get_run(run_id).lease_expires_at  # type: ignore[union-attr]
            await asyncio.sleep(0.3)  # a beat every 0.1 s moves the run's expiry on
            assert store.get_run(run_id).lease_expires_at > first  # type: ignore[union-attr,operator]
            # Another process, on another host, whose clock is far ahead, takes the lease.
            with open_store(store_url) as other:
                other.owner = replace(other.owner, host="elsewhere")
                other.clock = lambda: datetime.now(UTC) + timedelta(hours=1)
                other.acquire_lease(SYNC_LEASE, lease_s=60)
            await asyncio.sleep(5)  # cancelled by the next beat
    run = store.get_run(run_id)
    assert run is not None and run.status == "interrupted"
