"""When and how long the Trello client waits before trying a request again.

``RetryPolicy`` says how often and how patiently; ``retrying(policy)`` builds the tenacity
loop the client runs each request in. Only ``Retryable`` failures are retried: 429s, 5xx
answers and connection errors (the client decides which, see ``client.py``). Waits grow
exponentially with jitter; a ``Retry-After`` the server sent is honoured instead.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from pmbridge.errors import RemoteSystemError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the client retries transient failures.

    :param attempts: tries in all, the first included
    :param initial_wait: seconds before the first retry; doubles on each one
    :param max_wait: cap of one exponential wait
    :param jitter: up to this many seconds added at random to each wait
    :param max_retry_after: cap on a server's ``Retry-After``, so a wild value cannot stall a run
    """

    attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 20.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least 1 attempt")
        if min(self.initial_wait, self.max_wait, self.jitter, self.max_retry_after) < 0:
            raise ValueError("retry waits cannot be negative")


class Retryable(Exception):
    """A transient failure; ``error`` is what to raise when no attempts are left.

    :param error: the typed error describing the failure
    :param retry_after: seconds the server asked us to wait, if it said
    """

    def __init__(self, error: RemoteSystemError, retry_after: float | None = None):
        self.error = error
        self.retry_after = retry_after
        super().__init__(str(error))


def retrying(policy: RetryPolicy) -> AsyncRetrying:
    """A tenacity loop for one request under ``policy``; re-raises the last ``Retryable``."""
    backoff = wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait) + wait_random(
        0, policy.jitter
    )

    def wait(state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, Retryable) and failure.retry_after is not None:
            return min(max(failure.retry_after, 0.0), policy.max_retry_after)
        return backoff(state)

    return AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_exception_type(Retryable),
        reraise=True,
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
