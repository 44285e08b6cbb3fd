"""The contract between the engine and a connected system.

The engine knows systems only through this protocol; it never sees HTTP. Each connector
(``pmbridge.systems.custompms``, ``pmbridge.systems.trello``) provides one implementation.

Reading is incremental: ``read(kind, cursor, scope)`` returns what changed since ``cursor``
(``None`` = a full listing) and the cursor to pass next time. Writing is per record.
All values in and out are normalised as described in ``pmbridge.records``.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pmbridge.records import Record, Side


@dataclass(frozen=True, slots=True)
class Scope:
    """Which containers a read covers.

    Custompms ignores it. Trello uses it because it has no global feed:
    "organization" → ids of the linked workspaces (empty with ``cursor=None``: discover all
    workspaces of the member); "board" → workspace ids whose boards to read;
    "card" and "comment" → board ids.

    ``known`` holds ids the caller already keeps a base for (its linked objects): for those
    a connector may answer with a partial record built from its activity feed instead of
    fetching the object, since the caller can fill in the rest.
    """

    containers: Sequence[str] = ()
    known: Container[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Feed:
    """The answer to one read.

    :param records: the current state of each changed object; tombstones for deletions the
        system reported; ``Record.partial`` ones carry only changed properties
    :param cursor: opaque; pass it to the next read of the same kind and scope
    :param more: the read stopped early (paging); call again with ``cursor`` at once
    :param complete: every part of the read succeeded; when False no deletion may be inferred
        from what is missing
    :param listed: containers that were listed in full by this read (every live object in them
        is in ``records``); a linked object of such a container that is absent may be gone
        and is then verified with ``get``. ``None`` when the read was not a full listing.
    :param rejected: objects the read found but could not make records of (malformed
        values), as (id, reason): the caller sets them aside and goes on with the rest
    """

    records: list[Record]
    cursor: str | None
    more: bool = False
    complete: bool = True
    listed: frozenset[str] | None = None
    rejected: list[tuple[str, str]] = field(default_factory=list)


@runtime_checkable
class System(Protocol):
    """A connected system, seen as records."""

    name: Side

    async def check(self) -> None:
        """Prove the system answers and the credentials work.

        Raises ``AuthenticationError`` or ``UnavailableError`` naming the system and what
        to do.
        """

    async def read(self, kind: str, cursor: str | None, scope: Scope = Scope()) -> Feed:
        """What changed in ``kind`` since ``cursor`` (``None``: everything, in full)."""

    async def get(self, kind: str, id: str) -> Record | None:
        """The current state of one object; ``None`` when it does not exist (any more)."""

    async def create(self, kind: str, fields: Mapping[str, Any], *, idempotency_key: str) -> Record:
        """Create one object and return it as now stored.

        ``idempotency_key`` is stable across retries and restarts of the same create.
        Raises ``UnavailableError(maybe_applied=True)`` when the answer was lost after the
        request was sent.
        """

    async def update(
        self, kind: str, id: str, fields: Mapping[str, Any], *, version: str | None = None
    ) -> Record:
        """Change the given properties only; with ``version``, only if still current
        (else ``StaleVersionError``). Returns the object as now stored; the record may be
        ``partial`` (holding at least the properties written) when reading the rest would
        cost another call."""

    async def delete(self, kind: str, id: str) -> None:
        """Delete one object (Custompms: soft delete; Trello: comments and cards only).
        Deleting what is already gone is not an error."""

    async def aclose(self) -> None:
        """Release connections."""
