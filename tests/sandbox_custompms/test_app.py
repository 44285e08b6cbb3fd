"""create_app: its defaults and its refusals, in process (no socket needed)."""

from __future__ import annotations

import sqlite3
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
