"""The storage of the reference Custompms: records, change feeds, idempotency keys, subscriptions.

SQLite through SQLAlchemy Core. Every write runs in one ``BEGIN IMMEDIATE`` transaction
under a process-wide lock, and takes the next value of the global change counter inside
that transaction. Writes are therefore serialised and commit in counter order, so a feed
read (a snapshot, thanks to WAL) never sees change N+1 without change N: reading
``change_seq > cursor`` in order skips nothing, whatever the timestamps say and however
many clients write at once. The counter lives in the database, so cursors survive restarts.
A new database file is created readable by its owner only (mode 0600); a file of an older
schema version is migrated in place (``tables.MIGRATIONS``).

Refusals are raised as ``ApiProblem`` subclasses (see ``problems``); a refused write
changes nothing.

One module because every write shares the one lock, transaction and change counter above;
the tables live in ``tables``, field rules in ``constraints``, notifications in ``notify``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from pmbridge.sandbox.custompms import tables
from pmbridge.sandbox.custompms.constraints import DEFAULT_STATUSES, checked
from pmbridge.sandbox.custompms.problems import (
    FieldProblem,
    Gone,
    IdempotencyConflict,
    Invalid,
    NotFound,
    StaleVersion,
)
from pmbridge.sandbox.custompms.resources import PEOPLE, RESOURCES, ResourceSpec

Record = dict[str, Any]
_CURSOR = re.compile(r"^[0-9]{1,18}$")


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of a change feed."""

    items: list[Record]
    next_since: str
    has_more: bool


def encode_cursor(seq: int) -> str:
    return str(seq)


def decode_cursor(cursor: str) -> int:
    """The change sequence number behind a cursor; ``Invalid`` when it is not one of ours."""
    if not _CURSOR.match(cursor):
        raise Invalid(
            "The cursor is not one this server issued.",
            errors=[FieldProblem("since", "not a cursor of this server; pass next_since back")],
        )
    return int(cursor)


def sqlite_url(db: str) -> str:
    """A SQLAlchemy URL for ``db``: a URL as is, or a file path."""
    url = db if "://" in db else f"sqlite:///{db}"
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(f"the reference Custompms stores its data in SQLite, not {url!r}")
    if parsed.database in (None, "", ":memory:"):
        raise ValueError("the reference Custompms needs a database file (several threads use it)")
    return url


