"""``pmbridge check custompms``: contract 1.1's optional parts, a 1.0-only implementation,
one with some of the parts, one that declares a part it breaks, and one that echoes the
token back.

The 1.0 and partial ones are the reference app made with fewer features; the misbehaving
variants wrap it in small ASGI middlewares.
"""

from __future__ import annotations

from typing import Any

import pytest

from pmbridge.sandbox.server import ServerThread
from tests.check_custompms.middlewares import rewrite_answers
from tests.check_custompms.test_check_cli import failing, rows, run_check

CAPABILITIES = "capabilities: the contract version and optional parts declared"
OPTIONAL = {
    "tags": "tags (optional): a set, replaced whole by PATCH",
    "assignees": "assignees (optional): people by email, replaced whole",
    "checklist": "checklist (optional): ordered items keep their ids",
    "links": "links (optional): items keep their ids",
    "people": "people (optional): GET /people is a change feed",
}


def checklist_without_ids(path: str, status: int, body: Any, headers: dict[bytes, bytes]) -> Any:
    """Declares every part, but answers checklist items without their ids."""
    if path.startswith("/tasks/") or path == "/tasks":
        if isinstance(body, dict) and isinstance(body.get("checklist"), list):
            body = {
                **body,
                "checklist": [{"text": i["text"], "done": i["done"]} for i in body["checklist"]],
            }
    return status, body


def echo_the_token(path: str, status: int, body: Any, headers: dict[bytes, bytes]) -> Any:
    """Answers a 404 as a 400 that quotes the Authorization header it was sent."""
    if status == 404:
        sent = headers.get(b"authorization", b"").decode()
        return 400, {**body, "status": 400, "detail": f"{sent} may not read {path}"}
    return status, body


def test_the_reference_server_declares_and_passes_every_optional_part(
    custompms_server: ServerThread, custompms_token: str
) -> None:
    result = run_check(custompms_server.url, "--token", custompms_token)

    table = rows(result)
    assert result.exit_code == 0, result.output
    assert table[CAPABILITIES] == (
        "pass contract 1.1.0; supports tags, assignees, checklist, links, people; "
        "statuses todo, in_progress, done"
    )
    assert all(table[name].startswith("pass") for name in OPTIONAL.values())


@pytest.mark.parametrize("custompms_features", [()])
def test_a_version_1_only_implementation_passes_without_optional_checks(
    custompms_server: ServerThread, custompms_token: str
) -> None:
    result = run_check(custompms_server.url, "--token", custompms_token)

    table = rows(result)
    assert result.exit_code == 0, result.output
    assert failing(result) == {}
    assert table[CAPABILITIES] == (
        "pass GET /capabilities answered 404: contract 1.0, none of the optional parts "
        "(tags, assignees, checklist, links, people)"
    )
    assert not set(OPTIONAL.values()) & set(table)
    assert f"{len(table)} of {len(table)} checks passed." in result.stdout


@pytest.mark.parametrize("custompms_features", [("tags", "links")])
def test_an_implementation_with_some_parts_is_checked_on_those(
    custompms_server: ServerThread, custompms_token: str
) -> None:
    result = run_check(custompms_server.url, "--token", custompms_token)

    table = rows(result)
    assert result.exit_code == 0, result.output
    assert table[CAPABILITIES].startswith("pass contract 1.1.0; supports tags, links;")
    assert table[OPTIONAL["tags"]].startswith("pass")
    assert table[OPTIONAL["links"]].startswith("pass")
    assert not {OPTIONAL[name] for name in ("assignees", "checklist", "people")} & set(table)


def test_a_declared_part_that_misbehaves_fails_its_check_alone(
    serve: Any, custompms_token: str
) -> None:
    result = run_check(serve(rewrite_answers(checklist_without_ids)), "--token", custompms_token)

    failed = failing(result)
    assert result.exit_code == 1
    assert set(failed) == {OPTIONAL["checklist"]}
    assert "answered items without ids" in failed[OPTIONAL["checklist"]]


def test_a_token_the_server_echoes_is_masked(serve: Any, custompms_token: str) -> None:
    result = run_check(serve(rewrite_answers(echo_the_token)), "--token", custompms_token)

    failed = failing(result)
    assert result.exit_code == 1
    unknown_id = "errors: an unknown id answers 404"
    assert "answered 400 (Bearer *** may not read /tasks/" in failed[unknown_id]
    assert custompms_token not in result.output
