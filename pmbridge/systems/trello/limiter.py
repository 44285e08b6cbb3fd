"""The client-side request budget that keeps a Trello client under Trello's rate limits.

Trello refuses requests (429) beyond 100 per 10 s per token, 300 per 10 s per API key (all
tokens of the key together) and 100 per 900 s on ``/1/members/`` routes
(reference/TRELLO_API.md §3). ``TrelloLimiter`` gives each request a send time that fits
every budget it falls under: no window of a limit's length, however it is placed, holds
more than the limit minus a headroom. Requests stay concurrent: many may be in flight, they
only start no faster than the budgets allow.

Each budget is a GCRA (generic cell rate algorithm, the virtual-scheduling form of a leaky
bucket): a burst, then an even rate. A request reserves its send time in ALL its budgets at
once, in arrival order. Taking slots one budget after another (as with separate
``aiolimiter`` buckets) is not enough: a request that got the members slot and then queues
for the key slot goes out late, bunched with others, and breaks the members limit.

One client per token; clients of one API key share the key's budget through
``TrelloLimits.with_shared_key()``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One of Trello's limits and how much of it a client may use.

    In any window of ``per_seconds`` at most ``requests - headroom`` requests start: a burst
    of ``burst`` at once, then an even rate of ``(requests - headroom - burst) / per_seconds``.
    The headroom absorbs the jitter between a request starting here and arriving there.

    :param requests: Trello's limit
    :param per_seconds: the length of Trello's window
    :param burst: how many requests may start back to back
    :param headroom: requests of each window left unused, as a safety margin
    """

    requests: int
    per_seconds: float
    burst: int = 5
    headroom: int = 5

    def __post_init__(self) -> None:
        if self.requests <= 0 or self.per_seconds <= 0:
            raise ValueError("a rate limit needs a positive number of requests and seconds")
        if self.burst < 1 or self.headroom < 0 or self.burst + self.headroom >= self.requests:
            raise ValueError(
                f"burst ({self.burst}) plus headroom ({self.headroom}) must leave room under "
                f"the limit of {self.requests} requests"
            )

    @property
    def rate(self) -> float:
        """Requests per second admitted after the burst."""
        return (self.requests - self.headroom - self.burst) / self.per_seconds

    def budget(self) -> Budget:
        """A fresh budget enforcing this limit."""
        return Budget(self.rate, self.burst)


class Budget:
    """A GCRA schedule: at most ``burst + rate * t`` send times in any span of ``t`` seconds.

    Not thread-safe: share a budget only between clients on one event loop.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self._clock = clock
        self._theoretical_arrival = 0.0

    def earliest(self, now: float) -> float:
        """The first time from ``now`` at which one more request fits."""
        return max(now, self._theoretical_arrival - self.tolerance)

    def take(self, at: float) -> None:
        """Reserve a request at ``at`` (no earlier than ``earliest``)."""
        self._theoretical_arrival = max(self._theoretical_arrival, at) + self.interval

    def now(self) -> float:
        return self._clock()


@dataclass(frozen=True, slots=True)
class TrelloLimits:
    """The budget of one client (one token). Defaults follow Trello's published limits.

    :param token: the per-token limit
    :param key: the per-key limit (shared by all clients of one key, see ``key_budget``)
    :param members: the extra limit on ``/1/members/...`` routes
    :param max_in_flight: requests awaiting their answer at once; a request reserves its
        send time only once it may be sent, so waiting for a connection cannot delay it
    :param key_budget: the key's budget when several clients share one key; made by
        ``with_shared_key()``
    """

    token: RateLimit = RateLimit(100, 10.0, burst=5, headroom=5)
    key: RateLimit = RateLimit(300, 10.0, burst=15, headroom=15)
    members: RateLimit = RateLimit(100, 900.0, burst=20, headroom=10)
    max_in_flight: int = 50
    key_budget: Budget | None = None

    def __post_init__(self) -> None:
        if self.max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")

    def with_shared_key(self) -> TrelloLimits:
        """These limits with one key budget that every client built from them shares."""
        return replace(self, key_budget=self.key.budget())


class TrelloLimiter:
    """The budgets of one client, shared by all its requests.

    ``async with limiter.slot(path):`` waits until the request may be sent, and holds an
    in-flight place until the block ends.
    """

    def __init__(self, limits: TrelloLimits | None = None):
        self.limits = limits or TrelloLimits()
        self._token = self.limits.token.budget()
        self._key = self.limits.key_budget or self.limits.key.budget()
        self._members = self.limits.members.budget()
        self._in_flight = asyncio.Semaphore(self.limits.max_in_flight)

    @staticmethod
    def is_members_path(path: str) -> bool:
        """Whether ``path`` (relative to ``/1``) falls under the ``/1/members/`` limit.

        Trello's guide names ``/1/members/``; nested routes (``/members/me/organizations``)
        are counted too, to be safe.
        """
        return path == "/members" or path.startswith("/members/")

    def reserve(self, path: str) -> float:
        """Reserve the request's send time in every budget it falls under; returns it."""
        budgets = [self._token, self._key]
        if self.is_members_path(path):
            budgets.append(self._members)
        now = self._token.now()
        at = max(budget.earliest(now) for budget in budgets)
        for budget in budgets:
            budget.take(at)
        return at

    @asynccontextmanager
    async def slot(self, path: str) -> AsyncIterator[None]:
        async with self._in_flight:
            at = self.reserve(path)
            delay = at - self._token.now()
            if delay > 0:
                await asyncio.sleep(delay)
            yield
