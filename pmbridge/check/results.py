"""What a conformance check is (a name and a function of a ``Probe``) and what it reports:
its name, pass or fail, and why."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pmbridge.check.probe import Probe

CheckFunction = Callable[["Probe"], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    run: CheckFunction


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
