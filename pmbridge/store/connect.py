"""Turn a database URL into a configured SQLAlchemy engine, or a clear ``StoreError``.

SQLite (the embedded default) gets WAL mode, a busy timeout, foreign keys, and
``BEGIN IMMEDIATE`` transactions, so that two processes writing one file wait for each
other instead of failing; a new file is created with mode 0600 (its -wal and -shm files
follow it), since it holds the ids and contents of what is synced. PostgreSQL URLs use
psycopg 3 (``postgresql://`` is read as ``postgresql+psycopg://``) with a connect timeout,
so a server that does not answer fails fast. Messages show the URL with its password
masked; a URL pmbridge cannot use is a ``StoreError`` that says how to write it.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, exc, make_url
from sqlalchemy.pool import StaticPool

from pmbridge.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 15_000
POSTGRES_CONNECT_TIMEOUT_S = 5
_EXAMPLES = "sqlite:///./pmbridge.db or postgresql+psycopg://user:password@host:5432/dbname"


def _interned(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {sys.intern(key): value for key, value in pairs}


def load_json(text: str) -> Any:
    """JSON from the store, its object keys interned: a hundred thousand links' bases share
    one copy of each property name instead of holding their own."""
    return json.loads(text, object_pairs_hook=_interned)


def _enable_wal(cursor: Any, patience_s: float) -> None:
    """Switch the file to WAL. The switch needs a lock for which SQLite does not wait (the
    busy timeout does not apply), so workers opening one new file at once take turns."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def display_url(url: URL | str) -> str:
    """``url`` as safe to show: the password replaced by ``***``."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def parse_url(raw: str | URL) -> URL:
    """Parse and normalise a store URL; refuse what pmbridge cannot open."""
    try:
        url = make_url(raw)
    except exc.ArgumentError as err:
        raise StoreError(
            f"{display_url(raw)!r} is not a database URL; use for example {_EXAMPLES}"
        ) from err
    backend = url.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql":
        # psycopg 3 is the driver pmbridge installs; plain postgresql:// means it too.
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        _check_sqlite_url(url)
        return url.set(drivername="sqlite")
    raise StoreError(
        f"the state store URL {display_url(url)} uses {backend!r}; pmbridge stores its state "
        f"in SQLite or PostgreSQL: use for example {_EXAMPLES}"
    )


def _check_sqlite_url(url: URL) -> None:
    if url.host or url.port or url.username:
        # sqlite://./x.db: the path after two slashes is read as a host.
        path = f"{url.host or ''}{'/' + url.database if url.database else ''}"
        raise StoreError(
            f"the state store URL {display_url(url)} names no file: a SQLite URL has three "
            f"slashes before a relative path and four before an absolute one; write "
            f"sqlite:///{path} (or sqlite:////var/lib/pmbridge/pmbridge.db)"
        )
    timeout = url.query.get("timeout")
    if timeout is not None:
        try:
            valid = float(timeout if isinstance(timeout, str) else timeout[-1]) >= 0
        except ValueError:
            valid = False
        if not valid:
            raise StoreError(
                f"the state store URL {display_url(url)} has timeout={timeout!r}, which is not a "
                "number of seconds; write e.g. ?timeout=15 (how long to wait for another "
                "process writing the same file) or leave it out"
            )


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_store_engine(url: URL) -> Engine:
    """An engine for a URL from ``parse_url``; does not connect yet."""
    try:
        return _create_engine(url)
    except exc.ArgumentError as err:  # what parse_url could not foresee
        raise StoreError(
            f"the state store URL {display_url(url)} cannot be used: {err}; use for example "
            f"{_EXAMPLES}"
        ) from err


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {"application_name": "pmbridge"}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    return create_engine(
        url, connect_args=connect_args, pool_pre_ping=True, json_deserializer=load_json
    )


def _sqlite_engine(url: URL) -> Engine:
    if is_memory(url):
        # One shared connection, or every connection would see its own empty database.
        engine = create_engine(
            url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            json_deserializer=load_json,
        )
    else:
        directory = Path(url.database or "").resolve().parent
        if not directory.is_dir():
            raise StoreError(
                f"cannot open the state store at {display_url(url)}: the directory "
                f"{directory} does not exist; create it (mkdir -p {directory}) or set "
                "PMBRIDGE_DATABASE_URL to a file in an existing directory"
            )
        if not url.query.get("uri"):  # a file: URI is SQLite's own business
            _create_private(Path(url.database or ""))
        engine = create_engine(url, json_deserializer=load_json)
    # ``?timeout=SECONDS`` in the URL (checked by ``parse_url``) sets how long to wait for
    # another writer.
    timeout = url.query.get("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    busy_ms = int(float(timeout if isinstance(timeout, str | float) else timeout[-1]) * 1000)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" below emit BEGIN, not the sqlite3 module's own guesswork.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        _enable_wal(cursor, busy_ms / 1000)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Take the write lock up front: a deferred transaction that reads, then writes after
        # another process committed fails at once (SQLITE_BUSY_SNAPSHOT), busy_timeout or not.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _create_private(path: Path) -> None:
    """Create the store's file readable and writable by its owner only (0600), unless it
    exists. SQLite gives the -wal and -shm files it creates next to it the same mode."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # SQLite says why when it opens the file, and that message names the URL
    os.close(descriptor)


def describe_failure(err: exc.DBAPIError, url: URL) -> str:
    """The driver's reason for ``err``, on one line, without the URL's password."""
    reason = str(err.orig).strip().splitlines()[0] if err.orig is not None else str(err)
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason


def unreachable(err: exc.DBAPIError, url: URL) -> StoreError:
    """The error for a store that cannot be opened at all."""
    if url.get_backend_name() == "sqlite":
        hint = "check the path and that pmbridge may read and write it and its directory"
    else:
        hint = (
            "check that PostgreSQL runs there, accepts this user and database, and that "
            "PMBRIDGE_DATABASE_URL is right"
        )
    return StoreError(
        f"cannot open the state store at {display_url(url)}: {describe_failure(err, url)}; {hint}"
    )
