"""The state store's operations: links, cursors, journal, conflicts, dead letters (and, from
``processes.py``, runs, leases and registrations; from ``memos.py``, connectors' memos).

``open_store(url)`` connects, migrates and returns a ``Store``. Every operation is a method
of ``Store`` (one transaction per call) and of the ``Transaction`` that
``store.transaction()`` yields (all calls in one transaction, rolled back on exception).

Correct with several workers on one PostgreSQL database: writes are single statements that
the database makes atomic (``INSERT … ON CONFLICT``, conditional ``UPDATE``), and the unique
constraints decide races — the loser gets a ``LinkConflictError`` or ``DuplicateIntentError``
(raised inside a savepoint, so an enclosing transaction stays usable). Whole cycles take
turns under the sync lease (``guard.py``), so those races are a last line of defence.

One module because every operation must work the same inside and outside a transaction
(``_Operations``); processes' rows already live in ``processes``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, Self, TypeVar

from sqlalchemy import URL, Connection, Engine, Row, Table, exc, func, select
from sqlalchemy.dialects import postgresql, sqlite

from pmbridge.errors import DuplicateIntentError, LinkConflictError, StoreError
from pmbridge.records import SIDES, Side
from pmbridge.store import schema
from pmbridge.store.connect import (
    create_store_engine,
    describe_failure,
    display_url,
    parse_url,
    unreachable,
)
from pmbridge.store.memos import MemoOperations
from pmbridge.store.migrations import MIGRATIONS, Migrations
from pmbridge.store.processes import Owner, ProcessOperations
from pmbridge.store.rows import (
    CONFLICT_STATUSES,
    Conflict,
    DeadLetter,
    Intent,
    Link,
    RunWrite,
)
from pmbridge.store.rows import checked_json as _json

T = TypeVar("T")
log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    """``value`` with dates as ISO text, so a record's fields fit a JSON column."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _now() -> datetime:
    return datetime.now(UTC)


def _side(value: str, what: str) -> Side:
    if value not in SIDES:
        raise ValueError(f"{what} must be 'custompms' or 'trello', not {value!r}")
    return value


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which knows ``ON CONFLICT``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _link(row: Row[Any]) -> Link:
    return Link(**row._mapping)


def _intent(row: Row[Any]) -> Intent:
    return Intent(**row._mapping)


def _conflict(row: Row[Any]) -> Conflict:
    return Conflict(**row._mapping)


def _dead_letter(row: Row[Any]) -> DeadLetter:
    return DeadLetter(**row._mapping)


