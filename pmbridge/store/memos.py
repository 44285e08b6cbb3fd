"""What connectors learned about their systems, kept between runs: per system, JSON values
by key (the ``memos`` table).

A connector reads its memo once (``SystemMemo.load``) and writes back what changed
(``SystemMemo.save``; ``None`` deletes a key). The store keeps the values as given and knows
nothing of what they mean: a connector stores with each fact what lets a later run check it
(Trello: the feed position a board's lists were known at), since any later run of any
process may read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, exc, select
from sqlalchemy.dialects import postgresql, sqlite

from pmbridge.errors import StoreError
from pmbridge.store import schema
from pmbridge.store.rows import checked_json

T = TypeVar("T")


class MemoOperations:
    """Reading and writing memos; mixed into the store's operations."""

    clock: Callable[[], datetime]

    def _run(self, operation: Callable[[Connection], T]) -> T:
        raise NotImplementedError

    def memo(self, system: str) -> dict[str, Any]:
        """Everything kept for ``system``: key → value."""
        c = schema.memos.c
        query = select(c.key, c.value).where(c.system == system)
        return {row.key: row.value for row in self._run(lambda conn: conn.execute(query).all())}

    def put_memo(self, system: str, values: Mapping[str, Any]) -> None:
        """Set each key of ``values`` for ``system``; a ``None`` value deletes its key."""
        now = self.clock()
        kept = {k: checked_json(v, f"the memo value {k!r}") for k, v in values.items()}

        def operation(conn: Connection) -> None:
            c = schema.memos.c
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            for key, value in sorted(kept.items()):
                if value is None:
                    conn.execute(schema.memos.delete().where(c.system == system, c.key == key))
                    continue
                insert = dialect.insert(schema.memos).values(
                    system=system, key=key, value=value, updated_at=now
                )
                conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=[c.system, c.key],
                        set_={"value": insert.excluded.value, "updated_at": now},
                    )
                )

        if kept:
            self._run(operation)


class SystemMemo:
    """One system's memo in a store, as a connector uses it (``systems.base.Memo``).

    ``read_only``: saving does nothing (a dry run writes nothing). Any failure of the
    database is a ``StoreError``.
    """

    def __init__(self, store: MemoOperations, system: str, *, read_only: bool = False):
        self.store = store
        self.system = system
        self.read_only = read_only

    def load(self) -> dict[str, Any]:
        with _as_store_error("read"):
            return self.store.memo(self.system)

    def save(self, values: Mapping[str, Any]) -> None:
        if self.read_only:
            return
        with _as_store_error("write"):
            self.store.put_memo(self.system, values)


@contextmanager
def _as_store_error(doing: str) -> Iterator[None]:
    try:
        yield
    except exc.DBAPIError as err:  # e.g. a user with read-only rights
        raise StoreError(f"could not {doing} the memo: {type(err.orig).__name__}") from err
