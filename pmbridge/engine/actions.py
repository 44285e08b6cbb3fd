"""What a cycle decided to do: one frozen object per step, made by ``engine.plan``, carried
out by ``engine.execute``, printed by ``pmbridge sync --dry-run``.

Values in actions are canonical (by property key, see ``pmbridge.flows.values``); the
executor turns them into each system's native fields when it writes, because a reference
may only resolve once an earlier action of the same cycle has linked its target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pmbridge.engine.merge import Base, ConflictNote
from pmbridge.records import Record, Side, other_side
from pmbridge.store import Link


@dataclass(frozen=True, slots=True)
class Create:
    """Make the counterpart of an unlinked record on ``target``, journaled, then link them.

    :param anchor: the parent whose anchor (Trello: "About this project" card) must exist
        first, when the record attaches to one
    :param relink: an earlier link of the source to drop first (its counterpart is gone),
        with the links of what went with that counterpart (``engine.relink``)
    """

    flow: str
    target: Side
    source: Record
    values: Mapping[str, Any]
    anchor: str | None = None
    relink: Link | None = None

    def describe(self) -> str:
        what = self.values.get("title") or self.values.get("name") or self.values.get("text")
        label = f" {str(what)[:40]!r}" if what else ""
        return f"create on {self.target}: {self.source.kind} {self.source.id}{label}"


@dataclass(frozen=True, slots=True)
class LinkPair:
    """Link two existing records found to be the same object, then merge them."""

    flow: str
    custompms: Record
    trello: Record

    def describe(self) -> str:
        return f"link custompms {self.custompms.id} with trello {self.trello.id}"


@dataclass(frozen=True, slots=True)
class Update:
    """Write a linked pair's merge: ``to_custompms`` and ``to_trello`` (canonical values),
    then keep ``base`` as the pair's new base.

    :param custompms: the Custompms record the merge read (its version guards the write;
        on a stale version the executor re-reads it and merges again)
    :param marks: marks kept with the base (a deletion on one side)
    :param restore: the side whose deleted object comes back first (an edit beats a delete)
    """

    flow: str
    link: Link
    old_base: Base
    base: Base
    to_custompms: Mapping[str, Any]
    to_trello: Mapping[str, Any]
    custompms: Record | None
    trello: Record | None
    marks: Mapping[str, Any] = field(default_factory=dict)
    restore: Side | None = None
    footer: bool = False

    def describe(self) -> str:
        parts = [f"{k} → trello" for k in self.to_trello] + [
            f"{k} → custompms" for k in self.to_custompms
        ]
        if self.restore:
            parts.insert(0, f"restore on {self.restore}")
        body = ", ".join(parts) or "new base"
        return f"update custompms {self.link.custompms_id} / trello {self.link.trello_id}: {body}"


@dataclass(frozen=True, slots=True)
class Conflict:
    """Both sides changed a property differently: log it (the losing value is kept), and
    hold it for a person when the policy says ``manual``. Follows the pair's ``Update``."""

    flow: str
    link: Link
    note: ConflictNote

    def describe(self) -> str:
        n = self.note
        outcome = f"{n.winner} wins" if n.winner else "held for a person"
        return (
            f"conflict on {n.key} of custompms {self.link.custompms_id}: custompms "
            f"{n.custompms!r} vs trello {n.trello!r}, {outcome}"
        )


@dataclass(frozen=True, slots=True)
class Unlink:
    """Forget a link; neither object is touched (out of scope, or gone on both sides).

    :param counted_on: the side whose "unlinked" count it adds to (None: not counted)
    """

    flow: str
    link: Link
    counted_on: Side | None

    def describe(self) -> str:
        return f"unlink custompms {self.link.custompms_id} / trello {self.link.trello_id}"


@dataclass(frozen=True)
class _Removal:
    """``deleted_on`` deleted its object; the linked one on the other side follows."""

    flow: str
    link: Link
    deleted_on: Side

    verb = "remove"

    @property
    def target(self) -> Side:
        return other_side(self.deleted_on)

    def describe(self) -> str:
        return f"{self.verb} on {self.target} (deleted on {self.deleted_on}): {_ids(self.link)}"


@dataclass(frozen=True)
class Archive(_Removal):
    """Archive the linked object; ``base`` is the pair's base, kept with the mark."""

    base: Base = field(default_factory=Base)

    verb = "archive"


@dataclass(frozen=True)
class Delete(_Removal):
    """Delete the linked object."""

    verb = "delete"


@dataclass(frozen=True, slots=True)
class HoldDelete:
    """A deletion the circuit breaker holds until a person allows it."""

    flow: str
    delete: Archive | Delete
    reason: str

    def describe(self) -> str:
        return f"hold: {self.delete.describe()}"


@dataclass(frozen=True, slots=True)
class Wait:
    """A record waits for its parent to be linked (a later flow or cycle links it)."""

    flow: str
    side: Side
    record_id: str
    reason: str

    def describe(self) -> str:
        return f"wait: {self.side} {self.record_id}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SetAside:
    """A record that cannot be synced as it is: it goes to the dead-letter list with what
    to fix, and is retried every cycle."""

    flow: str
    side: Side
    record_id: str
    reason: str

    def describe(self) -> str:
        return f"set aside: {self.side} {self.record_id}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SetAsideProperty:
    """One property of a record that cannot be synced as it is (a person with no
    counterpart): it goes to the dead-letter list with what to fix, under its own operation
    (``property:<key>``), while the rest of the record syncs; retried every cycle."""

    flow: str
    side: Side
    record_id: str
    key: str
    reason: str

    def describe(self) -> str:
        return f"set aside {self.key}: {self.side} {self.record_id}: {self.reason}"


Action = (
    Create
    | LinkPair
    | Update
    | Conflict
    | Unlink
    | Archive
    | Delete
    | HoldDelete
    | Wait
    | SetAside
    | SetAsideProperty
)


def _ids(link: Link) -> str:
    return f"custompms {link.custompms_id} / trello {link.trello_id}"
