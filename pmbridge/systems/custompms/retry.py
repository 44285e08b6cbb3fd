"""How the Custompms client retries: the policy (attempts, backoff, jitter) and its wait.

Transient failures are retried: connection errors, timeouts, 5xx and 429 (waiting what
``Retry-After`` asks). Every request is safe to repeat: reads and PATCH/DELETE are
idempotent, and POSTs always carry an ``Idempotency-Key``.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from tenacity import RetryCallState, wait_exponential, wait_random


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure.

    :param attempts: tries in all, the first included (1 = never retry)
    :param initial_wait: seconds before the first retry; doubles on each further one
    :param max_wait: the longest backoff between two tries, in seconds
    :param jitter: up to this many random seconds added to each backoff
    :param max_retry_after: the longest ``Retry-After`` honoured, in seconds
    """

    attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 10.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, not {self.attempts}")
        for name in ("initial_wait", "max_wait", "jitter", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative")


class TransientFailure(Exception):
    """One try failed in a way worth retrying.

    :param response: the 5xx/429 answer, or ``None`` when no answer came
    :param error: the transport error, when no answer came
    :param retry_after: seconds the server asked us to wait, if it did
    """

    def __init__(
        self,
        *,
        response: httpx.Response | None = None,
        error: httpx.TransportError | None = None,
    ):
        self.response = response
        self.error = error
        self.retry_after = retry_after_seconds(response) if response is not None else None
        super().__init__(describe_failure(response, error))


def describe_failure(response: httpx.Response | None, error: httpx.TransportError | None) -> str:
    """What went wrong in a failed try: "answered 503", "could not be reached"…"""
    if response is not None:
        return f"answered {response.status_code}"
    if isinstance(error, httpx.TimeoutException):
        return "did not answer in time"
    if isinstance(error, httpx.ConnectError):
        return "could not be reached"
    return "dropped the connection"


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or an HTTP date), if valid."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class BackoffWait:
    """tenacity wait: ``Retry-After`` when the server gave one, else exponential + jitter."""

    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self._backoff = wait_exponential(
            multiplier=policy.initial_wait, max=policy.max_wait
        ) + wait_random(0, policy.jitter)

    def __call__(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, TransientFailure) and failure.retry_after is not None:
            return min(failure.retry_after, self.policy.max_retry_after)
        return float(self._backoff(state))
