"""The shared retry layer's ``Retry-After`` reading (``pmbridge.systems.http``).

How the clients wait on it end to end is tested against the sandboxes' forced 429s in
``tests/systems_trello/test_faults.py`` and ``tests/systems_custompms/test_faults.py``.
"""

from __future__ import annotations

import pytest

from pmbridge.systems.http import RetryPolicy, parse_retry_after

# Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date, as Unix seconds.
EXAMPLE_DATE = "Sun, 06 Nov 1994 08:49:37 GMT"
EXAMPLE_UNIX = 784111777.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), (" 3 ", 3.0), ("0", 0.0), ("1.5", 1.5), ("-4", 0.0)],
)
def test_delta_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value) == seconds


def test_an_http_date_counts_from_now() -> None:
    assert parse_retry_after(EXAMPLE_DATE, now=lambda: EXAMPLE_UNIX - 30) == 30.0
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37", now=lambda: EXAMPLE_UNIX - 5) == 5.0
    assert parse_retry_after(EXAMPLE_DATE, now=lambda: EXAMPLE_UNIX + 60) == 0.0  # past


@pytest.mark.parametrize("value", [None, "", "  ", "soon", "Sun, 99 Nov 1994"])
def test_absent_or_unreadable_is_none(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_a_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="jitter must not be negative"):
        RetryPolicy(jitter=-1)
