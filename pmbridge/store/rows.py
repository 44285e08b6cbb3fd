"""The rows of the state store as frozen dataclasses (datetimes are timezone-aware UTC).

JSON-valued fields (``Link.base``, payloads, conflict values, run summaries) hold plain
JSON values: ``dict``/``list``/``str``/``int``/``float``/``bool``/``None``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pmbridge.records import Side

ConflictStatus = Literal["resolved_by_policy", "held", "resolved", "dismissed"]
RunStatus = Literal["running", "ok", "failed", "partial", "interrupted"]
CONFLICT_STATUSES: tuple[ConflictStatus, ...] = (
    "resolved_by_policy",
    "held",
    "resolved",
    "dismissed",
)
# Conflicts a person has not settled yet: held ones, and ones a policy decided whose losing
# value may still be wanted.
OPEN_CONFLICT_STATUSES: tuple[ConflictStatus, ...] = ("held", "resolved_by_policy")
RUN_END_STATUSES: tuple[RunStatus, ...] = ("ok", "failed", "partial", "interrupted")


def checked_json(value: Any, what: str) -> Any:
    """``value`` if it is plain JSON, else a clear error naming ``what``."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be plain JSON: {err}") from err
    return value


@dataclass(frozen=True, slots=True)
class Link:
    """A Custompms record and a Trello object that are kept in sync by ``flow``.

    :param base: property key → the last value both sides agreed on
    :param created_at: set by the store on first ``put_link``; kept on later ones
    :param updated_at: set by the store on every ``put_link``
    """

    flow: str
    custompms_id: str
    trello_id: str
    base: Mapping[str, Any] = field(default_factory=dict)
    custompms_version: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Intent:
    """A journaled write: recorded before creating an object, completed after.

    :param target_side: where the object is being created
    :param source_id: the id of the record on the other side that asked for it
    :param completed_at: None while the write's outcome is unknown (repair on restart)
    :param result_id: the id of the created object, once known
    """

    id: int
    flow: str
    target_side: Side
    source_id: str
    idempotency_key: str
    operation: str
    payload: Any
    created_at: datetime
    completed_at: datetime | None = None
    result_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.completed_at is None


@dataclass(frozen=True, slots=True)
class Conflict:
    """A property changed differently on both sides since the base.

    Build one without ``id`` for ``add_conflict``; ``status`` then follows from ``winner``
    ("resolved_by_policy" when a side won, "held" when a person must choose).

    :param winner: the side the policy chose, None when held for a person
    :param resolution: the side a person took (``resolve_conflict``)
    """

    flow: str
    custompms_id: str
    trello_id: str
    property: str
    base_value: Any
    custompms_value: Any
    trello_value: Any
    policy: str
    winner: Side | None = None
    custompms_changed_at: datetime | None = None
    trello_changed_at: datetime | None = None
    status: ConflictStatus | None = None
    id: int | None = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: Side | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A write that kept failing; a later success of the same write removes it.

    :param side: where the failing write went
    :param record_id: the id of the source record
    """

    id: int
    flow: str
    side: Side
    record_id: str
    operation: str
    error: str
    payload: Any
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime


@dataclass(frozen=True, slots=True)
class Run:
    """One sync run (cycle) and how it ended.

    :param owner: the process running it (``Owner.key``); None for runs of schema 1
    :param lease_expires_at: while ``running``, the run counts as alive until then (its
        process's heartbeat moves it on); after it, the next process marks it ``interrupted``
    """

    id: int
    started_at: datetime
    status: RunStatus
    finished_at: datetime | None = None
    summary: Any = None
    error: str | None = None
    owner: str | None = None
    heartbeat_at: datetime | None = None
    lease_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """A named lease: ``owner`` (an ``Owner.key``) alone may act until ``expires_at``."""

    name: str
    owner: str
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Registration:
    """Something ``pmbridge serve`` registered with a system so that it delivers changes.

    :param system: "trello" (a webhook) or "custompms" (a subscription)
    :param remote_id: the webhook's or subscription's id in that system
    :param model_id: what it watches (a board id), if anything in particular
    :param owner: the serve process that registered or adopted it (``Owner.key``)
    """

    id: int
    system: str
    remote_id: str
    callback_url: str
    model_id: str | None
    owner: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RunWrite:
    """One write a run made: to which object, and its fields before and after (native;
    ``before`` is None for a create, or where the run did not read them)."""

    id: int
    run_id: int
    flow: str
    side: Side
    kind: str
    object_id: str
    operation: str
    before: Any
    after: Any
    at: datetime
