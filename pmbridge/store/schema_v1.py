"""The state store's tables as schema version 1 created them, frozen for migration step 1.

Never edit this module: a store created by an older pmbridge has exactly these tables, and
later steps (``migrations.py``) change them with explicit DDL. ``schema.py`` is the latest.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, Text, UniqueConstraint

from pmbridge.store.schema import JSONValue, UTCDateTime

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
    Column("trello_version", Text),
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
)

TABLES = (meta, migrations, links, cursors, journal, conflicts, dead_letters, runs)
"""In creation order."""
