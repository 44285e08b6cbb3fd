"""The one retry layer of pmbridge's HTTP clients (Trello and Custompms), on tenacity.

``RetryPolicy`` says how often and how patiently a request is tried; ``send_with_retries``
runs one request's tries. A try that failed in a way worth repeating (a 429, a 5xx, a
connection error: each client decides) raises ``Retryable`` with the typed error to report
if no try succeeds. Waits grow exponentially with jitter; a ``Retry-After`` the server sent
(``parse_retry_after``: delta seconds or an HTTP date) is waited instead, up to
``RetryPolicy.max_retry_after``. Whatever else a try raises ends the request at once.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from pmbridge.errors import RemoteSystemError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a client retries transient failures.

    :param attempts: tries in all, the first included (1 = never retry)
    :param initial_wait: seconds before the first retry; doubles on each further one
    :param max_wait: the longest backoff between two tries, in seconds
    :param jitter: up to this many random seconds added to each backoff
    :param max_retry_after: the longest ``Retry-After`` honoured, so a wild value cannot
        stall a run
    """

    attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 20.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, not {self.attempts}")
        for name in ("initial_wait", "max_wait", "jitter", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative")


class Retryable(Exception):
    """One try failed in a way worth trying again.

    :param error: the typed error to raise if this was the last try
    :param retry_after: seconds the server asked us to wait, if it said
    :param reason: what went wrong, short, for the log (default: the error's message)
    """

    def __init__(
        self,
        error: RemoteSystemError,
        retry_after: float | None = None,
        *,
        reason: str | None = None,
    ):
        self.error = error
        self.retry_after = retry_after
        self.reason = reason or str(error)
        super().__init__(self.reason)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or an HTTP date).

    ``None`` when absent or unreadable; a date in the past means 0.

    :param now: the wall clock (Unix seconds) a date is measured from
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now(), 0.0)


async def send_with_retries(
    policy: RetryPolicy,
    attempt: Callable[[int], Awaitable[T]],
    *,
    log: logging.Logger,
    what: str,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Run ``attempt(number)`` (1-based) until it returns, per ``policy``.

    A ``Retryable`` is retried while tries remain, then its ``error`` is raised; any other
    exception is raised at once.

    :param log: where each retry is noted (INFO), with ``what`` naming the request
    :param on_retry: called before each retry (a metric counts them)
    """

    def note_retry(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        reason = failure.reason if isinstance(failure, Retryable) else failure
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info(
            "%s failed (%s); try %d of %d in %.2f s",
            what,
            reason,
            state.attempt_number + 1,
            policy.attempts,
            wait,
        )
        if on_retry is not None:
            on_retry()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        retry=retry_if_exception_type(Retryable),
        before_sleep=note_retry,
        reraise=True,
    )
    try:
        async for try_ in retrying:
            with try_:
                return await attempt(try_.retry_state.attempt_number)
    except Retryable as failure:
        raise failure.error from None
    raise AssertionError("unreachable: the retry loop returns or raises")


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait) + wait_random(
        0, policy.jitter
    )

    def wait(state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, Retryable) and failure.retry_after is not None:
            return min(failure.retry_after, policy.max_retry_after)
        return float(backoff(state))

    return wait
