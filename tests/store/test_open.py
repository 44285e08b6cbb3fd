"""Opening a store: creation, schema versions and migrations, and unusable URLs."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, inspect, text

from pmbridge.errors import SchemaVersionError, StoreError
from pmbridge.sockets import free_port
from pmbridge.store import MIGRATIONS, SCHEMA_VERSION, Link, Migrations, open_store
from pmbridge.store.connect import display_url, parse_url
from pmbridge.store.migrations import (
    create_tables,
    keep_memos,
    record_writes,
    track_processes,
)


def test_a_new_store_is_created_at_the_current_schema_version(
    store_url: str, raw_engine: Engine
) -> None:
    with open_store(store_url) as store:
        assert store.schema_version == SCHEMA_VERSION == 4
    with raw_engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        applied = conn.execute(text("SELECT version, name FROM migrations ORDER BY version")).all()
        version = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'"))
        assert version.scalar_one() == "4"
    assert {"links", "cursors", "journal", "conflicts", "dead_letters", "runs"} <= tables
    assert {"leases", "registrations", "run_writes", "memos"} <= tables
    assert [tuple(row) for row in applied] == [
        (1, "create_tables"),
        (2, "track_processes"),
        (3, "record_writes"),
        (4, "keep_memos"),
    ]


def test_reopening_keeps_the_data_and_applies_nothing_again(
    store_url: str, raw_engine: Engine
) -> None:
    with open_store(store_url) as store:
        store.put_link(Link("task", "cp-1", "tr-1", base={"title": "Ship"}))
    with open_store(store_url) as store:
        link = store.get_link("task", custompms_id="cp-1")
    assert link is not None and link.base == {"title": "Ship"}
    with raw_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM migrations")).scalar_one() == 4


def test_a_store_from_a_newer_pmbridge_is_refused(store_url: str, raw_engine: Engine) -> None:
    open_store(store_url).close()
    with raw_engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '9' WHERE key = 'schema_version'"))
    with pytest.raises(SchemaVersionError) as caught:
        open_store(store_url)
    assert str(caught.value) == (
        f"the state store at {display_url(parse_url(store_url))} was written by pmbridge "
        "schema 9; this pmbridge knows up to 4: upgrade pmbridge"
    )


def _with_note_column() -> Migrations:
    """This pmbridge's steps plus a second one, as a later pmbridge would register it."""
    registry = Migrations()
    registry(create_tables)
    registry(track_processes)
    registry(record_writes)
    registry(keep_memos)

    @registry
    def add_link_note(conn: Connection) -> None:
        conn.execute(text("ALTER TABLE links ADD COLUMN note TEXT"))
        conn.execute(text("UPDATE links SET note = 'migrated'"))

    return registry


def test_an_older_store_is_migrated_forward_step_by_step(
    store_url: str, raw_engine: Engine
) -> None:
    with open_store(store_url) as store:
        store.put_link(Link("task", "cp-1", "tr-1", base={"title": "Ship"}))

    later = _with_note_column()
    with open_store(store_url, migrations=later) as store:
        assert store.schema_version == 5
        link = store.get_link("task", trello_id="tr-1")
    assert link is not None and link.base == {"title": "Ship"}
    with raw_engine.connect() as conn:
        applied = conn.execute(text("SELECT version, name FROM migrations ORDER BY version"))
        assert [tuple(row) for row in applied] == [
            (1, "create_tables"),
            (2, "track_processes"),
            (3, "record_writes"),
            (4, "keep_memos"),
            (5, "add_link_note"),
        ]
        assert conn.execute(text("SELECT note FROM links")).scalar_one() == "migrated"

    # Going back to this pmbridge is refused: it does not know schema 5.
    with pytest.raises(SchemaVersionError, match="written by pmbridge schema 5; this pmbridge"):
        open_store(store_url)


def test_a_schema_1_store_is_migrated_to_the_latest_with_its_data(
    store_url: str, raw_engine: Engine
) -> None:
    first = Migrations()
    first(create_tables)
    open_store(store_url, migrations=first).close()
    with raw_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO links (flow, custompms_id, trello_id, base, custompms_version, "
                "trello_version, created_at, updated_at) VALUES ('task', 'cp-1', 'tr-1', "
                "'{\"title\": \"Ship\"}', '3', 'x', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
        )
        conn.execute(
            text("INSERT INTO runs (started_at, status) VALUES ('2025-01-01 00:00:00', 'running')")
        )
    with open_store(store_url) as store:
        assert store.schema_version == SCHEMA_VERSION
        link = store.get_link("task", trello_id="tr-1")
        # A run left running by a pmbridge of schema 1 has no owner to wait for.
        [interrupted] = store.mark_interrupted_runs()
    assert link is not None and link.base == {"title": "Ship"} and link.custompms_version == "3"
    assert interrupted.status == "interrupted"
    with raw_engine.connect() as conn:
        columns = {column["name"] for column in inspect(conn).get_columns("links")}
        run_columns = {column["name"] for column in inspect(conn).get_columns("runs")}
    assert "trello_version" not in columns
    assert {"owner", "heartbeat_at", "lease_expires_at"} <= run_columns
    with raw_engine.connect() as conn:
        assert {"run_writes", "memos"} <= set(inspect(conn).get_table_names())


