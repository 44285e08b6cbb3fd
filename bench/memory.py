"""Both systems held in dicts: ``pmbridge.systems.base.System`` without any network.

The overhead benchmark runs the real ``Engine`` against these, so a cycle costs only the
engine's own work: pairing, merging, the state store. Records are shaped exactly as the
real connectors shape them — every write goes through the connectors' own conversions
(Custompms: ``to_wire`` → ``to_record``; Trello: ``writable_fields`` → Trello-shaped JSON →
``convert.*_record``) — and are kept as records, so a read hands out the very records a
real read would have built, without rebuilding them. What these systems hold is thus what
a real full read would hold in memory anyway.

A read with ``cursor=None`` lists everything in scope (every record is "changed"); a read
with a cursor returns what changed since. Writes are counted in ``writes``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Literal

from pmbridge.records import Record
from pmbridge.systems.base import Feed, Scope
from pmbridge.systems.custompms.values import KINDS as CUSTOMPMS_KINDS
from pmbridge.systems.custompms.values import resource_of, to_record, to_wire
from pmbridge.systems.trello.convert import (
    board_record,
    card_record,
    comment_record,
    organization_record,
    writable_fields,
)
from pmbridge.systems.trello.values import encode

STAMP = "2024-05-01T09:30:00.000Z"
MEMBER = {"id": "5f00000000000000000000a1", "fullName": "Bench User"}
TRELLO_KINDS = ("organization", "board", "card", "comment")


def _json_value(value: Any) -> Any:
    """A record value as Trello's JSON carries it (dates as ISO text)."""
    return encode(value) if isinstance(value, datetime | date) else value


class _Changes:
    """A change counter: at which step each object last changed, for cursor reads."""

    def __init__(self, kinds: tuple[str, ...]) -> None:
        self.step = 0
        self.at: dict[str, dict[str, int]] = {kind: {} for kind in kinds}

    def mark(self, kind: str, id: str) -> None:
        self.step += 1
        self.at[kind][id] = self.step

    def since(self, kind: str, cursor: str | None) -> list[str] | None:
        """Ids of ``kind`` changed after ``cursor``; None: everything (no cursor)."""
        if cursor is None:
            return None
        after = int(cursor)
        return [i for i, step in self.at[kind].items() if step > after]


class MemoryCustompms:
    """A Custompms in dicts: kind → id → record."""

    name: Literal["custompms"] = "custompms"

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Record]] = {k: {} for k in CUSTOMPMS_KINDS}
        self.keys: dict[str, Record] = {}
        self.changes = _Changes(tuple(CUSTOMPMS_KINDS))
        self.writes: Counter[str] = Counter()
        self._ids = itertools.count(1)

    def add(self, kind: str, **values: Any) -> Record:
        """Store one record from wire ``values`` (seeding: not counted as a write)."""
        props = CUSTOMPMS_KINDS[kind][1]
        item = {name: values.get(name) for name in props}
        item.update(id=f"{kind[0]}{next(self._ids):09d}", version=1, updated_at=STAMP)
        record = to_record(kind, item)
        self.records[kind][record.id] = record
        self.changes.mark(kind, record.id)
        return record

    async def check(self) -> None:
        return None

    async def read(self, kind: str, cursor: str | None, scope: Scope = Scope()) -> Feed:
        changed = self.changes.since(kind, cursor)
        records = self.records[kind]
        chosen = list(records.values()) if changed is None else [records[i] for i in changed]
        return Feed(chosen, str(self.changes.step))

    async def get(self, kind: str, id: str) -> Record | None:
        record = self.records[kind].get(id)
        return None if record is None or record.deleted else record

    async def create(self, kind: str, fields: Mapping[str, Any], *, idempotency_key: str) -> Record:
        self.writes[f"create {resource_of(kind)}"] += 1
        if idempotency_key not in self.keys:
            self.keys[idempotency_key] = self.add(kind, **to_wire(kind, fields))
        return self.keys[idempotency_key]

    async def update(
        self, kind: str, id: str, fields: Mapping[str, Any], *, version: str | None = None
    ) -> Record:
        self.writes[f"update {resource_of(kind)}"] += 1
        old = self.records[kind][id]
        item = {**to_wire(kind, old.fields), **to_wire(kind, fields)}
        item.update(id=id, version=int(old.version or 0) + 1, updated_at=STAMP)
        record = to_record(kind, item)
        self.records[kind][id] = record
        self.changes.mark(kind, id)
        return record

    async def delete(self, kind: str, id: str) -> None:
        self.writes[f"delete {resource_of(kind)}"] += 1
        old = self.records[kind].get(id)
        if old is not None:
            self.records[kind][id] = replace(old, fields={}, deleted=True)
            self.changes.mark(kind, id)

    async def aclose(self) -> None:
        return None


