"""The SQLite schema of the reference Custompms (SQLAlchemy Core).

One table per resource. Besides its own properties every record row has ``version``
(1, 2, … one more per change), ``created_at`` / ``updated_at`` (RFC 3339 UTC strings, which
sort in time order), ``deleted`` (soft delete) and ``change_seq``: the value of the global
change counter (``meta.change_seq``) taken inside the transaction of the record's latest
change. The change feeds read records in ``change_seq`` order, and a cursor is a
``change_seq`` value.

Schema versions: 1 had no people and no task tags, assignees, checklist or links;
``MIGRATIONS`` brings a file of an older version up to ``SCHEMA_VERSION``, step by step.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

SCHEMA_VERSION = 2

metadata = MetaData()

# Named apart from the rest so that a file of another program is recognised as such.
meta = Table(
    "custompms_meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", Integer, nullable=False),
)


def _record_table(name: str, *columns: Column) -> Table:
    return Table(
        name,
        metadata,
        Column("id", String, primary_key=True),
        Column("version", Integer, nullable=False),
        Column("created_at", String, nullable=False),
        Column("updated_at", String, nullable=False),
        Column("deleted", Boolean, nullable=False),
        Column("change_seq", Integer, nullable=False, unique=True),
        *columns,
    )


customers = _record_table(
    "customers",
    Column("name", String, nullable=False),
    Column("description", String, nullable=False),
    Column("website", String),
)
projects = _record_table(
    "projects",
    Column("customer_id", String, index=True),
    Column("name", String, nullable=False),
    Column("description", String, nullable=False),
    Column("archived", Boolean, nullable=False),
)
tasks = _record_table(
    "tasks",
    Column("project_id", String, nullable=False, index=True),
    Column("title", String, nullable=False),
    Column("description", String, nullable=False),
    Column("status", String, nullable=False),
    Column("due_at", String),
    Column("start_at", String),
    Column("completed", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("position", Float),
    # JSON arrays: tags and assignees sorted strings; checklist [{id, text, done}];
    # links [{id, title, url}], in the order written.
    Column("tags", JSON, nullable=False, server_default="[]"),
    Column("assignees", JSON, nullable=False, server_default="[]"),
    Column("checklist", JSON, nullable=False, server_default="[]"),
    Column("links", JSON, nullable=False, server_default="[]"),
)
people = _record_table(
    "people",
    Column("email", String, nullable=False, index=True),
    Column("name", String, nullable=False),
)
comments = _record_table(
    "comments",
    Column("task_id", String, index=True),
    Column("project_id", String, index=True),
    Column("author", String),
    Column("text", String, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("resource", String, nullable=False),
    Column("key", String, nullable=False),
    Column("fingerprint", String, nullable=False),
    Column("record_id", String, nullable=False),
    PrimaryKeyConstraint("resource", "key"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String, primary_key=True),
    Column("url", String, nullable=False),
    Column("secret", String, nullable=False),
    Column("created_at", String, nullable=False),
)


def _tasks_carry_lists(conn: Connection) -> None:
    """Version 1 → 2: task tags, assignees, checklist and links (people: a new table)."""
    for name in ("tags", "assignees", "checklist", "links"):
        conn.exec_driver_sql(f"ALTER TABLE tasks ADD COLUMN {name} JSON NOT NULL DEFAULT '[]'")


# The step from each older schema version to the next one.
MIGRATIONS = {1: _tasks_carry_lists}