class _Operations(ProcessOperations, MemoOperations):
    """Every store operation; subclasses say on which connection an operation runs."""

    _url: URL

    def _run(self, operation: Callable[[Connection], T]) -> T:
        raise NotImplementedError

    # --- links ------------------------------------------------------------------------

    def get_link(
        self, flow: str, *, custompms_id: str | None = None, trello_id: str | None = None
    ) -> Link | None:
        """The link of ``flow`` with that Custompms id and/or that Trello id."""
        if custompms_id is None and trello_id is None:
            raise ValueError("get_link needs custompms_id or trello_id")
        query = select(schema.links).where(schema.links.c.flow == flow)
        if custompms_id is not None:
            query = query.where(schema.links.c.custompms_id == custompms_id)
        if trello_id is not None:
            query = query.where(schema.links.c.trello_id == trello_id)
        row = self._run(lambda conn: conn.execute(query).one_or_none())
        return _link(row) if row is not None else None

    def links(self, flow: str) -> list[Link]:
        """All links of ``flow``, by Custompms id."""
        query = (
            select(schema.links)
            .where(schema.links.c.flow == flow)
            .order_by(schema.links.c.custompms_id)
        )
        return [_link(row) for row in self._run(lambda conn: conn.execute(query).all())]

    def count_links(self, flow: str) -> int:
        query = select(func.count()).select_from(schema.links).where(schema.links.c.flow == flow)
        return self._run(lambda conn: conn.execute(query).scalar_one())

    def put_link(self, link: Link) -> Link:
        """Insert ``link``, or replace the link of its (flow, custompms_id); return it as stored.

        Raises ``LinkConflictError`` when its Trello id is linked to another Custompms id.
        """
        log.debug("link %s: custompms %s ↔ trello %s", link.flow, link.custompms_id, link.trello_id)
        if not isinstance(link.base, Mapping):
            raise ValueError(f"Link.base must be a JSON object, not {type(link.base).__name__}")
        now = _now()
        values = {
            "flow": link.flow,
            "custompms_id": link.custompms_id,
            "trello_id": link.trello_id,
            "base": _json(dict(link.base), "Link.base"),
            "custompms_version": link.custompms_version,
            "updated_at": now,
        }

        def operation(conn: Connection) -> Link:
            insert = _insert(conn, schema.links).values(created_at=now, **values)
            upsert = insert.on_conflict_do_update(
                index_elements=[schema.links.c.flow, schema.links.c.custompms_id],
                set_={key: insert.excluded[key] for key in values if key not in _LINK_KEY},
            ).returning(*schema.links.c)
            try:
                with conn.begin_nested():
                    return _link(conn.execute(upsert).one())
            except exc.IntegrityError as err:
                holder = conn.execute(
                    select(schema.links).where(
                        schema.links.c.flow == link.flow,
                        schema.links.c.trello_id == link.trello_id,
                    )
                ).one_or_none()
                raise LinkConflictError(link, _link(holder) if holder else None) from err

        return self._run(operation)

    def count_all_links(self) -> int:
        """Links of every flow (an index-only count)."""
        query = select(func.count()).select_from(schema.links)
        return self._run(lambda conn: conn.execute(query).scalar_one())

    def links_changed_since(self, since: datetime | None = None) -> list[Link]:
        """Links written at or after ``since`` (all when None), oldest change first."""
        query = select(schema.links).order_by(schema.links.c.updated_at)
        if since is not None:
            query = query.where(schema.links.c.updated_at >= since)
        return [_link(row) for row in self._run(lambda conn: conn.execute(query).all())]

    def delete_link(self, flow: str, custompms_id: str) -> bool:
        """Remove a link; False if there was none."""
        log.debug("unlink %s: custompms %s", flow, custompms_id)
        statement = schema.links.delete().where(
            schema.links.c.flow == flow, schema.links.c.custompms_id == custompms_id
        )
        return self._run(lambda conn: conn.execute(statement).rowcount > 0)

    # --- cursors ----------------------------------------------------------------------

    def get_cursor(self, side: str, kind: str, scope: str = "") -> str | None:
        """The saved feed position of ``side``'s ``kind`` (within ``scope``, e.g. a board)."""
        c = schema.cursors.c
        query = select(c.cursor).where(c.side == side, c.kind == kind, c.scope == scope)
        return self._run(lambda conn: conn.execute(query).scalar_one_or_none())

    def cursors(self, scope: str = "") -> dict[tuple[str, str], str]:
        """Every saved feed position within ``scope``, by (side, kind): one read for a cycle."""
        c = schema.cursors.c
        query = select(c.side, c.kind, c.cursor).where(c.scope == scope)
        return self._run(
            lambda conn: {(row.side, row.kind): row.cursor for row in conn.execute(query)}
        )

    def set_cursor(self, side: str, kind: str, cursor: str, scope: str = "") -> None:
        def operation(conn: Connection) -> None:
            insert = _insert(conn, schema.cursors).values(
                side=side, kind=kind, scope=scope, cursor=cursor, updated_at=_now()
            )
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["side", "kind", "scope"],
                    set_={
                        "cursor": insert.excluded.cursor,
                        "updated_at": insert.excluded.updated_at,
                    },
                )
            )

        self._run(operation)

    # --- journal ----------------------------------------------------------------------

    def add_intent(
        self,
        flow: str,
        target_side: str,
        source_id: str,
        idempotency_key: str,
        payload: Any,
        *,
        operation: str = "create",
    ) -> Intent:
        """Journal a write before making it. ``DuplicateIntentError`` if the key is taken."""
        log.debug("intent %s: %s on %s for %s", idempotency_key, operation, target_side, source_id)
        values = {
            "flow": flow,
            "target_side": _side(target_side, "target_side"),
            "source_id": source_id,
            "idempotency_key": idempotency_key,
            "operation": operation,
            "payload": _json(payload, "the intent's payload"),
            "created_at": _now(),
        }

        def run(conn: Connection) -> Intent:
            statement = schema.journal.insert().values(**values).returning(*schema.journal.c)
            try:
                with conn.begin_nested():
                    return _intent(conn.execute(statement).one())
            except exc.IntegrityError as err:
                existing = conn.execute(
                    select(schema.journal).where(
                        schema.journal.c.idempotency_key == idempotency_key
                    )
                ).one_or_none()
                raise DuplicateIntentError(
                    idempotency_key, _intent(existing) if existing else None
                ) from err

        return self._run(run)

    def complete_intent(self, intent_id: int, result_id: str) -> Intent:
        """Mark an intent done with the id of what it created (repeating it is harmless)."""
        log.debug("intent %s done: %s", intent_id, result_id)
        j = schema.journal.c

        def operation(conn: Connection) -> Intent:
            row = conn.execute(
                schema.journal.update()
                .where(j.id == intent_id, j.completed_at.is_(None))
                .values(completed_at=_now(), result_id=result_id)
                .returning(*schema.journal.c)
            ).one_or_none()
            if row is not None:
                return _intent(row)
            current = conn.execute(select(schema.journal).where(j.id == intent_id)).one_or_none()
            if current is None:
                raise StoreError(f"journal intent {intent_id} does not exist")
            if current.result_id != result_id:
                raise StoreError(
                    f"journal intent {intent_id} was already completed as {current.result_id}, "
                    f"not {result_id}: two writes answered one intent"
                )
            return _intent(current)

        return self._run(operation)

    def open_intents(self, flow: str | None = None) -> list[Intent]:
        """Intents whose write may or may not have happened, oldest first."""
        query = select(schema.journal).where(schema.journal.c.completed_at.is_(None))
        if flow is not None:
            query = query.where(schema.journal.c.flow == flow)
        query = query.order_by(schema.journal.c.id)
        return [_intent(row) for row in self._run(lambda conn: conn.execute(query).all())]

    def find_intent(self, idempotency_key: str) -> Intent | None:
        query = select(schema.journal).where(schema.journal.c.idempotency_key == idempotency_key)
        row = self._run(lambda conn: conn.execute(query).one_or_none())
        return _intent(row) if row is not None else None

    # --- conflicts --------------------------------------------------------------------

    def add_conflict(self, conflict: Conflict) -> int:
        """Log a conflict (its ``id`` must be None); return its new id."""
        if conflict.id is not None:
            raise ValueError(f"add_conflict takes a new conflict, not conflict {conflict.id}")
        winner = _side(conflict.winner, "winner") if conflict.winner is not None else None
        status = conflict.status or ("resolved_by_policy" if winner else "held")
        if status not in CONFLICT_STATUSES:
            raise ValueError(f"conflict status must be one of {CONFLICT_STATUSES}, not {status!r}")
        if (status == "held") != (winner is None):
            raise ValueError(f"a conflict with status {status!r} cannot have winner {winner!r}")
        values = {
            "flow": conflict.flow,
            "custompms_id": conflict.custompms_id,
            "trello_id": conflict.trello_id,
            "property": conflict.property,
            "base_value": _json(conflict.base_value, "base_value"),
            "custompms_value": _json(conflict.custompms_value, "custompms_value"),
            "trello_value": _json(conflict.trello_value, "trello_value"),
            "custompms_changed_at": conflict.custompms_changed_at,
            "trello_changed_at": conflict.trello_changed_at,
            "policy": conflict.policy,
            "winner": winner,
            "status": status,
            "created_at": conflict.created_at or _now(),
            "resolved_at": conflict.resolved_at,
            "resolution": conflict.resolution,
        }
        statement = schema.conflicts.insert().values(**values).returning(schema.conflicts.c.id)
        return int(self._run(lambda conn: conn.execute(statement).scalar_one()))

    def conflicts(
        self, status: str | tuple[str, ...] | None = None, *, flow: str | None = None
    ) -> list[Conflict]:
        """Logged conflicts, oldest first, optionally only those with ``status`` (one or a
        tuple of them) and ``flow``."""
        statuses = (status,) if isinstance(status, str) else status
        for one in statuses or ():
            if one not in CONFLICT_STATUSES:
                raise ValueError(f"conflict status must be one of {CONFLICT_STATUSES}, not {one!r}")
        query = select(schema.conflicts).order_by(schema.conflicts.c.id)
        if statuses is not None:
            query = query.where(schema.conflicts.c.status.in_(statuses))
        if flow is not None:
            query = query.where(schema.conflicts.c.flow == flow)
        return [_conflict(row) for row in self._run(lambda conn: conn.execute(query).all())]

    def get_conflict(self, conflict_id: int) -> Conflict | None:
        query = select(schema.conflicts).where(schema.conflicts.c.id == conflict_id)
        row = self._run(lambda conn: conn.execute(query).one_or_none())
        return _conflict(row) if row is not None else None

    def resolve_conflict(self, conflict_id: int, take: str) -> Conflict:
        """Record that a person took ``take``'s value; works on held and policy-settled ones.

        Applying that value to the systems is the engine's job; this only records it.
        """
        return self._settle(
            conflict_id, schema.conflicts.c.status != "resolved", _side(take, "take")
        )

    def _settle(self, conflict_id: int, allowed: Any, resolution: Any) -> Conflict:
        """Mark a conflict resolved with ``resolution`` where ``allowed`` holds; else say why."""
        c = schema.conflicts.c

        def operation(conn: Connection) -> Conflict:
            row = conn.execute(
                schema.conflicts.update()
                .where(c.id == conflict_id, allowed)
                .values(status="resolved", resolution=resolution, resolved_at=_now())
                .returning(*schema.conflicts.c)
            ).one_or_none()
            if row is not None:
                return _conflict(row)
            current = conn.execute(
                select(schema.conflicts).where(c.id == conflict_id)
            ).one_or_none()
            if current is None:
                raise StoreError(f"conflict {conflict_id} does not exist")
            if current.status == "held":
                raise StoreError(
                    f"conflict {conflict_id} is held for a person: take one side's value"
                )
            if current.status == "dismissed":
                raise StoreError(f"conflict {conflict_id} was dismissed")
            raise StoreError(
                f"conflict {conflict_id} was already resolved: {current.resolution}'s value "
                f"was taken at {current.resolved_at.isoformat()}"
            )

        return self._run(operation)

    def dismiss_conflict(self, conflict_id: int) -> Conflict:
        """Record that a person looked at a conflict and keeps things as they are."""
        c = schema.conflicts.c

        def operation(conn: Connection) -> Conflict:
            row = conn.execute(
                schema.conflicts.update()
                .where(c.id == conflict_id, c.status.in_(("held", "resolved_by_policy")))
                .values(status="dismissed", resolved_at=_now())
                .returning(*schema.conflicts.c)
            ).one_or_none()
            if row is not None:
                return _conflict(row)
            current = conn.execute(
                select(schema.conflicts).where(c.id == conflict_id)
            ).one_or_none()
            if current is None:
                raise StoreError(f"there is no conflict {conflict_id}; see `pmbridge conflicts`")
            raise StoreError(f"conflict {conflict_id} is already {current.status}")

        return self._run(operation)

    # --- what runs wrote ---------------------------------------------------------------

    def add_run_write(
        self,
        run_id: int,
        flow: str,
        side: str,
        kind: str,
        object_id: str,
        operation: str,
        before: Any,
        after: Any,
    ) -> None:
        """Record one write of run ``run_id`` (values are made plain JSON)."""
        values = {
            "run_id": run_id,
            "flow": flow,
            "side": _side(side, "side"),
            "kind": kind,
            "object_id": object_id,
            "operation": operation,
            "before": _json(_plain(before), "the values before"),
            "after": _json(_plain(after), "the values after"),
            "at": _now(),
        }
        statement = schema.run_writes.insert().values(**values)
        self._run(lambda conn: conn.execute(statement))

    def run_writes(self, run_id: int, *, limit: int = 1000) -> list[RunWrite]:
        """The writes of one run, in order (at most ``limit``)."""
        w = schema.run_writes.c
        query = select(schema.run_writes).where(w.run_id == run_id).order_by(w.id).limit(limit)
        rows = self._run(lambda conn: conn.execute(query).all())
        return [RunWrite(**row._mapping) for row in rows]

    # --- dead letters -----------------------------------------------------------------

    def add_dead_letter(
        self, flow: str, side: str, record_id: str, operation: str, error: str, payload: Any
    ) -> DeadLetter:
        """Record a failed write; the same write failing again bumps ``attempts``."""
        log.debug("dead letter %s %s %s (%s): %s", flow, side, record_id, operation, error)
        now = _now()
        values = {
            "flow": flow,
            "side": _side(side, "side"),
            "record_id": record_id,
            "operation": operation,
            "error": error,
            "payload": _json(payload, "the dead letter's payload"),
            "attempts": 1,
            "first_failed_at": now,
            "last_failed_at": now,
        }

        def run(conn: Connection) -> DeadLetter:
            insert = _insert(conn, schema.dead_letters).values(**values)
            upsert = insert.on_conflict_do_update(
                index_elements=["flow", "side", "record_id", "operation"],
                set_={
                    "error": insert.excluded.error,
                    "payload": insert.excluded.payload,
                    "attempts": schema.dead_letters.c.attempts + 1,
                    "last_failed_at": insert.excluded.last_failed_at,
                },
            ).returning(*schema.dead_letters.c)
            return _dead_letter(conn.execute(upsert).one())

        return self._run(run)

    def clear_dead_letter(self, flow: str, side: str, record_id: str, operation: str) -> bool:
        """Forget a failed write once it succeeded; False if none was recorded."""
        d = schema.dead_letters.c
        statement = schema.dead_letters.delete().where(
            d.flow == flow, d.side == side, d.record_id == record_id, d.operation == operation
        )
        return self._run(lambda conn: conn.execute(statement).rowcount > 0)

    def dead_letters(self, flow: str | None = None) -> list[DeadLetter]:
        """Recorded failed writes, oldest first."""
        query = select(schema.dead_letters).order_by(schema.dead_letters.c.id)
        if flow is not None:
            query = query.where(schema.dead_letters.c.flow == flow)
        return [_dead_letter(row) for row in self._run(lambda conn: conn.execute(query).all())]

    def get_dead_letter(self, letter_id: int) -> DeadLetter | None:
        query = select(schema.dead_letters).where(schema.dead_letters.c.id == letter_id)
        row = self._run(lambda conn: conn.execute(query).one_or_none())
        return _dead_letter(row) if row is not None else None

    def dismiss_dead_letter(self, letter_id: int) -> bool:
        """Forget a failed write by id, so no cycle retries it; False if there was none."""
        statement = schema.dead_letters.delete().where(schema.dead_letters.c.id == letter_id)
        return self._run(lambda conn: conn.execute(statement).rowcount > 0)


