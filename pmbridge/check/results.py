"""What a conformance check reports: its name, pass or fail, and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check.

    :param name: what the check proves, e.g. "update: a stale If-Match is refused (412)"
    :param passed: whether the implementation did what the contract says
    :param reason: on failure, what went wrong, specifically; on success, what was seen
    """

    name: str
    passed: bool
    reason: str


class CheckFailed(Exception):
    """Raised inside a check: the implementation broke the contract; the message says how."""
