"""``CustompmsSystem``: the Custompms contract seen as records (``pmbridge.systems.base``).

Kinds ``customer``, ``project``, ``task`` and ``comment``; a read walks every page of the
resource's change feed, which reports deletions itself as tombstones. The feed is global,
so reads need no scope, and creates are idempotent by key, so an interrupted create is
repaired by repeating it.

Contract 1.1's optional task properties (tags, assignees, checklist, links) exist only on a
server that declares them in ``GET /capabilities``; a 1.0 server answers 404 there and has
none. That one fact lives here: ``unsupported`` reads the document once per connector (on
first need: the first question about tasks) and says which properties the server lacks, and
``create``/``update`` never send one of them (a real server refuses unknown properties). The
engine asks ``unsupported`` too, so it neither plans writes for those properties nor merges
or compares them (see ``System.unsupported``): asking, not guessing from a record, because a
create has no record of this side yet and an update may have no fresh one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Literal

from pmbridge.errors import GoneError, InvalidValueError, NotFoundError, RemoteSystemError
from pmbridge.records import Record
from pmbridge.systems.base import CreatedProbe, Feed, Scope
from pmbridge.systems.custompms.client import CustompmsClient
from pmbridge.systems.custompms.problems import SYSTEM
from pmbridge.systems.custompms.values import OPTIONAL, resource_of, to_record, to_wire

log = logging.getLogger(__name__)


class CustompmsSystem:
    """A Custompms server as a ``System``.

    :param client: the HTTP client (closed by ``aclose``)
    :param page_size: feed items per request (1–1000)
    """

    name: Literal["custompms"] = "custompms"
    anchor_kind: str | None = None

    def __init__(self, client: CustompmsClient, *, page_size: int = 500):
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be between 1 and 1000, not {page_size}")
        self.client = client
        self.page_size = page_size
        self._lacking: frozenset[str] | None = None  # read from /capabilities on first need
        self._capabilities_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"CustompmsSystem({self.client!r})"

    async def begin_cycle(self) -> None:
        """Nothing to prepare: Custompms keeps no per-cycle state."""

    async def check(self) -> None:
        """One cheap authenticated read: the first customer of the feed."""
        await self.client.feed("customers", None, 1)

    async def unsupported(self, kind: str) -> frozenset[str]:
        """The optional properties of ``kind`` this server lacks: for tasks, those of tags,
        assignees, checklist and links its ``GET /capabilities`` does not name (all four
        when it answers 404: a contract 1.0 server). Read once per connector, at the first
        question about tasks; other kinds have no optional properties."""
        resource_of(kind)
        if kind != "task":
            return frozenset()
        async with self._capabilities_lock:
            if self._lacking is None:
                self._lacking = _lacking(await self.client.capabilities(), self.client.host)
                if self._lacking:
                    log.info(
                        "Custompms at %s has no task %s: pmbridge leaves them alone",
                        self.client.host,
                        ", ".join(sorted(self._lacking)),
                    )
            return self._lacking

    async def _writable(self, kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``fields`` without the properties this server lacks (it would refuse them)."""
        lacking = await self.unsupported(kind) if OPTIONAL & fields.keys() else frozenset()
        return {name: value for name, value in fields.items() if name not in lacking}

    def scope_kind(self, kind: str) -> str | None:
        """None: every resource has one global change feed."""
        resource_of(kind)
        return None

    async def read(self, kind: str, cursor: str | None, scope: Scope = Scope()) -> Feed:
        """Every page of ``kind``'s change feed after ``cursor`` (``None``: from the start).
        A page that fails raises, so the caller keeps its cursor and reads it again."""
        resource = resource_of(kind)
        if scope.full:
            cursor = None  # a reconciliation reads the whole feed
        records: list[Record] = []
        rejected: list[tuple[str, str]] = []
        next_cursor = cursor
        while True:
            page = await self.client.feed(resource, next_cursor, self.page_size)
            for item in page.items:
                try:
                    records.append(to_record(kind, item))
                except (ValueError, TypeError, KeyError) as err:
                    rejected.append((str(item.get("id", "?")), _malformed(kind, err)))
            next_cursor = page.next_since
            if not page.has_more:
                break
        return Feed(records=records, cursor=next_cursor, rejected=rejected)

    async def get(self, kind: str, id: str) -> Record | None:
        """The record as stored now; ``None`` when unknown or deleted."""
        try:
            item = await self.client.get(resource_of(kind), id)
        except NotFoundError:
            return None
        try:
            return to_record(kind, item)
        except (ValueError, TypeError, KeyError) as err:
            raise InvalidValueError(_malformed(kind, err), system="custompms") from err

    async def create(self, kind: str, fields: Mapping[str, Any], *, idempotency_key: str) -> Record:
        """Create (or find again, by ``idempotency_key``) one record.

        When this key created a record that has been deleted since, that record's
        tombstone is returned (``deleted=True``), not a new copy.
        """
        resource = resource_of(kind)
        body = to_wire(kind, await self._writable(kind, fields))
        try:
            item = await self.client.create(resource, body, idempotency_key)
        except GoneError as gone:
            if gone.id is None:
                raise
            return Record(kind=kind, id=gone.id, deleted=True, version=gone.current_version)
        return to_record(kind, item)

    async def find_created(self, kind: str, probe: CreatedProbe) -> Record | None:
        """None: a create repeated with the same Idempotency-Key returns the first one."""
        return None

    async def anchor(self, container_kind: str, container: str, name: str) -> tuple[Record, bool]:
        raise NotImplementedError("Custompms attaches records to their parents directly")

    async def update(
        self,
        kind: str,
        id: str,
        fields: Mapping[str, Any],
        *,
        version: str | None = None,
        known: Mapping[str, Any] | None = None,
    ) -> Record:
        """Change the given properties; ``deleted: False`` among them restores the record
        first (in the same request). With ``version``, only if still current. Properties the
        server lacks are not sent; when nothing is left to send, the record is only read."""
        resource = resource_of(kind)
        changes = dict(fields)
        restore = "deleted" in changes and changes.pop("deleted") is False
        if "deleted" in fields and not restore:
            raise ValueError("update cannot delete a Custompms record: use delete()")
        body = to_wire(kind, await self._writable(kind, changes))
        if not body and changes and not restore:
            item = await self.client.get(resource, id)
        elif restore:
            item = await self.client.restore(resource, id, body, if_match=version)
        else:
            item = await self.client.update(resource, id, body, if_match=version)
        return to_record(kind, item)

    async def delete(self, kind: str, id: str) -> None:
        """Soft-delete one record; one that is already deleted or unknown is fine."""
        try:
            await self.client.delete(resource_of(kind), id)
        except NotFoundError:
            return

    async def aclose(self) -> None:
        await self.client.aclose()


def _lacking(capabilities: dict[str, Any] | None, host: str) -> frozenset[str]:
    """The optional task properties a server lacks, from its capabilities (None: a 404)."""
    if capabilities is None:
        return OPTIONAL
    features = capabilities.get("features")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise RemoteSystemError(
            f"Custompms at {host} answered GET /capabilities without a list of features: "
            "run `pmbridge check custompms` against it",
            system=SYSTEM,
        )
    return OPTIONAL - frozenset(features)


def _malformed(kind: str, err: Exception) -> str:
    return (
        f"Custompms sent a {kind} pmbridge cannot read ({err}); fix the record in Custompms "
        "(or its adapter) and it is picked up again"
    )
