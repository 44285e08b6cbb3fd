"""When the service's next cycle is due, and what a periodic one reads: the serve scheduler.

Two clocks make cycles. The periodic timer fires every ``interval_s`` seconds — or, with the
reconcile spread (``SpreadReads``), every ``interval_s / ticks`` seconds, each tick reading its
slice. Hints (deliveries, the dashboard's "Retry now") are debounced: the hints of
``once_per_s`` seconds after the first one make one cycle. A hint cycle does not postpone the
timer. A cycle stopped by a system that is unreachable or limiting the rate is tried again
after a backoff (``retrying``). ``stop`` ends the waiting and the backoff at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from pmbridge.engine.context import Targets
from pmbridge.engine.run import CycleStopped
from pmbridge.serve.receiver import Hint
from pmbridge.serve.targets import SpreadReads

# What a spread tick reads: its targets (None: everything) and whether it is a full one.
Tick = tuple[Targets | None, bool]
# The linked boards now, and the Trello and Custompms kinds the flows sync.
Reads = Callable[[], tuple[set[str], set[str], set[str]]]


class Stopping(Exception):
    """Raised out of a backoff pause when the service is asked to stop."""


@dataclass(frozen=True)
class Due:
    """A cycle that is due: why ("start", "timer" or "hints"), and with a spread reconcile,
    the tick it reads (None: the hints' targets, or every feed)."""

    trigger: str
    tick: Tick | None = None


class Schedule:
    """The periodic timer, the spread ticks and the hints waiting for a cycle.

    :param interval_s: seconds between periodic cycles (one pass of the spread reconcile)
    :param once_per_s: hints within this many seconds of the first make one cycle
    :param backoff_s: the first wait before trying a stopped cycle again (then doubling,
        up to ``interval_s``)
    :param spread: the reconcile spread over ticks; None: one whole cycle per interval
    """

    def __init__(
        self, interval_s: float, once_per_s: float, backoff_s: float, spread: SpreadReads | None
    ):
        self.interval_s = interval_s
        self.once_per_s = once_per_s
        self.backoff_s = backoff_s
        self.spread = spread
        self._next_timer: float | None = None  # the first cycle runs at once
        self._pending: list[Hint] = []  # hints since the last cycle started
        self._pending_since: float | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    # --- hints -----------------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """Hints received since the last cycle started (they are waiting for the next)."""
        return len(self._pending)

    def add(self, hint: Hint) -> None:
        """A cycle is due ``once_per_s`` after the first hint that waits."""
        self._pending.append(hint)
        if self._pending_since is None:
            self._pending_since = asyncio.get_running_loop().time()
            self._wake.set()

    def take(self) -> list[Hint]:
        """The waiting hints, for the cycle that starts now (those from now on wait)."""
        taken, self._pending, self._pending_since = self._pending, [], None
        return taken

    def drop(self, unwanted: Callable[[Hint], bool]) -> None:
        """Forget the waiting hints that are ``unwanted`` (a cycle is due no more if none is
        left)."""
        self._pending = [hint for hint in self._pending if not unwanted(hint)]
        if not self._pending:
            self._pending_since = None

    # --- stopping --------------------------------------------------------------------------

    def stop(self) -> None:
        """End ``next_due`` (it returns None) and any ``pause``."""
        self._stopping.set()
        self._wake.set()

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds``; raises ``Stopping`` once ``stop`` is called."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            raise Stopping

    def retrying(self, before_sleep: Callable[[RetryCallState], None]) -> AsyncRetrying:
        """Attempts at a cycle, again with exponential backoff while it stops on a transient
        failure (``before_sleep`` is told of each); the backoff raises ``Stopping`` once
        ``stop`` is called, other failures are raised as they are."""
        return AsyncRetrying(
            retry=retry_if_exception(_transient),
            wait=wait_exponential(
                multiplier=self.backoff_s, max=max(self.interval_s, self.backoff_s)
            ),
            sleep=self.pause,
            before_sleep=before_sleep,
            reraise=True,
        )

    # --- the next cycle --------------------------------------------------------------------

    async def next_due(self, started: bool, reads: Reads) -> Due | None:
        """The next cycle once it is due; None once ``stop`` is called.

        :param started: whether a cycle ran already (if not, the timer's cycle is the
            "start", a whole one even when spread)
        :param reads: what a spread tick chooses from, asked only when one is due
        """
        loop = asyncio.get_running_loop()
        if self._next_timer is None:
            self._next_timer = loop.time()
        while True:
            trigger = await self._wait_until_due(self._next_timer)
            if trigger is None:
                return None
            if trigger == "hints":  # hint cycles do not postpone the periodic reads
                return Due("hints")
            ticks = self.spread.ticks if self.spread is not None else 1
            self._next_timer = loop.time() + self.interval_s / ticks
            if self.spread is None or not started:
                return Due("timer" if started else "start")
            tick = self.spread.next(*reads())
            if tick is not None:
                return Due("timer", tick)
            # else: the rest of a pass that was one full reconcile

    async def _wait_until_due(self, next_timer: float) -> str | None:
        """The reason of the next cycle ("timer" or "hints") once it is due; None to stop."""
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            now = loop.time()
            hinted = self._pending_since is not None
            due = next_timer
            if self._pending_since is not None:
                due = min(due, self._pending_since + self.once_per_s)
            if now >= due:
                return "hints" if hinted and due < next_timer else "timer"
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), due - now)
        return None


def _transient(err: BaseException) -> bool:
    cause = err.cause if isinstance(err, CycleStopped) else err
    return bool(getattr(cause, "retryable", False))
