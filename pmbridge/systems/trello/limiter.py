"""The client-side request budget that keeps a Trello client under Trello's rate limits.

Trello refuses requests (429) beyond 100 per 10 s per token, 300 per 10 s per API key (all
tokens of the key together) and 100 per 900 s on ``/1/members/`` routes
(reference/TRELLO_API.md §3). ``TrelloLimiter`` gives each request a send time that fits
every budget it falls under. Requests stay concurrent: many may be in flight, they only
start no faster than the budgets allow.

Each budget is a GCRA (generic cell rate algorithm, the virtual-scheduling form of a leaky
bucket): a burst, then an even rate. A request reserves its send time in ALL its budgets at
once, in arrival order. Taking slots one budget after another (as with separate
``aiolimiter`` buckets) is not enough: a request that got the members slot and then queues
for the key slot goes out late, bunched with others, and breaks the members limit.

Pacing by Trello's own count. Trello's answers say how many requests its current window
still admits (``x-rate-limit-api-token-remaining``, ``-api-key-``, ``-member-``, each with
``-interval-ms``). Until an answer has said so, a budget keeps its headroom: at most
``requests - headroom`` in any window. Once the server reports a limit (``ServerWindow``),
its budget runs at the limit's own rate (less ``TrelloLimits.floor``) and the server's
count decides: a request waits for the window's end whenever the server's remaining count,
less the requests sent since, is down to the floor. That also keeps clear of requests that
other programs send with the same token or key, which no client-side schedule can see.

One client per token; clients of one API key share the key's budget through
``TrelloLimits.with_shared_key()``. Time comes from the running event loop's clock unless a
clock is given, so a test on a virtual-time loop runs the limiter on fake time.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
# The kinds of limit Trello reports, as named in its x-rate-limit-<kind>-* headers.
TOKEN, KEY, MEMBER = "api-token", "api-key", "member"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One of Trello's limits and how much of it a client may use.

    Until Trello's answers report this limit, at most ``requests - headroom`` requests start
    in any window of ``per_seconds``: a burst of ``burst`` at once, then an even rate of
    ``(requests - headroom - burst) / per_seconds``. The headroom absorbs the jitter between
    a request starting here and arriving there.

    :param requests: Trello's limit
    :param per_seconds: the length of Trello's window
    :param burst: how many requests may start back to back
    :param headroom: requests of each window left unused while Trello's count is unknown
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

    def __init__(self, rate: float, burst: int):
        self.burst = burst
        self._theoretical_arrival = -math.inf
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        """Admit ``rate`` requests per second from now on (after the same burst)."""
        self.rate = rate
        self.interval = 1.0 / rate
        self.tolerance = (self.burst - 1) * self.interval

    def earliest(self, now: float) -> float:
        """The first time from ``now`` at which one more request fits."""
        return max(now, self._theoretical_arrival - self.tolerance)

    def take(self, at: float) -> None:
        """Reserve a request at ``at`` (no earlier than ``earliest``)."""
        self._theoretical_arrival = max(self._theoretical_arrival, at) + self.interval

    def hold_until(self, at: float) -> None:
        """Start nothing before ``at``; the schedule resumes from there."""
        self._theoretical_arrival = max(self._theoretical_arrival, at + self.tolerance)


class ServerWindow:
    """One of Trello's limits as its answers report it.

    Requests under the limit are numbered as they are sent. An answer says how many requests
    the server admits after counting its request (``remaining``); that number less the
    requests sent since is what is left now. A count higher than that means the server
    started a new window, by the time the answer came at the latest: the window ends one
    ``interval`` after the answer at the latest.

    :param floor: requests of the server's window never used, for requests on their way
    """

    def __init__(self, floor: int):
        self.floor = floor
        self.sent = 0
        self.seen = False
        self._seq = 0
        self._remaining = 0
        self._ends_at = -math.inf

    def count(self) -> int:
        """Number one more request sent under this limit."""
        self.sent += 1
        return self.sent

    def observe(self, seq: int, remaining: int, interval_s: float, now: float) -> None:
        """Take in an answer: request ``seq`` left ``remaining`` in a window of ``interval_s``."""
        if self.seen and seq <= self._seq:
            return  # an older request's answer, overtaken by a newer one
        expected = self._remaining - (seq - self._seq)
        if not self.seen or remaining > expected or now >= self._ends_at:
            self._ends_at = now + interval_s
        self._seq, self._remaining, self.seen = seq, remaining, True

    def left(self) -> int:
        """Requests the server still admits in its window, by its last word."""
        return self._remaining - (self.sent - self._seq)

    def blocked_until(self, now: float) -> float | None:
        """When the next request may go, if the window is spent down to the floor."""
        if not self.seen or now >= self._ends_at or self.left() > self.floor:
            return None
        return self._ends_at


@dataclass(frozen=True, slots=True)
class TrelloLimits:
    """The budget of one client (one token). Defaults follow Trello's published limits.

    :param token: the per-token limit
    :param key: the per-key limit (shared by all clients of one key, see ``key_budget``)
    :param members: the extra limit on ``/1/members/...`` routes
    :param max_in_flight: requests awaiting their answer at once; a request reserves its
        send time only once it may be sent, so waiting for a connection cannot delay it
    :param floor: requests of each server window left unused once Trello reports its count
    :param follow_headers: pace by Trello's ``x-rate-limit-*`` answers (off: budgets only)
    :param key_budget: the key's budget when several clients share one key; made by
        ``with_shared_key()``
    """

    token: RateLimit = RateLimit(100, 10.0, burst=5, headroom=5)
    key: RateLimit = RateLimit(300, 10.0, burst=15, headroom=15)
    members: RateLimit = RateLimit(100, 900.0, burst=20, headroom=10)
    max_in_flight: int = 50
    floor: int = 2
    follow_headers: bool = True
    key_budget: Budget | None = None

    def __post_init__(self) -> None:
        if self.max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if self.floor < 0:
            raise ValueError("floor must not be negative")

    def with_shared_key(self) -> TrelloLimits:
        """These limits with one key budget that every client built from them shares."""
        return replace(self, key_budget=self.key.budget())


Ticket = dict[str, int]
"""A sent request's number under each limit it counts in (``TOKEN``, ``KEY``, ``MEMBER``)."""


