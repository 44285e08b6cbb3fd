"""One writer per store, and a status for every run: the guard around a cycle.

    async with guard_cycle(store, wait_s=settings.lease_wait_s):
        report = await engine.run(options)      # start_run / finish_run as usual

The guard takes the store's sync lease (waiting up to ``wait_s`` for another process to give
it up, else ``LeaseHeldError`` naming the holder), ends as ``interrupted`` the runs that dead
processes left ``running``, and keeps the lease and this process's runs alive with a
heartbeat while the block runs. Whatever ends the block — a return, an exception, a
cancellation (SIGINT, SIGTERM) — a run of this process still ``running`` is ended with a
status (``failed`` on an exception, ``interrupted`` on a cancellation) and the lease is
released. If the heartbeat finds the lease taken over (this process stalled longer than the
lease), the block is cancelled and ``LeaseLostError`` raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from pmbridge.errors import LeaseHeldError, LeaseLostError, StoreError
from pmbridge.store.processes import RUN_LEASE_S, SYNC_LEASE
from pmbridge.store.rows import Lease, RunStatus
from pmbridge.store.store import Store

log = logging.getLogger("pmbridge.store")

LEASE_S = RUN_LEASE_S
"""How long the sync lease lasts without a heartbeat (the heartbeat renews it every quarter)."""


async def _wait_for_lease(store: Store, name: str, wait_s: float, lease_s: float) -> Lease:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return store.acquire_lease(name, lease_s=lease_s)
        except LeaseHeldError:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            await asyncio.sleep(min(0.5, left))


@contextlib.asynccontextmanager
async def guard_cycle(
    store: Store, *, wait_s: float = 0.0, lease_s: float = LEASE_S, name: str = SYNC_LEASE
) -> AsyncIterator[Lease]:
    """Hold lease ``name`` and a heartbeat around the block; see the module docstring."""
    lease = await _wait_for_lease(store, name, wait_s, lease_s)
    body = asyncio.current_task()
    lost = False

    async def beat() -> None:
        nonlocal lost
        while True:
            await asyncio.sleep(lease_s / 4)
            try:
                store.heartbeat(lease_s=lease_s)
                held = store.renew_lease(name, lease_s=lease_s)
            except StoreError as err:  # a store that fails now and then: try again next beat
                log.warning("heartbeat failed: %s", err)
                continue
            if not held:
                lost = True
                log.error("another process took the %s lease: stopping this cycle", name)
                if body is not None:
                    body.cancel("the lease was taken over")
                return

    ending: tuple[RunStatus, str] = ("failed", "the run ended without recording a status")
    beating = asyncio.create_task(beat(), name=f"pmbridge {name} heartbeat")
    try:
        for run in store.mark_interrupted_runs():
            log.warning("run %d: %s", run.id, run.error)
        yield lease
    except asyncio.CancelledError as err:
        reason = str(err.args[0]) if err.args else "cancelled"
        ending = ("interrupted", f"interrupted: {reason}")
        if lost:
            if body is not None:
                body.uncancel()
            raise LeaseLostError(
                f"another process took over the {name} lease on this store while this cycle "
                f"ran (no heartbeat for {lease_s:g} s): the cycle was stopped"
            ) from None
        raise
    except KeyboardInterrupt:
        ending = ("interrupted", "interrupted: Ctrl-C")
        raise
    except BaseException as err:  # any failure must end the run with a status
        ending = ("failed", str(err) or type(err).__name__)
        raise
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        try:
            for run in store.end_open_runs(*ending):
                log.info("run %d ended as %s: %s", run.id, run.status, run.error)
            store.release_lease(name)
        except StoreError as err:
            log.error("could not record the end of the run: %s", err)
