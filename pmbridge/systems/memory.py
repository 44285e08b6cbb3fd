"""Both systems held in dicts: ``pmbridge.systems.base.System`` without any network.

The engine's rules and its state machine run on these, and so does the overhead benchmark,
so a cycle costs only the engine's own work: pairing, merging, the state store. Records
are shaped exactly as the
real connectors shape them — every write goes through the connectors' own conversions
(Custompms: ``to_wire`` → ``to_record``; Trello: ``writable_fields`` → Trello-shaped JSON →
``convert.*_record``) — and are kept as records, so a read hands out the very records a
real read would have built, without rebuilding them. What these systems hold is thus what
a real full read would hold in memory anyway.

A read with ``cursor=None`` lists everything in scope (every record is "changed"); a read
with a cursor returns what changed since. Writes are counted in ``writes``.

One fault knob, for crash tests: ``crash_after(n, applied=…)`` makes the n-th write from
now raise ``Crash`` — a ``BaseException``, as a killed process stops without cleaning up —
either before or after the write took effect.

One module because it holds both in-memory systems side by side, so each can be read against
the other.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Literal

from pmbridge.errors import StaleVersionError
from pmbridge.records import Record
from pmbridge.systems.base import CreatedProbe, Feed, Scope
from pmbridge.systems.custompms.values import KINDS as CUSTOMPMS_KINDS
from pmbridge.systems.custompms.values import resource_of, to_record, to_wire
from pmbridge.systems.trello.convert import (
    board_record,
    card_record,
    comment_record,
    organization_record,
    writable_fields,
)
from pmbridge.systems.trello.parts import PART_FIELDS, parts_json
from pmbridge.systems.trello.values import encode

STAMP = "2024-05-01T09:30:00.000Z"
MEMBER = {"id": "5f00000000000000000000a1", "fullName": "Bench User"}
TRELLO_KINDS = ("organization", "board", "card", "comment")


class Crash(BaseException):
    """The process died here (a knob of the in-memory systems, see the module docstring)."""


class _Writes:
    """Counts writes, and crashes one when told to."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self._left: int | None = None
        self._applied = False

    def crash_after(self, n: int, *, applied: bool) -> None:
        self._left, self._applied = n, applied

    def before(self, what: str) -> None:
        self.count[what] += 1
        if self._left is not None:
            self._left -= 1
            if self._left <= 0 and not self._applied:
                self._left = None
                raise Crash(f"crashed before {what}")

    def after(self, what: str) -> None:
        if self._left is not None and self._left <= 0:
            self._left = None
            raise Crash(f"crashed after {what}")


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
    anchor_kind: str | None = None

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Record]] = {k: {} for k in CUSTOMPMS_KINDS}
        self.keys: dict[str, Record] = {}
        self.buried: dict[tuple[str, str], Record] = {}  # deleted records, for restores
        self.changes = _Changes(tuple(CUSTOMPMS_KINDS))
        self.io = _Writes()
        self._ids = itertools.count(1)

    @property
    def writes(self) -> Counter[str]:
        return self.io.count

    def crash_after(self, n: int, *, applied: bool) -> None:
        self.io.crash_after(n, applied=applied)

    def _item_ids(self, item: dict[str, Any]) -> dict[str, Any]:
        """A new checklist item or link gets an id, as the server gives it one."""
        for name in ("checklist", "links"):
            if isinstance(item.get(name), list):
                item[name] = [
                    {**i, "id": i.get("id") or f"i{next(self._ids):09d}"} for i in item[name]
                ]
        return item

    def add(self, kind: str, **values: Any) -> Record:
        """Store one record from wire ``values`` (a person's create: not counted)."""
        props = CUSTOMPMS_KINDS[kind][1]
        item = {name: values.get(name) for name in props}
        item.update(id=f"{kind[0]}{next(self._ids):09d}", version=1, updated_at=STAMP)
        record = to_record(kind, self._item_ids(item))
        self.records[kind][record.id] = record
        self.changes.mark(kind, record.id)
        return record

    def edit(self, kind: str, id: str, **values: Any) -> Record:
        """A person's edit (not counted as a write)."""
        old = self.records[kind][id]
        item = {**to_wire(kind, old.fields), **values}
        item.update(id=id, version=int(old.version or 0) + 1, updated_at=STAMP)
        record = to_record(kind, self._item_ids(item))
        self.records[kind][id] = record
        self.changes.mark(kind, id)
        return record

    def remove(self, kind: str, id: str) -> None:
        """A person's (soft) delete: the feed shows a tombstone; a restore brings the
        record back as it was."""
        old = self.records[kind][id]
        self.buried[(kind, id)] = old
        self.records[kind][id] = replace(
            old, fields={}, deleted=True, version=str(int(old.version or 0) + 1)
        )
        self.changes.mark(kind, id)

    def live(self, kind: str) -> list[Record]:
        return [r for r in self.records[kind].values() if not r.deleted]

    async def check(self) -> None:
        return None

    async def begin_cycle(self) -> None:
        return None

    async def unsupported(self, kind: str) -> frozenset[str]:
        return frozenset()

    def scope_kind(self, kind: str) -> str | None:
        return None

    async def read(self, kind: str, cursor: str | None, scope: Scope = Scope()) -> Feed:
        changed = self.changes.since(kind, None if scope.full else cursor)
        records = self.records[kind]
        chosen = list(records.values()) if changed is None else [records[i] for i in changed]
        return Feed(chosen, str(self.changes.step))

    async def get(self, kind: str, id: str) -> Record | None:
        record = self.records[kind].get(id)
        return None if record is None or record.deleted else record

    async def create(self, kind: str, fields: Mapping[str, Any], *, idempotency_key: str) -> Record:
        what = f"create {resource_of(kind)}"
        self.io.before(what)
        if idempotency_key not in self.keys:
            self.keys[idempotency_key] = self.add(kind, **to_wire(kind, fields))
        self.io.after(what)
        return self.keys[idempotency_key]

    async def find_created(self, kind: str, probe: CreatedProbe) -> Record | None:
        return None  # creates are idempotent by key, as the contract's

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
        what = f"update {resource_of(kind)}"
        self.io.before(what)
        old = self.records[kind][id]
        if version is not None and old.version is not None and version != old.version:
            raise StaleVersionError(
                f"{kind} {id} changed since version {version}", system="custompms"
            )
        changes = dict(fields)
        if changes.pop("deleted", None) is False and old.deleted:  # a restore, as PATCH's
            old = self.buried.pop((kind, id), old)
        item = {**to_wire(kind, old.fields), **to_wire(kind, changes)}
        item.update(id=id, version=int(old.version or 0) + 1, updated_at=STAMP)
        record = to_record(kind, self._item_ids(item))
        self.records[kind][id] = record
        self.changes.mark(kind, id)
        self.io.after(what)
        return record

    async def delete(self, kind: str, id: str) -> None:
        what = f"delete {resource_of(kind)}"
        self.io.before(what)
        old = self.records[kind].get(id)
        if old is not None and not old.deleted:
            self.remove(kind, id)
        self.io.after(what)

    async def aclose(self) -> None:
        return None