_LINK_KEY = frozenset({"flow", "custompms_id"})


@contextmanager
def _database_errors(url: URL) -> Iterator[None]:
    """Turn a failing database (gone, locked, out of space) into a ``StoreError``."""
    try:
        yield
    except exc.OperationalError as err:
        raise StoreError(
            f"the state store at {display_url(url)} failed: {describe_failure(err, url)}"
        ) from err


class Transaction(_Operations):
    """Store operations that all run in one database transaction (see ``Store.transaction``)."""

    def __init__(
        self, conn: Connection, url: URL, owner: Owner, clock: Callable[[], datetime] = _now
    ):
        self._conn = conn
        self._url = url
        self.owner = owner
        self.clock = clock

    def _run(self, operation: Callable[[Connection], T]) -> T:
        with _database_errors(self._url):
            return operation(self._conn)


class Store(_Operations):
    """An open state store. Each method call is its own transaction.

    Do not call ``store`` methods (or open a second transaction) while a
    ``store.transaction()`` is open in the same thread: on SQLite the second one waits for
    the first, which never finishes.
    """

    def __init__(self, engine: Engine, url: URL, schema_version: int):
        self._engine = engine
        self._url = url
        self.schema_version = schema_version
        self.owner = Owner.this_process()
        self.clock: Callable[[], datetime] = _now  # tests put a fake clock here

    @property
    def url(self) -> str:
        """The store's URL, password masked."""
        return display_url(self._url)

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._engine.dialect.name

    def _run(self, operation: Callable[[Connection], T]) -> T:
        with _database_errors(self._url), self._engine.begin() as conn:
            return operation(conn)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One database transaction: committed when the block ends, rolled back on exception."""
        with _database_errors(self._url), self._engine.begin() as conn:
            yield Transaction(conn, self._url, self.owner, self.clock)

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"


def open_store(url: str | URL, *, migrations: Migrations = MIGRATIONS) -> Store:
    """Open (creating or migrating) the state store at ``url``.

    Raises ``StoreError`` when it cannot be opened (naming the URL, password masked, and
    what to do) and ``SchemaVersionError`` when a newer pmbridge wrote it. ``migrations``
    is for tests and tools; pmbridge itself always uses its own registry.
    """
    parsed = parse_url(url)
    engine = create_store_engine(parsed)
    try:
        with engine.begin() as conn:
            migrations.apply(conn, where=display_url(parsed))
    except exc.DBAPIError as err:  # refused, unknown host or database, bad credentials…
        engine.dispose()
        raise unreachable(err, parsed) from err
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, parsed, migrations.latest)