class Store:
    """All data of one reference Custompms, in one SQLite file.

    :param db_url: ``sqlite:///path/to/file.db`` (or a plain file path)
    :param statuses: the task statuses that exist, in the order a person picks from
    """

    def __init__(self, db_url: str, *, statuses: Sequence[str] = DEFAULT_STATUSES):
        self.url = sqlite_url(db_url)
        self.statuses = tuple(statuses)
        if not self.statuses or not all(isinstance(s, str) and s for s in self.statuses):
            raise ValueError("the reference Custompms needs at least one non-empty task status")
        _create_private(make_url(self.url).database or "")
        self.engine = create_engine(
            self.url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=32,
        )
        event.listen(self.engine, "connect", _on_connect)
        event.listen(self.engine, "begin", _on_begin)
        self._write_lock = threading.Lock()
        self._last_stamp = ""
        self._setup()

    def _setup(self) -> None:
        try:
            self._create_or_check()
        except DBAPIError as err:
            self.engine.dispose()
            raise RuntimeError(f"cannot use the database {self.url}: {err.orig}") from None
        except RuntimeError:
            self.engine.dispose()
            raise

    def _create_or_check(self) -> None:
        with self._writing() as conn:
            existing = set(inspect(conn).get_table_names())
            if existing and tables.meta.name not in existing:
                raise RuntimeError(
                    f"{self.url} is not a Custompms database (it holds other tables); "
                    "give the reference server a file of its own"
                )
            tables.metadata.create_all(conn)
            stored = conn.execute(
                select(tables.meta.c.value).where(tables.meta.c.key == "schema_version")
            ).scalar()
            if stored is None:
                conn.execute(
                    insert(tables.meta),
                    [
                        {"key": "schema_version", "value": tables.SCHEMA_VERSION},
                        {"key": "change_seq", "value": 0},
                    ],
                )
            elif stored != tables.SCHEMA_VERSION and stored not in tables.MIGRATIONS:
                raise RuntimeError(
                    f"{self.url} holds Custompms schema version {stored}; this server "
                    f"uses version {tables.SCHEMA_VERSION} and cannot migrate it"
                )
            while stored is not None and stored < tables.SCHEMA_VERSION:
                tables.MIGRATIONS[stored](conn)
                stored += 1
                conn.execute(
                    update(tables.meta)
                    .where(tables.meta.c.key == "schema_version")
                    .values(value=stored)
                )

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(custompms_begin="BEGIN IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _next_seq(self, conn: Connection) -> int:
        return int(
            conn.execute(
                update(tables.meta)
                .where(tables.meta.c.key == "change_seq")
                .values(value=tables.meta.c.value + 1)
                .returning(tables.meta.c.value)
            ).scalar_one()
        )

    def _stamp(self, not_before: str = "") -> str:
        # Never earlier than an earlier stamp of this process or the record's last one, so
        # updated_at does not go back when the clock does. Called under the write lock.
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self._last_stamp = max(now, self._last_stamp, not_before)
        return self._last_stamp

    # -- records --------------------------------------------------------------------------

    def _load(self, conn: Connection, spec: ResourceSpec, record_id: str) -> Record:
        row = conn.execute(select(spec.table).where(spec.table.c.id == record_id)).first()
        if row is None:
            raise NotFound(f"There is no {spec.singular} with id {record_id!r}.")
        return _as_record(spec, row._mapping)

    def get(self, spec: ResourceSpec, record_id: str) -> Record:
        """A live record; ``NotFound`` or ``Gone`` otherwise."""
        with self._reading() as conn:
            record = self._load(conn, spec, record_id)
        if record["deleted"]:
            raise _gone(spec, record)
        return record

    def feed(self, spec: ResourceSpec, since: str | None, limit: int) -> FeedPage:
        """The records of ``spec`` changed after ``since``, in change order."""
        after = 0 if since is None else decode_cursor(since)
        table = spec.table
        with self._reading() as conn:
            head = conn.execute(
                select(tables.meta.c.value).where(tables.meta.c.key == "change_seq")
            ).scalar_one()
            if after > head:
                raise Invalid(
                    "The cursor is ahead of every change this server has made: it comes from "
                    "another server or a database that was reset.",
                    errors=[FieldProblem("since", "unknown cursor; start again without since")],
                )
            rows = conn.execute(
                select(table)
                .where(table.c.change_seq > after)
                .order_by(table.c.change_seq)
                .limit(limit + 1)
            ).all()
        page = rows[:limit]
        next_since = encode_cursor(page[-1].change_seq) if page else (since or encode_cursor(0))
        return FeedPage(
            items=[_as_record(spec, row._mapping) for row in page],
            next_since=next_since,
            has_more=len(rows) > limit,
        )

    def live(self, spec: ResourceSpec, limit: int) -> list[Record]:
        """The most recently changed live records, newest first (for the HTML page)."""
        table = spec.table
        with self._reading() as conn:
            rows = conn.execute(
                select(table)
                .where(table.c.deleted.is_(False))
                .order_by(table.c.change_seq.desc())
                .limit(limit)
            ).all()
        return [_as_record(spec, row._mapping) for row in rows]

    def create(
        self, spec: ResourceSpec, values: Mapping[str, Any], *, idempotency_key: str | None
    ) -> tuple[Record, bool]:
        """Create a record from validated ``values`` (defaults applied).

        Returns the record and whether it is new (False: an earlier create with the same
        ``idempotency_key`` made it).
        """
        problems = spec.state_rule(values)
        if problems:
            raise _invalid(spec, problems)
        fingerprint = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()
        keys = tables.idempotency_keys
        with self._writing() as conn:
            if idempotency_key is not None:
                known = conn.execute(
                    select(keys.c.fingerprint, keys.c.record_id).where(
                        keys.c.resource == spec.name, keys.c.key == idempotency_key
                    )
                ).first()
                if known is not None:
                    if known.fingerprint != fingerprint:
                        raise IdempotencyConflict(
                            f"This Idempotency-Key already created a {spec.singular} from a "
                            "different body; use a new key for a new record.",
                            errors=[
                                FieldProblem("Idempotency-Key", "already used with another body")
                            ],
                        )
                    record = self._load(conn, spec, known.record_id)
                    if record["deleted"]:
                        raise _gone(spec, record)
                    return record, False
            values, problems = checked(conn, spec, values, current=None, statuses=self.statuses)
            if problems:
                raise _invalid(spec, problems)
            self._check_parents(conn, spec, values, current=None)
            stamp = self._stamp()
            record_id = uuid.uuid4().hex
            conn.execute(
                insert(spec.table).values(
                    id=record_id,
                    version=1,
                    created_at=stamp,
                    updated_at=stamp,
                    deleted=False,
                    change_seq=self._next_seq(conn),
                    **values,
                )
            )
            if idempotency_key is not None:
                conn.execute(
                    insert(keys).values(
                        resource=spec.name,
                        key=idempotency_key,
                        fingerprint=fingerprint,
                        record_id=record_id,
                    )
                )
            return self._load(conn, spec, record_id), True

    def update(
        self,
        spec: ResourceSpec,
        record_id: str,
        changes: Mapping[str, Any],
        *,
        if_match: frozenset[int] | None = None,
    ) -> tuple[Record, bool]:
        """Apply validated ``changes``; ``deleted: False`` among them restores a deleted record.

        Returns the record and whether anything changed (nothing changed: no new version).
        """
        changes = dict(changes)
        restore = "deleted" in changes and changes.pop("deleted") is False
        with self._writing() as conn:
            current = self._load(conn, spec, record_id)
            if current["deleted"] and not restore:
                raise _gone(spec, current, '; restore it with PATCH {"deleted": false}')
            _check_version(spec, current, if_match)
            diff = {name: value for name, value in changes.items() if current[name] != value}
            if not diff and not current["deleted"]:
                return current, False
            problems = spec.state_rule({**current, **diff})
            to_check = dict(diff)
            if spec.name == PEOPLE.name and current["deleted"]:
                to_check.setdefault("email", current["email"])  # a restore takes it back
            to_check, more = checked(conn, spec, to_check, current=current, statuses=self.statuses)
            diff.update({name: to_check[name] for name in diff})
            problems += more
            if problems:
                raise _invalid(spec, problems)
            self._check_parents(conn, spec, diff, current=current)
            conn.execute(
                update(spec.table)
                .where(spec.table.c.id == record_id)
                .values(
                    version=current["version"] + 1,
                    updated_at=self._stamp(current["updated_at"]),
                    deleted=False,
                    change_seq=self._next_seq(conn),
                    **diff,
                )
            )
            return self._load(conn, spec, record_id), True

    def delete(
        self, spec: ResourceSpec, record_id: str, *, if_match: frozenset[int] | None = None
    ) -> Record | None:
        """Soft-delete a record; returns the tombstone, or None when it was already deleted."""
        with self._writing() as conn:
            current = self._load(conn, spec, record_id)
            if current["deleted"]:
                return None
            _check_version(spec, current, if_match)
            conn.execute(
                update(spec.table)
                .where(spec.table.c.id == record_id)
                .values(
                    version=current["version"] + 1,
                    updated_at=self._stamp(current["updated_at"]),
                    deleted=True,
                    change_seq=self._next_seq(conn),
                )
            )
            return self._load(conn, spec, record_id)

    def _check_parents(
        self,
        conn: Connection,
        spec: ResourceSpec,
        values: Mapping[str, Any],
        *,
        current: Record | None,
    ) -> None:
        problems = []
        for name, parent_name in spec.parents.items():
            parent_id = values.get(name)
            if parent_id is None or (current is not None and current[name] == parent_id):
                continue
            parent = RESOURCES[parent_name]
            deleted = conn.execute(
                select(parent.table.c.deleted).where(parent.table.c.id == parent_id)
            ).scalar()
            if deleted is None:
                problems.append(FieldProblem(name, f"no {parent.singular} has id {parent_id!r}"))
            elif deleted:
                problems.append(FieldProblem(name, f"{parent.singular} {parent_id!r} is deleted"))
        if problems:
            raise _invalid(spec, problems)

    # -- subscriptions --------------------------------------------------------------------

    def add_subscription(self, url: str, secret: str) -> Record:
        subs = tables.subscriptions
        with self._writing() as conn:
            row = {"id": uuid.uuid4().hex, "url": url, "secret": secret}
            row["created_at"] = self._stamp()
            conn.execute(insert(subs).values(**row))
        return {"id": row["id"], "url": url, "created_at": row["created_at"]}

    def subscriptions(self) -> list[Record]:
        """The subscriptions, without their secrets."""
        subs = tables.subscriptions
        with self._reading() as conn:
            rows = conn.execute(
                select(subs.c.id, subs.c.url, subs.c.created_at).order_by(subs.c.created_at)
            ).all()
        return [dict(row._mapping) for row in rows]

    def subscription_targets(self) -> list[tuple[str, str]]:
        """(url, secret) of every subscription, for delivering notifications."""
        subs = tables.subscriptions
        with self._reading() as conn:
            return [
                (row.url, row.secret) for row in conn.execute(select(subs.c.url, subs.c.secret))
            ]

    def remove_subscription(self, subscription_id: str) -> None:
        subs = tables.subscriptions
        with self._writing() as conn:
            removed = conn.execute(subs.delete().where(subs.c.id == subscription_id)).rowcount
        if not removed:
            raise NotFound(f"There is no subscription with id {subscription_id!r}.")

    def counts(self) -> dict[str, int]:
        """Live records per resource."""
        with self._reading() as conn:
            return {
                name: conn.execute(
                    select(func.count())
                    .select_from(spec.table)
                    .where(spec.table.c.deleted.is_(False))
                ).scalar_one()
                for name, spec in RESOURCES.items()
            }


def _create_private(path: str) -> None:
    """Create the database file readable by its owner only, unless it exists."""
    if not path or os.path.exists(path):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as err:
        raise RuntimeError(f"cannot use the database file {path}: {err.strerror}") from None


def _as_record(spec: ResourceSpec, row: Mapping[str, Any]) -> Record:
    record = {
        "id": row["id"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "deleted": bool(row["deleted"]),
    }
    for name in spec.fields:
        record[name] = row[name]
    return record


def _check_version(spec: ResourceSpec, current: Record, if_match: frozenset[int] | None) -> None:
    if if_match is not None and current["version"] not in if_match:
        raise StaleVersion(
            f"The {spec.singular} is at version {current['version']}, not "
            f"{', '.join(str(v) for v in sorted(if_match))}: read it again and retry.",
            current_version=current["version"],
        )


def _gone(spec: ResourceSpec, record: Record, hint: str = "") -> Gone:
    return Gone(
        f"The {spec.singular} {record['id']!r} was deleted{hint}.",
        id=record["id"],
        current_version=record["version"],
    )


def _invalid(spec: ResourceSpec, problems: list[FieldProblem]) -> Invalid:
    return Invalid(f"The {spec.singular} was not written: see errors.", errors=problems)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own transaction handling
    # would defer it), and use WAL so readers never wait for the writer.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _on_begin(conn: Connection) -> None:
    conn.exec_driver_sql(conn.get_execution_options().get("custompms_begin", "BEGIN"))
