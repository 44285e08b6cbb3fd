"""The state store's tables, as SQLAlchemy Core metadata (the latest schema version).

Column types are portable between SQLite and PostgreSQL: ``UTCDateTime`` stores
timezone-aware UTC instants on both, ``JSONValue`` is JSONB on PostgreSQL and JSON text on
SQLite. The tables are created by the migration steps in ``migrations.py`` (version 1's
tables as they were are frozen in ``schema_v1.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant; refuses naive datetimes, always reads back in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the store: use UTC")
        value = value.astimezone(UTC)
        # SQLite keeps no offset: store the UTC wall time, re-attach UTC on the way out.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONValue: Any = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

migrations = Table(
    "migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("applied_at", UTCDateTime, nullable=False),
)

links = Table(
    "links",
    metadata,
    Column("flow", Text, primary_key=True),
    Column("custompms_id", Text, primary_key=True),
    Column("trello_id", Text, nullable=False),
    Column("base", JSONValue, nullable=False),
    Column("custompms_version", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("flow", "trello_id", name="links_flow_trello_id_key"),
)

cursors = Table(
    "cursors",
    metadata,
    Column("side", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("scope", Text, primary_key=True),
    Column("cursor", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

journal = Table(
    "journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", Text, nullable=False),
    Column("target_side", Text, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("operation", Text, nullable=False),
    Column("payload", JSONValue, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime),
    Column("result_id", Text),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", Text, nullable=False),
    Column("custompms_id", Text, nullable=False),
    Column("trello_id", Text, nullable=False),
    Column("property", Text, nullable=False),
    Column("base_value", JSONValue),
    Column("custompms_value", JSONValue),
    Column("trello_value", JSONValue),
    Column("custompms_changed_at", UTCDateTime),
    Column("trello_changed_at", UTCDateTime),
    Column("policy", Text, nullable=False),
    Column("winner", Text),
    Column("status", Text, nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("resolution", Text),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("record_id", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("payload", JSONValue, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", UTCDateTime, nullable=False),
    Column("last_failed_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "flow", "side", "record_id", "operation", name="dead_letters_flow_side_record_op_key"
    ),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", Text, nullable=False),
    Column("summary", JSONValue),
    Column("error", Text),
    # Who runs it, and until when it counts as alive unless its heartbeat renews it.
    Column("owner", Text),
    Column("heartbeat_at", UTCDateTime),
    Column("lease_expires_at", UTCDateTime),
)

leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

registrations = Table(
    "registrations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("system", Text, nullable=False),
    Column("remote_id", Text, nullable=False),
    Column("callback_url", Text, nullable=False),
    Column("model_id", Text),
    Column("owner", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("system", "remote_id", name="registrations_system_remote_id_key"),
)

# Every write a run made, with the values it replaced and the ones it wrote (native fields).
run_writes = Table(
    "run_writes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False, index=True),
    Column("flow", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("object_id", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("before", JSONValue),
    Column("after", JSONValue),
    Column("at", UTCDateTime, nullable=False),
)

# What a connector learned about its system and keeps between runs (``memos.py``): per
# system, JSON values by key (Trello: a board's lists, with the feed position they hold at).
memos = Table(
    "memos",
    metadata,
    Column("system", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("value", JSONValue, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

PMBRIDGE_TABLES = frozenset(table.name for table in metadata.sorted_tables)