class MemoryTrello:
    """A Trello in dicts: kind → id → record, plus each board's lists."""

    name: Literal["trello"] = "trello"
    anchor_kind: str | None = "card"

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Record]] = {k: {} for k in TRELLO_KINDS}
        self.lists: dict[str, dict[str, str]] = {}  # board → list name → list id
        self.changes = _Changes(TRELLO_KINDS)
        self.io = _Writes()
        self._ids = itertools.count(1)

    @property
    def writes(self) -> Counter[str]:
        return self.io.count

    def crash_after(self, n: int, *, applied: bool) -> None:
        self.io.crash_after(n, applied=applied)

    def _new_id(self) -> str:
        return f"{0x65000000 + next(self._ids):024x}"

    def _list_id(self, board: str, name: str) -> str:
        lists = self.lists.setdefault(board, {})
        if name not in lists:
            lists[name] = self._new_id()
        return lists[name]

    def _parts_as_json(self, obj: dict[str, Any]) -> None:
        """A card's part fields (always in record or write shape here) as Trello's JSON; a
        new check item or attachment gets an id. Labels keep only their names."""
        parts = {k: list(obj.pop(k) or ()) for k in PART_FIELDS if k in obj}
        for name in ("checklist", "attachments"):
            if name in parts:
                parts[name] = [
                    {**item, "id": item.get("id") or self._new_id()} for item in parts[name]
                ]
        obj.update(parts_json(parts))

    def _store(self, kind: str, obj: dict[str, Any]) -> Record:
        """Convert Trello-shaped JSON as the connector does, and keep the record."""
        obj["dateLastActivity"] = STAMP
        if kind == "card":
            self._parts_as_json(obj)
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

    def live(self, kind: str) -> list[Record]:
        return [r for r in self.records[kind].values() if not r.deleted]

    def edit(self, kind: str, id: str, **fields: Any) -> Record:
        """A person's edit in Trello, by record fields (not counted as a write)."""
        old = self.records[kind][id]
        if kind == "comment":
            return self._store(kind, self._comment_json(id, old, fields["text"]))
        obj = {"id": id, **{k: _json_value(v) for k, v in old.fields.items() if k != "list"}}
        obj["idList"] = (
            self._list_id(obj["idBoard"], old.fields["list"]) if kind == "card" else None
        )
        values = {k: _json_value(v) for k, v in fields.items()}
        if kind == "card" and "list" in values:
            obj["idList"] = self._list_id(
                values.get("idBoard") or obj["idBoard"], values.pop("list")
            )
        obj.update(values)
        return self._store(kind, obj)

    def remove(self, kind: str, id: str) -> None:
        """A person's delete in Trello (the feed reports a tombstone). What Trello deletes
        with it goes silently, reported by no feed: a card's comments, a board's cards."""
        if id in self.records[kind]:
            self.records[kind][id] = Record(kind, id, deleted=True)
            self.changes.mark(kind, id)
            self._bury_under(kind, id)

    def _bury_under(self, kind: str, id: str) -> None:
        under = {"board": ("card", "idBoard"), "card": ("comment", "idCard")}.get(kind)
        if under is None:
            return
        child_kind, parent_field = under
        for child in list(self.records[child_kind].values()):
            if not child.deleted and child.fields.get(parent_field) == id:
                self.records[child_kind][child.id] = Record(child_kind, child.id, deleted=True)
                self._bury_under(child_kind, child.id)

    @staticmethod
    def _in_scope(kind: str, record: Record, containers: set[str]) -> bool:
        if kind == "organization":
            return not containers or record.id in containers
        if record.deleted:
            return True
        parent = {"board": "idOrganization", "card": "idBoard", "comment": "idBoard"}[kind]
        return record.fields[parent] in containers

    async def check(self) -> None:
        return None

    async def begin_cycle(self) -> None:
        return None

    async def unsupported(self, kind: str) -> frozenset[str]:
        return frozenset()

    def scope_kind(self, kind: str) -> str | None:
        return {"organization": "organization", "board": "organization"}.get(kind, "board")

    async def read(self, kind: str, cursor: str | None, scope: Scope = Scope()) -> Feed:
        containers = set(scope.containers)
        if kind == "organization" and (cursor is None or scope.full):
            containers = set()  # a full read discovers every workspace
        changed = self.changes.since(kind, None if scope.full else cursor)
        records = self.records[kind]
        if changed is None:
            chosen: Any = (r for r in records.values() if not r.deleted)
        else:
            chosen = (records[i] for i in changed)
        found = [r for r in chosen if self._in_scope(kind, r, containers)]
        listed: frozenset[str] | None = None
        if changed is None:
            everything = kind == "organization" and not containers
            listed = frozenset({"*"}) if everything else frozenset(containers)
        return Feed(found, str(self.changes.step), listed=listed)

    async def get(self, kind: str, id: str) -> Record | None:
        record = self.records[kind].get(id)
        return None if record is None or record.deleted else record

    async def create(self, kind: str, fields: Mapping[str, Any], *, idempotency_key: str) -> Record:
        what = f"create {kind}"
        self.io.before(what)
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
            obj.update(dict.fromkeys(PART_FIELDS, ()))  # read along, as the connector does
            obj.update({k: v for k, v in values.items() if k != "list"})
            obj["pos"] = (
                0.0 if values.get("pos") == "top" else float(len(self.records["card"]) + 1) * 16384
            )
            obj["idList"] = self._list_id(values["idBoard"], values.get("list") or "To Do")
        else:
            card = self.records["card"][values["idCard"]]
            obj = self._comment_json(obj["id"], card, values["text"], card_id=card.id)
        record = self._store(kind, obj)
        self.io.after(what)
        return record

    @staticmethod
    def _comment_json(id: str, on: Record, text: str, card_id: str | None = None) -> dict[str, Any]:
        return {
            "id": id,
            "type": "commentCard",
            "date": STAMP,
            "memberCreator": MEMBER,
            "data": {
                "text": text,
                "card": {"id": card_id or on.fields["idCard"]},
                "board": {"id": on.fields["idBoard"]},
            },
        }

    async def find_created(self, kind: str, probe: CreatedProbe) -> Record | None:
        for record in self.live(kind):
            if record.id in probe.taken:
                continue
            fields = record.fields
            if probe.marker and probe.marker_field:
                if (
                    str(fields.get(probe.marker_field) or "")
                    .rstrip()
                    .endswith(probe.marker.strip())
                ):
                    return record
                continue
            parent = {"board": "idOrganization", "card": "idBoard", "comment": "idCard"}.get(kind)
            if parent and probe.container and fields.get(parent) != probe.container:
                continue
            same = [k for k in ("name", "displayName", "text") if k in probe.fields]
            if same and all(fields.get(k) == probe.fields[k] for k in same):
                return record
        return None

    async def anchor(self, container_kind: str, container: str, name: str) -> tuple[Record, bool]:
        for card in self.live("card"):
            if card.fields["idBoard"] == container and card.fields.get("name") == name:
                return card, False
        fields = {"idBoard": container, "name": name, "pos": "top"}
        return await self.create("card", fields, idempotency_key=""), True

    async def update(
        self,
        kind: str,
        id: str,
        fields: Mapping[str, Any],
        *,
        version: str | None = None,
        known: Mapping[str, Any] | None = None,
    ) -> Record:
        what = f"update {kind}"
        self.io.before(what)
        values = {k: _json_value(v) for k, v in writable_fields(kind, fields).items()}
        old = self.records[kind][id]
        if kind == "comment":
            record = self._store(kind, self._comment_json(id, old, values["text"]))
        else:
            obj = {"id": id, **{k: _json_value(v) for k, v in old.fields.items() if k != "list"}}
            if kind == "card":
                board = values.get("idBoard") or obj["idBoard"]
                list_name = values.pop("list", None) or old.fields.get("list") or "To Do"
                obj["idList"] = self._list_id(board, list_name)
            obj.update(values)
            record = self._store(kind, obj)
        self.io.after(what)
        return record

    async def delete(self, kind: str, id: str) -> None:
        what = f"delete {kind}"
        self.io.before(what)
        self.remove(kind, id)
        self.io.after(what)

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