class TrelloLimiter:
    """The budgets of one client, shared by all its requests.

    ``async with limiter.slot(path) as ticket:`` waits until the request may be sent and
    holds an in-flight place until the block ends; ``limiter.observe(ticket, headers)``
    takes in the answer's ``x-rate-limit-*`` headers.

    :param limits: the budgets (default: Trello's published limits)
    :param clock: monotonic seconds (default: the running event loop's clock)
    :param sleep: waits that many seconds on the same clock (default ``asyncio.sleep``)
    """

    def __init__(
        self,
        limits: TrelloLimits | None = None,
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ):
        self.limits = limits or TrelloLimits()
        self._clock = clock or _loop_time
        self._sleep = sleep
        self._budgets = {
            TOKEN: self.limits.token.budget(),
            KEY: self.limits.key_budget or self.limits.key.budget(),
            MEMBER: self.limits.members.budget(),
        }
        self._rules = {TOKEN: self.limits.token, KEY: self.limits.key, MEMBER: self.limits.members}
        self.windows = {kind: ServerWindow(self.limits.floor) for kind in self._budgets}
        self._in_flight = asyncio.Semaphore(self.limits.max_in_flight)

    @staticmethod
    def is_members_path(path: str) -> bool:
        """Whether ``path`` (relative to ``/1``) falls under the ``/1/members/`` limit.

        Trello's guide names ``/1/members/``; nested routes (``/members/me/organizations``)
        are counted too, to be safe.
        """
        return path == "/members" or path.startswith("/members/")

    def _kinds(self, path: str) -> tuple[str, ...]:
        return (TOKEN, KEY, MEMBER) if self.is_members_path(path) else (TOKEN, KEY)

    def reserve(self, path: str) -> float:
        """Reserve the request's send time in every budget it falls under; returns it."""
        budgets = [self._budgets[kind] for kind in self._kinds(path)]
        now = self._clock()
        at = max(budget.earliest(now) for budget in budgets)
        for budget in budgets:
            budget.take(at)
        return at

    def blocked_until(self, path: str) -> float | None:
        """When the server's reported windows let this request go, if not now."""
        now = self._clock()
        ends = [self.windows[kind].blocked_until(now) for kind in self._kinds(path)]
        waits = [end for end in ends if end is not None]
        return max(waits) if waits else None

    @asynccontextmanager
    async def slot(self, path: str) -> AsyncIterator[Ticket]:
        async with self._in_flight:
            at = self.reserve(path)
            while True:
                delay = at - self._clock()
                if delay > 0:
                    await self._sleep(delay)
                blocked = self.blocked_until(path)
                if blocked is None:
                    break
                for kind in self._kinds(path):
                    self._budgets[kind].hold_until(blocked)
                at = self.reserve(path)
            yield {kind: self.windows[kind].count() for kind in self._kinds(path)}

    def observe(self, ticket: Ticket, headers: Mapping[str, str]) -> None:
        """Take in what an answer's ``x-rate-limit-<kind>-*`` headers say."""
        if not self.limits.follow_headers:
            return
        now = self._clock()
        for kind, seq in ticket.items():
            reported = _reported(headers, kind)
            if reported is None:
                continue
            window = self.windows[kind]
            if not window.seen:
                # Trello's count now guards the window's end: run at the limit's own rate.
                rule = self._rules[kind]
                usable = max(rule.requests - self.limits.floor, 1)
                self._budgets[kind].set_rate(usable / rule.per_seconds)
            window.observe(seq, *reported, now)


def _reported(headers: Mapping[str, str], kind: str) -> tuple[int, float] | None:
    """``(remaining, interval in s)`` from the headers of one limit, if both are there."""
    remaining = headers.get(f"x-rate-limit-{kind}-remaining")
    interval_ms = headers.get(f"x-rate-limit-{kind}-interval-ms")
    try:
        return int(remaining), int(interval_ms) / 1000  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _loop_time() -> float:
    return asyncio.get_running_loop().time()
