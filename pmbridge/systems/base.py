"""The contract between the engine and a connected system.

The engine knows systems only through this protocol; it never sees HTTP, and it never
names a system. Each connector (``pmbridge.systems.custompms``, ``pmbridge.systems.trello``,
``pmbridge.systems.memory``) provides one implementation, and everything a system is
particular about lives behind it: which containers scope a read, paging, where records go
that cannot be attached to their parent itself (Trello's "About this project" card), how a
write places an object (a card's board and list), and how an object whose create answer
was lost is found again.

Reading is incremental: ``read(kind, cursor, scope)`` returns what changed since ``cursor``
(``None`` = a full listing) and the cursor to pass next time; the system pages by itself.
Writing is per record. All values in and out are normalised as described in
``pmbridge.records``.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pmbridge.records import Record, Side


@dataclass(frozen=True, slots=True)
class Scope:
    """Which containers a read covers.

    ``containers`` are ids of the kind the system names in ``scope_kind(kind)`` (Trello:
    workspaces for boards, boards for cards and comments); a system with a global feed
    ignores them. ``known`` holds ids the caller already keeps a base for (its linked
    objects): for those a connector may answer with a partial record built from its
    activity feed instead of fetching the object, since the caller can fill in the rest;
    and a value the system changes by itself without recording a change (Trello renumbering
    the ``pos`` of a card's siblings) is left out of their full listings, so it is never
    taken for a person's edit.
    """

    containers: Sequence[str] = ()
    known: Container[str] = frozenset()
    #: a reconciliation: list everything in scope, besides reading what changed since the
    #: cursor (a system with a global feed reads it from the start)
    full: bool = False


@dataclass(frozen=True, slots=True)
class Feed:
    """The answer to one read.

    :param records: the current state of each changed object; tombstones for deletions the
        system reported; ``Record.partial`` ones carry only changed properties
    :param cursor: opaque; pass it to the next read of the same kind and scope
    :param complete: every part of the read succeeded; when False no deletion may be inferred
        from what is missing
    :param listed: containers that were listed in full by this read (every live object in them
        is in ``records``; ``"*"``: everything); a linked object of such a container that is
        absent may be gone and is then verified with ``get``. ``None``: not a full listing.
    :param rejected: objects the read found but could not make records of (malformed
        values), as (id, reason): the caller sets them aside and goes on with the rest
    """

    records: list[Record]
    cursor: str | None
    complete: bool = True
    listed: frozenset[str] | None = None
    rejected: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CreatedProbe:
    """What identifies an object whose create was sent but whose answer was lost.

    :param container: the parent the object was created in (a board, a card), if any
    :param fields: the fields the create sent
    :param marker_field: a field the create wrote a unique marker into (a backlink footer)
    :param marker: that marker; an object whose field ends with it is the one
    :param since: when the create was first attempted (objects made before are not it)
    :param taken: ids already linked to something else: never the one (two comments with
        the same text, both in doubt, must not both find the first)
    """

    container: str | None
    fields: Mapping[str, Any]
    marker_field: str | None = None
    marker: str | None = None
    since: datetime | None = None
    taken: Container[str] = frozenset()


@runtime_checkable
class Memo(Protocol):
    """Facts a connector learned about its system, kept between runs (the state store keeps
    them per system): plain JSON values by key.

    Any later run of any process may read a value, after any crash: a connector keeps with
    each fact what lets it check the fact still holds (Trello: the feed position a board's
    lists were read at, so that the board's feed since then tells whether they changed),
    and drops a fact it cannot check.
    """

    def load(self) -> dict[str, Any]:
        """Every value kept, by key."""

    def save(self, values: Mapping[str, Any]) -> None:
        """Keep each value of ``values`` under its key; ``None`` deletes the key."""


@runtime_checkable
class System(Protocol):
    """A connected system, seen as records."""

    @property
    def name(self) -> Side:
        """Which side of the sync this system is."""

    @property
    def anchor_kind(self) -> str | None:
        """The kind of the objects ``anchor`` returns; None when the system needs none."""

    async def check(self) -> None:
        """Prove the system answers and the credentials work.

        Raises ``AuthenticationError`` or ``UnavailableError`` naming the system and what
        to do.
        """

    async def begin_cycle(self) -> None:
        """A sync cycle starts: forget what the previous one cached."""

    def scope_kind(self, kind: str) -> str | None:
        """The kind whose linked ids scope a read of ``kind``; None: a global feed."""

    async def unsupported(self, kind: str) -> frozenset[str]:
        """The properties of ``kind`` (among those the connector's kinds declare) that this
        server does not have, e.g. a Custompms 1.0's task tags. The engine neither merges,
        compares nor writes them, and the connector never sends them. May ask the server
        once (then cached); empty for a system whose properties are all always there."""

    async def read(self, kind: str, cursor: str | None, scope: Scope = Scope()) -> Feed:
        """What changed in ``kind`` since ``cursor`` (``None``: everything, in full), all
        pages of it."""

    async def get(self, kind: str, id: str) -> Record | None:
        """The current state of one object; ``None`` when it does not exist (any more)."""

    async def create(self, kind: str, fields: Mapping[str, Any], *, idempotency_key: str) -> Record:
        """Create one object and return it as now stored.

        ``idempotency_key`` is stable across retries and restarts of the same create.
        Raises ``UnavailableError(maybe_applied=True)`` when the answer was lost after the
        request was sent.
        """

    async def find_created(self, kind: str, probe: CreatedProbe) -> Record | None:
        """The object an interrupted create made, if it exists. A system whose creates are
        idempotent by key answers None: repeating the create with the same key is safe."""

    async def anchor(self, container_kind: str, container: str, name: str) -> tuple[Record, bool]:
        """The object named ``name`` in ``container`` that holds what belongs to the
        container itself (Trello: a board's "About this project" card, where the project's
        comments go), created when missing; and whether it was created now."""

    async def update(
        self,
        kind: str,
        id: str,
        fields: Mapping[str, Any],
        *,
        version: str | None = None,
        known: Mapping[str, Any] | None = None,
    ) -> Record:
        """Change the given properties only; with ``version``, only if still current
        (else ``StaleVersionError``). ``known`` holds the object's fields as last seen, so
        a write that must name more than it changes (a card changing list names its board)
        need not read the object first. Returns the object as now stored; the record may
        be ``partial`` (holding at least the properties written) when reading the rest
        would cost another call."""

    async def delete(self, kind: str, id: str) -> None:
        """Delete one object (Custompms: soft delete; Trello: comments and cards only).
        Deleting what is already gone is not an error."""

    async def aclose(self) -> None:
        """Release connections."""
