"""``pmbridge check custompms`` against the reference Custompms and broken variants of it.

The broken variants wrap the reference app in small ASGI middlewares (below); the server
itself is not changed.
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner, Result

from pmbridge.cli.app import app
from pmbridge.sandbox.custompms import CustompmsApp
from pmbridge.sandbox.server import ServerThread
from pmbridge.sockets import free_port
from tests.check_custompms.middlewares import rewrite_answers

NAMES = {
    "tombstones": "feed: a deleted record appears as a tombstone",
    "completeness": "feed: every change appears once (paging)",
    "idempotent": "create: a reused Idempotency-Key returns the first record",
    "key conflict": "create: a reused Idempotency-Key with another body is refused (422)",
    "stale": "update: a stale If-Match is refused (412)",
    "cleanup": "cleanup: everything the suite created is soft-deleted",
}
CRUD = [
    f"{r}: create, read, update, delete" for r in ("customers", "projects", "tasks", "comments")
]


def run_check(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    # A wide terminal keeps every table row on one line.
    return CliRunner().invoke(
        app, ["check", "custompms", url, *args], env={"COLUMNS": "400", **(env or {})}
    )


def rows(result: Result) -> dict[str, str]:
    """check name → its table row, for every row of the results table."""
    table: dict[str, str] = {}
    for line in result.stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) == 5 and cells[2] in ("pass", "FAIL"):
            table[cells[1]] = f"{cells[2]} {cells[3]}"
    return table


def failing(result: Result) -> dict[str, str]:
    return {name: row[5:] for name, row in rows(result).items() if row.startswith("FAIL")}


def strip_request_header(header: bytes, method: str) -> Any:
    """An implementation that never sees ``header`` on ``method`` requests."""

    def middleware(inner: Any) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["method"] == method:
                kept = [(k, v) for k, v in scope["headers"] if k.lower() != header]
                scope = {**scope, "headers": kept}
            await inner(scope, receive, send)

        return app

    return middleware


def _live_items_only(path: str, status: int, body: Any, headers: dict[bytes, bytes]) -> Any:
    if status == 200 and path.count("/") == 1 and isinstance(body, dict) and "items" in body:
        body = {**body, "items": [item for item in body["items"] if not item.get("deleted")]}
    return status, body


# An implementation whose change feeds leave deleted records out.
drop_tombstones = rewrite_answers(_live_items_only)


def test_the_reference_server_passes_every_check(
    custompms_server: ServerThread, custompms_app: CustompmsApp, custompms_token: str
) -> None:
    result = run_check(custompms_server.url, "--token", custompms_token)

    table = rows(result)
    assert result.exit_code == 0, result.output
    assert len(table) >= 17 and all(row.startswith("pass") for row in table.values())
    assert {NAMES["tombstones"], NAMES["idempotent"], NAMES["stale"], *CRUD} <= set(table)
    assert f"{len(table)} of {len(table)} checks passed." in result.stdout
    assert "Custompms conformance" in result.stdout
    assert custompms_token not in result.output
    # Everything the suite made is soft-deleted again.
    assert table[NAMES["cleanup"]].startswith("pass")
    assert custompms_app.store.counts() == {
        "customers": 0,
        "projects": 0,
        "tasks": 0,
        "comments": 0,
        "people": 0,
    }


def test_a_feed_without_tombstones_fails(serve: Any, custompms_token: str) -> None:
    result = run_check(serve(drop_tombstones), "--token", custompms_token)

    failed = failing(result)
    assert result.exit_code == 1
    assert set(failed) == {NAMES["tombstones"], NAMES["completeness"], *CRUD}
    assert "left out the deleted task" in failed[NAMES["tombstones"]]
    assert "expected its tombstone" in failed[NAMES["tombstones"]]
    assert "expected one tombstone" in failed[CRUD[2]]


def test_a_post_that_ignores_the_idempotency_key_fails(serve: Any, custompms_token: str) -> None:
    result = run_check(
        serve(strip_request_header(b"idempotency-key", "POST")), "--token", custompms_token
    )

    failed = failing(result)
    assert result.exit_code == 1
    assert set(failed) == {NAMES["idempotent"], NAMES["key conflict"]}
    assert failed[NAMES["idempotent"]].startswith(
        "POST /tasks with a reused Idempotency-Key created a second record (ids "
    )
    assert "created a second record" in failed[NAMES["key conflict"]]
    assert "expected 422" in failed[NAMES["key conflict"]]


def test_a_patch_that_ignores_if_match_fails(serve: Any, custompms_token: str) -> None:
    result = run_check(
        serve(strip_request_header(b"if-match", "PATCH")), "--token", custompms_token
    )

    failed = failing(result)
    assert result.exit_code == 1
    assert set(failed) == {NAMES["stale"]}
    assert 'with a stale If-Match ("1"; the record is at version 2)' in failed[NAMES["stale"]]
    assert "answered 200 and changed the record: expected 412" in failed[NAMES["stale"]]


def test_a_refused_token_fails_at_once(custompms_server: ServerThread) -> None:
    result = run_check(custompms_server.url, env={"PMBRIDGE_CUSTOMPMS_TOKEN": "not-the-token"})

    failed = failing(result)
    assert result.exit_code == 1
    assert len(rows(result)) == 1
    (reason,) = failed.values()
    assert "answered 401" in reason and "not-the-token" not in result.output


def test_an_unreachable_server_exits_2_with_one_line() -> None:
    port = free_port()

    result = run_check(f"http://127.0.0.1:{port}", "--token", "t")

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: Custompms at 127.0.0.1:{port} cannot be reached")
    assert "cannot be reached" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["http://127.0.0.1:1"],
            "no Custompms token: pass --token or set PMBRIDGE_CUSTOMPMS_TOKEN",
        ),
        (["localhost:8765", "--token", "t"], "is not an http(s) URL with a host"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(app, ["check", "custompms", *args], env={"COLUMNS": "400"})

    assert result.exit_code == 2
    assert expected in result.stderr
