"""Schema versions: a registry of named migration steps, applied in order and recorded.

Step N brings the schema from version N-1 to N. The store's ``meta`` table holds
``schema_version``; the ``migrations`` table records each applied step by version and name
(the sqlite-utils way: plain functions, no alembic). Opening a store applies the pending
steps in one transaction; a store written by a newer pmbridge is refused.

A released step never changes: a later schema change is a new step, written with explicit
DDL (``ALTER TABLE … `` through ``conn.execute``). Step 1 creates the tables frozen in
``schema_v1.py``; a step that creates a table from ``schema.py`` must freeze it the same way
before a later step changes that table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, DateTime, inspect, select, text

from pmbridge.errors import SchemaVersionError, StoreError
from pmbridge.store import schema, schema_v1

MigrationStep = Callable[[Connection], None]

# Any constant works; it only has to be the same for every pmbridge opening the same database.
_PG_MIGRATION_LOCK = 0x706D6272  # "pmbr"


@dataclass(frozen=True, slots=True)
class Migration:
    """One registered step: applying it brings the schema to ``version``."""

    version: int
    name: str
    step: MigrationStep


class Migrations:
    """An ordered registry of migration steps; register one with ``@registry``."""

    def __init__(self) -> None:
        self._steps: list[Migration] = []

    def __call__(self, step: MigrationStep) -> MigrationStep:
        if any(m.name == step.__name__ for m in self._steps):
            raise ValueError(f"migration {step.__name__!r} is registered twice")
        self._steps.append(Migration(len(self._steps) + 1, step.__name__, step))
        return step

    @property
    def latest(self) -> int:
        """The schema version this registry brings a store to."""
        return len(self._steps)

    def pending(self, conn: Connection) -> list[Migration]:
        """The steps not yet applied to the database behind ``conn`` (read only)."""
        return self._steps[current_version(conn) :]

    def apply(self, conn: Connection, *, where: str) -> list[Migration]:
        """Bring the store up to ``latest`` inside the caller's transaction; return what ran.

        ``where`` names the store in messages (its URL without password). Raises
        ``SchemaVersionError`` when the store is newer than this registry knows.
        """
        if conn.dialect.name == "postgresql":
            # Workers opening one database at once migrate one after the other.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        version = current_version(conn)
        if version > self.latest:
            raise SchemaVersionError(
                f"the state store at {where} was written by pmbridge schema {version}; "
                f"this pmbridge knows up to {self.latest}: upgrade pmbridge"
            )
        if version == 0:
            _refuse_foreign_tables(conn, where)
        ran = self._steps[version:]
        for migration in ran:
            migration.step(conn)
            _record(conn, migration)
        return ran


def current_version(conn: Connection) -> int:
    """The schema version recorded in the store; 0 for an empty database."""
    if not inspect(conn).has_table(schema.meta.name):
        return 0
    value = conn.execute(
        select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).scalar_one_or_none()
    return int(value) if value is not None else 0


def _refuse_foreign_tables(conn: Connection, where: str) -> None:
    clashing = sorted(schema.PMBRIDGE_TABLES & set(inspect(conn).get_table_names()))
    if clashing:
        raise StoreError(
            f"the database at {where} already has tables named {', '.join(clashing)} but no "
            "pmbridge schema version: it is not a pmbridge state store; "
            "point PMBRIDGE_DATABASE_URL at an empty database or a pmbridge store"
        )


def _record(conn: Connection, migration: Migration) -> None:
    conn.execute(
        schema.migrations.insert().values(
            version=migration.version, name=migration.name, applied_at=datetime.now(UTC)
        )
    )
    updated = conn.execute(
        schema.meta.update()
        .where(schema.meta.c.key == "schema_version")
        .values(value=str(migration.version))
    )
    if updated.rowcount == 0:
        conn.execute(
            schema.meta.insert().values(key="schema_version", value=str(migration.version))
        )


MIGRATIONS = Migrations()
"""The migrations of this pmbridge; ``MIGRATIONS.latest`` is its schema version."""


@MIGRATIONS
def create_tables(conn: Connection) -> None:
    """Version 1: links, cursors, journal, conflicts, dead letters, runs (and meta)."""
    for table in schema_v1.TABLES:
        table.create(conn)


@MIGRATIONS
def track_processes(conn: Connection) -> None:
    """Version 2: runs get an owner and a heartbeat; leases; what ``serve`` registered;
    ``links.trello_version`` (never used) goes."""
    timestamp = DateTime(timezone=True).compile(dialect=conn.dialect)
    conn.execute(text("ALTER TABLE links DROP COLUMN trello_version"))
    conn.execute(text("ALTER TABLE runs ADD COLUMN owner TEXT"))
    conn.execute(text(f"ALTER TABLE runs ADD COLUMN heartbeat_at {timestamp}"))
    conn.execute(text(f"ALTER TABLE runs ADD COLUMN lease_expires_at {timestamp}"))
    schema.leases.create(conn)
    schema.registrations.create(conn)


@MIGRATIONS
def record_writes(conn: Connection) -> None:
    """Version 3: every write of a run, with the values before and after (``run_writes``)."""
    schema.run_writes.create(conn)


@MIGRATIONS
def keep_memos(conn: Connection) -> None:
    """Version 4: what connectors learned and keep between runs (``memos``)."""
    schema.memos.create(conn)


SCHEMA_VERSION = MIGRATIONS.latest