def test_an_empty_database_runs_every_step_in_order(store_url: str, raw_engine: Engine) -> None:
    with open_store(store_url, migrations=_with_note_column()) as store:
        assert store.schema_version == 5
    with raw_engine.connect() as conn:
        columns = {column["name"] for column in inspect(conn).get_columns("links")}
    assert "note" in columns


def test_workers_opening_a_new_store_at_once_migrate_it_once(
    store_url: str, raw_engine: Engine
) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def open_and_close() -> None:
        start.wait()
        try:
            open_store(store_url).close()
        except BaseException as err:
            errors.append(err)

    workers = [threading.Thread(target=open_and_close) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert errors == []
    with raw_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM migrations")).scalar_one() == 4


def test_a_database_of_another_application_is_not_taken_over(
    store_url: str, raw_engine: Engine
) -> None:
    with raw_engine.begin() as conn:
        conn.execute(text("CREATE TABLE links (id INTEGER PRIMARY KEY, url TEXT)"))
    with pytest.raises(StoreError, match="already has tables named links but no pmbridge"):
        open_store(store_url)


def test_sqlite_store_uses_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_new_sqlite_store_and_its_wal_files_are_private(tmp_path: Path) -> None:
    # The usual umask, which would leave a new file readable by everyone.
    before = os.umask(0o022)
    try:
        path = tmp_path / "state.db"
        with open_store(f"sqlite:///{path}") as store:
            store.put_link(Link("tasks", custompms_id="t1", trello_id="c1", base={"title": "x"}))
            files = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    finally:
        os.umask(before)
    assert files == {"state.db": 0o600, "state.db-wal": 0o600, "state.db-shm": 0o600}


def test_an_existing_sqlite_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    open_store(f"sqlite:///{path}").close()
    assert path.stat().st_mode & 0o777 == 0o640


def test_sqlite_in_a_missing_directory_names_the_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{missing}/pmbridge.db")
    assert str(caught.value) == (
        f"cannot open the state store at sqlite:///{missing}/pmbridge.db: the directory "
        f"{missing} does not exist; create it (mkdir -p {missing}) or set "
        "PMBRIDGE_DATABASE_URL to a file in an existing directory"
    )


def test_a_postgres_server_that_does_not_answer_is_named_without_its_password() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(StoreError) as caught:
        open_store(f"postgresql://pmbridge:s3cret-pw@127.0.0.1:{port}/state")
    message = str(caught.value)
    assert message.startswith(
        f"cannot open the state store at postgresql+psycopg://pmbridge:***@127.0.0.1:{port}/state: "
    )
    assert "check that PostgreSQL runs there" in message
    assert "s3cret-pw" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root:hunter2@db/state", "uses 'mysql'; pmbridge stores its state in SQLite"),
        ("not a url", "'not a url' is not a database URL; use for example sqlite:///"),
        ("sqlite://./x.db", r"names no file: .* write sqlite:///\./x\.db "),
        ("sqlite:///x.db?timeout=-1", "timeout='-1', which is not a number of seconds"),
        ("sqlite:///x.db?timeout=abc", "timeout='abc', which is not a number of seconds"),
    ],
)
def test_urls_pmbridge_cannot_use_are_refused(url: str, expected: str) -> None:
    with pytest.raises(StoreError, match=expected) as caught:
        open_store(url)
    assert "hunter2" not in str(caught.value)


def test_the_store_shows_its_url_without_the_password(store_url: str) -> None:
    url = parse_url(store_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(password="s3cret-pw")  # the test server trusts, so any password works
    with open_store(url) as store:
        assert "s3cret-pw" not in store.url
        assert "s3cret-pw" not in repr(store)
        assert store.url == display_url(url)


def test_the_registry_refuses_a_step_registered_twice() -> None:
    registry = Migrations()
    registry(create_tables)
    with pytest.raises(ValueError, match="'create_tables' is registered twice"):
        registry(create_tables)
    assert MIGRATIONS.latest == SCHEMA_VERSION


def test_an_in_memory_sqlite_store_keeps_its_data_between_calls() -> None:
    with open_store("sqlite://") as store:
        store.put_link(Link("task", "cp-1", "tr-1"))
        store.set_cursor("custompms", "task", "7")
        assert store.count_links("task") == 1
        assert store.get_cursor("custompms", "task") == "7"


def test_a_store_locked_too_long_by_another_process_is_a_store_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}?timeout=0.2"
    with open_store(url) as store:
        other = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            with pytest.raises(StoreError) as caught:
                store.put_link(Link("task", "cp-1", "tr-1"))
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert str(caught.value) == f"the state store at {url} failed: database is locked"
        store.put_link(Link("task", "cp-1", "tr-1"))
        assert store.count_links("task") == 1
