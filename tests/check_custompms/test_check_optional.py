"""``pmbridge check custompms``: contract 1.1's optional parts, a 1.0-only implementation,
one that declares a part it breaks, and one that echoes the token back.

The variants wrap the reference app in small ASGI middlewares; the server is not changed.
"""

from __future__ import annotations

from typing import Any

from pmbridge.sandbox.custompms import CustompmsApp
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
NEW_TASK_PROPERTIES = ("tags", "assignees", "checklist", "links")


def _without_new_properties(record: Any) -> Any:
    if isinstance(record, dict):
        return {k: v for k, v in record.items() if k not in NEW_TASK_PROPERTIES}
    return record


def version_1_only(path: str, status: int, body: Any, headers: dict[bytes, bytes]) -> Any:
    """A 1.0 implementation: no capabilities, no people, tasks without the new properties."""
    if path in ("/capabilities", "/people") or path.startswith("/people/"):
        return 404, {
            "type": "urn:custompms:problem:not-found",
            "title": "Not found",
            "status": 404,
            "detail": f"There is nothing at {path}.",
        }
    if path.startswith("/tasks") and isinstance(body, dict):
        if "items" in body:
            return status, {**body, "items": [_without_new_properties(i) for i in body["items"]]}
        return status, _without_new_properties(body)
    return status, body


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


def test_a_version_1_only_implementation_passes_without_optional_checks(
    serve: Any, custompms_token: str, custompms_app: CustompmsApp
) -> None:
    result = run_check(serve(rewrite_answers(version_1_only)), "--token", custompms_token)

    table = rows(result)
    assert result.exit_code == 0, result.output
    assert failing(result) == {}
    assert table[CAPABILITIES] == (
        "pass GET /capabilities answered 404: contract 1.0, none of the optional parts "
        "(tags, assignees, checklist, links, people)"
    )
    assert not set(OPTIONAL.values()) & set(table)
    assert f"{len(table)} of {len(table)} checks passed." in result.stdout


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