class MemoryTrello:
    """A Trello in dicts: kind → id → record, plus each board's lists."""

    name: Literal["trello"] = "trello"

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Record]] = {k: {} for k in TRELLO_KINDS}
        self.lists: dict[str, dict[str, str]] = {}  # board → list name → list id
        self.changes = _Changes(TRELLO_KINDS)
        self.writes: Counter[str] = Counter()
        self._ids = itertools.count(1)

    def _new_id(self) -> str:
        return f"{0x65000000 + next(self._ids):024x}"

    def _list_id(self, board: str, name: str) -> str:
        lists = self.lists.setdefault(board, {})
        if name not in lists:
            lists[name] = self._new_id()
        return lists[name]

    def _store(self, kind: str, obj: dict[str, Any]) -> Record:
        """Convert Trello-shaped JSON as the connector does, and keep the record."""
        obj["dateLastActivity"] = STAMP
        if kind == "organization":
            record = organization_record(obj)
        elif kind == "board":
            record = board_record(obj)
        elif kind == "card":
            names = {i: n for n, i in self.lists.get(obj["idBoard"], {}).items()}
            record = card_record(obj, names.get(obj["idList"]))
        else:
            record = comment_record(obj)
        self.records[kind][record.id] = record
        self.changes.mark(kind, record.id)
        return record

    @staticmethod
    def _in_scope(kind: str, record: Record, containers: set[str]) -> bool:
        if kind == "organization":
            return not containers or record.id in containers
        parent = {"board": "idOrganization", "card": "idBoard", "comment": "idBoard"}[kind]
        return record.fields[parent] in containers

    async def check(self) -> None:
        return None

    async def read(self, kind: str, cursor: str | None, scope: Scope = Scope()) -> Feed:
        containers = set(scope.containers)
        changed = self.changes.since(kind, cursor)
        records = self.records[kind]
        chosen = records.values() if changed is None else (records[i] for i in changed)
        found = [r for r in chosen if self._in_scope(kind, r, containers)]
        listed: frozenset[str] | None = None
        if changed is None:
            everything = kind == "organization" and not containers
            listed = frozenset({"*"}) if everything else frozenset(containers)
        return Feed(found, str(self.changes.step), listed=listed)

    async def get(self, kind: str, id: str) -> Record | None:
        return self.records[kind].get(id)

    async def create(self, kind: str, fields: Mapping[str, Any], *, idempotency_key: str) -> Record:
        self.writes[f"create {kind}"] += 1
        values = {k: _json_value(v) for k, v in writable_fields(kind, fields).items()}
        obj: dict[str, Any] = {"id": self._new_id()}
        if kind == "organization":
            obj.update(name=f"org{obj['id'][-6:]}", desc="", website=None)
            obj.update(values)
        elif kind == "board":
            obj.update(desc="", closed=False)
            obj.update(values)
        elif kind == "card":
            obj.update(desc="", closed=False, dueComplete=False, due=None, start=None)
            obj["pos"] = float(len(self.records["card"]) + 1) * 16384
            obj.update({k: v for k, v in values.items() if k != "list"})
            obj["idList"] = self._list_id(values["idBoard"], values.get("list") or "To Do")
        else:
            card = self.records["card"][values["idCard"]]
            obj.update(type="commentCard", date=STAMP, memberCreator=MEMBER)
            obj["data"] = {
                "text": values["text"],
                "card": {"id": card.id},
                "board": {"id": card.fields["idBoard"]},
            }
        return self._store(kind, obj)

    async def update(
        self, kind: str, id: str, fields: Mapping[str, Any], *, version: str | None = None
    ) -> Record:
        self.writes[f"update {kind}"] += 1
        values = {k: _json_value(v) for k, v in writable_fields(kind, fields).items()}
        old = self.records[kind][id]
        if kind == "comment":
            obj = {
                "id": id,
                "type": "commentCard",
                "date": STAMP,
                "memberCreator": MEMBER,
                "data": {
                    "text": values["text"],
                    "card": {"id": old.fields["idCard"]},
                    "board": {"id": old.fields["idBoard"]},
                },
            }
            return self._store(kind, obj)
        obj = {"id": id, **{k: _json_value(v) for k, v in old.fields.items() if k != "list"}}
        if kind == "card" and "list" in values:
            board = values.get("idBoard") or obj["idBoard"]
            obj["idList"] = self._list_id(board, values.pop("list"))
        obj.update(values)
        return self._store(kind, obj)

    async def delete(self, kind: str, id: str) -> None:
        self.writes[f"delete {kind}"] += 1
        if self.records[kind].pop(id, None) is not None:
            self.changes.mark(kind, id)

    async def aclose(self) -> None:
        return None


def seed(custompms: MemoryCustompms, *, tasks: int, customers: int = 5, projects: int = 20) -> None:
    """The benchmarks' data shape (see ``bench.dataset``), in the in-memory Custompms."""
    made_customers = [
        custompms.add(
            "customer",
            name=f"Customer {i}",
            description=f"Customer number {i}",
            website=f"https://customer-{i}.example",
        )
        for i in range(customers)
    ]
    made_projects = [
        custompms.add(
            "project",
            customer_id=made_customers[i % customers].id,
            name=f"Project {i}",
            description=f"Project number {i}",
            archived=False,
        )
        for i in range(projects)
    ]
    for i in range(tasks):
        task = custompms.add(
            "task",
            project_id=made_projects[i % projects].id,
            title=f"Task {i}",
            description=f"Do thing {i}",
            status="todo",
            completed=False,
            archived=False,
        )
        custompms.add("comment", task_id=task.id, author="Alice", text=f"Note 0 on {i}")
