"""create_app: its defaults and its refusals, in process (no socket needed)."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import httpx
import pytest

from pmbridge.sandbox.custompms import DEFAULT_TOKEN, create_app


async def test_defaults_to_a_temporary_database_and_the_default_token() -> None:
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://custompms") as client:
        auth = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        created = await client.post("/customers", json={"name": "Temp"}, headers=auth)
        assert created.status_code == 201
        assert (await client.get("/customers", headers=auth)).json()["items"] == [created.json()]
    assert app.state.control is app
    app.store.close()


async def test_control_routes_need_the_bearer_token() -> None:
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://custompms") as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": DEFAULT_TOKEN}):
            refused = await client.put("/_sandbox/faults", json={"error_rate": 1}, headers=headers)
            assert refused.status_code == 401
            assert refused.json() == {
                "error": "the sandbox's control routes (/_sandbox/...) need its credentials: "
                "send its API token as 'Authorization: Bearer TOKEN'"
            }
            assert (await client.get("/_sandbox/stats", headers=headers)).status_code == 401
        assert app.state.control.faults.error_rate == 0
        auth = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        changed = await client.put("/_sandbox/faults", json={"latency_ms": 1}, headers=auth)
        assert changed.status_code == 200 and changed.json()["latency_ms"] == 1
        stats = await client.get("/_sandbox/stats", headers=auth)
        assert stats.status_code == 200 and stats.json()["requests"] == 0
    app.store.close()


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("sqlite://", "needs a database file"),
        ("postgresql://localhost/pms", "stores its data in SQLite"),
        ("/no/such/dir/custompms.db", "cannot use the database"),
    ],
)
def test_unusable_databases_are_refused_clearly(db: str, message: str) -> None:
    with pytest.raises((ValueError, RuntimeError), match=message):
        create_app(db)


def test_a_file_of_another_program_is_not_touched(tmp_path: Path) -> None:
    other = tmp_path / "state.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE links (id TEXT)")
    with pytest.raises(RuntimeError, match="not a Custompms database"):
        create_app(str(other))
    with sqlite3.connect(other) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
    assert tables == ["links"]


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="token"):
        create_app(token="")


def test_a_new_database_file_is_private(tmp_path: Path) -> None:
    db = tmp_path / "custompms.db"
    app = create_app(str(db))
    try:
        app.store.counts()  # a read opens the write-ahead log too
        files = [db, *tmp_path.glob("custompms.db-*")]
        assert len(files) >= 2
        assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in files} == {
            path.name: 0o600 for path in files
        }
    finally:
        app.store.close()


async def test_a_version_1_database_is_migrated_and_keeps_its_records(tmp_path: Path) -> None:
    db = tmp_path / "v1.db"
    first = create_app(str(db), token="t")
    auth = {"Authorization": "Bearer t"}
    transport = httpx.ASGITransport(app=first)
    async with httpx.AsyncClient(transport=transport, base_url="http://custompms") as client:
        project = (await client.post("/projects", json={"name": "P"}, headers=auth)).json()
        task = (
            await client.post(
                "/tasks", json={"project_id": project["id"], "title": "Old"}, headers=auth
            )
        ).json()
    first.store.close()
    # Make the file what version 1 of the server left: no list columns, no people.
    with sqlite3.connect(db) as conn:
        for column in ("tags", "assignees", "checklist", "links"):
            conn.execute(f"ALTER TABLE tasks DROP COLUMN {column}")
        conn.execute("DROP TABLE people")
        conn.execute("UPDATE custompms_meta SET value = 1 WHERE key = 'schema_version'")

    again = create_app(str(db), token="t")
    transport = httpx.ASGITransport(app=again)
    async with httpx.AsyncClient(transport=transport, base_url="http://custompms") as client:
        read = (await client.get(f"/tasks/{task['id']}", headers=auth)).json()
        tagged = await client.patch(f"/tasks/{task['id']}", json={"tags": ["x"]}, headers=auth)
        person = await client.post(
            "/people", json={"email": "a@example.com", "name": "A"}, headers=auth
        )
    again.store.close()

    assert read == {**task, "tags": [], "assignees": [], "checklist": [], "links": []}
    assert tagged.json()["tags"] == ["x"] and tagged.json()["version"] == 2
    assert person.status_code == 201
    with sqlite3.connect(db) as conn:
        version = conn.execute(
            "SELECT value FROM custompms_meta WHERE key = 'schema_version'"
        ).fetchone()
    assert version == (2,)


def test_a_database_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    create_app(str(db)).store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE custompms_meta SET value = 99 WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="schema version 99; this server uses version 2"):
        create_app(str(db))


async def test_the_statuses_are_the_servers_own(tmp_path: Path) -> None:
    app = create_app(str(tmp_path / "s.db"), token="t", statuses=("open", "closed"))
    auth = {"Authorization": "Bearer t"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://custompms") as client:
        project = (await client.post("/projects", json={"name": "P"}, headers=auth)).json()
        body = {"project_id": project["id"], "title": "T", "status": "open"}
        made = await client.post("/tasks", json=body, headers=auth)
        refused = await client.post("/tasks", json={**body, "status": "todo"}, headers=auth)
        capabilities = (await client.get("/capabilities", headers=auth)).json()
    app.store.close()

    assert made.status_code == 201
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "status",
            "message": "'todo' is not a status of this Custompms; use one of: open, closed",
        }
    ]
    assert capabilities["statuses"] == ["open", "closed"]
    with pytest.raises(ValueError, match="at least one non-empty task status"):
        create_app(str(tmp_path / "none.db"), statuses=())
