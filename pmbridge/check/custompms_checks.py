"""The checks of the Custompms contract (``docs/custompms-api.yaml``), one function each.

Each check gets a ``Probe``, returns what it saw when the implementation behaved, and
raises ``CheckFailed`` with the specific misbehaviour otherwise.

The checks of the change feed, which share one scenario of writes, are in
``custompms_feed_checks.py``.
"""

from __future__ import annotations

import secrets
from typing import Any

from pmbridge.check.custompms_feed_checks import (
    evaluate_completeness,
    evaluate_order,
    evaluate_tombstones,
    scenario_check,
)
from pmbridge.check.probe import Probe, check_record, is_problem
from pmbridge.check.results import Check, CheckFailed, CheckFunction
from pmbridge.systems.custompms.values import parse_instant, same_wire_value


def _differences(record: dict[str, Any], sent: dict[str, Any]) -> list[str]:
    return [
        f"{name}={record.get(name)!r} (sent {value!r})"
        for name, value in sent.items()
        if not same_wire_value(record.get(name), value)
    ]


def _echoes(record: dict[str, Any], sent: dict[str, Any], doing: str) -> None:
    wrong = _differences(record, sent)
    if wrong:
        raise CheckFailed(f"{doing} answered {', '.join(wrong)}")


def _etag_matches(response: Any, version: int, doing: str) -> None:
    etag = response.headers.get("etag")
    if etag != f'"{version}"':
        raise CheckFailed(f'{doing} answered ETag {etag!r}: expected "{version}"')


async def check_connect(probe: Probe) -> str:
    try:
        head = await probe.head()
    except CheckFailed as failed:
        raise CheckFailed(
            f"{failed}; check that {probe.base_url} is the API root and that the token is right"
        ) from None
    return f"the token is accepted; the tasks feed ends at cursor {head!r}"


async def check_no_token(probe: Probe) -> str:
    response = await probe.call("GET", "/customers", params={"limit": 1}, token=None)
    probe.expect(response, 401, "GET /customers without Authorization")
    return "GET /customers without a token answered 401"


async def check_wrong_token(probe: Probe) -> str:
    wrong = f"pmbridge-check-wrong-{secrets.token_hex(12)}"
    response = await probe.call("GET", "/customers", params={"limit": 1}, token=wrong)
    probe.expect(response, 401, "GET /customers with a wrong token")
    response = await probe.call(
        "POST",
        "/customers",
        body={"name": probe.label("wrong token")},
        headers={"Idempotency-Key": probe.new_key()},
        token=wrong,
    )
    probe.expect(response, 401, "POST /customers with a wrong token")
    if not is_problem(response):
        raise CheckFailed("the 401 answer is not application/problem+json")
    return "GET and POST /customers with a wrong token answered 401 (problem+json)"


async def _sample(probe: Probe, resource: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A body to create a record of ``resource`` and a change to make to it."""
    name = probe.label(f"{resource} create-read-update-delete")
    body: dict[str, Any]
    if resource == "customers":
        body = {"name": name, "description": "made by the conformance suite", "website": None}
        return body, {"name": name + " (renamed)", "website": "https://example.com/pmbridge"}
    if resource == "projects":
        body = {"customer_id": await probe.parent("customers"), "name": name, "archived": False}
        return body, {"archived": True, "description": "changed by the conformance suite"}
    if resource == "tasks":
        body = {
            "project_id": await probe.parent("projects"),
            "title": name,
            "status": await probe.status(0),
            "position": 1.5,
            "completed": False,
        }
        return body, {"status": await probe.status(1), "completed": True, "position": 2.0}
    body = {"task_id": await probe.parent("tasks"), "author": "pmbridge check", "text": name}
    return body, {"text": name + " (edited)"}


def crud_check(resource: str) -> CheckFunction:
    """Create, read, update and delete one record of ``resource``; see its tombstone."""

    async def run(probe: Probe) -> str:
        since = await probe.head()
        body, change = await _sample(probe, resource)
        key = probe.new_key()
        posted = await probe.call(
            "POST", f"/{resource}", body=body, headers={"Idempotency-Key": key}
        )
        probe.expect(posted, 201, f"POST /{resource}")
        record = probe.json_of(posted, f"POST /{resource}")
        check_record(record, f"POST /{resource}")
        _echoes(record, body, f"POST /{resource}")
        _etag_matches(posted, record["version"], f"POST /{resource}")
        path = f"/{resource}/{record['id']}"

        got = await probe.call("GET", path)
        probe.expect(got, 200, f"GET {path}")
        stored = probe.json_of(got, f"GET {path}")
        if stored.get("version") != record["version"] or _differences(stored, body):
            raise CheckFailed(f"GET {path} answered another state than POST created")

        patched = await probe.call(
            "PATCH", path, body=change, headers={"If-Match": f'"{record["version"]}"'}
        )
        probe.expect(patched, 200, f"PATCH {path} (If-Match the current version)")
        updated = probe.json_of(patched, f"PATCH {path}")
        check_record(updated, f"PATCH {path}")
        _echoes(updated, change, f"PATCH {path}")
        if updated["version"] <= record["version"]:
            raise CheckFailed(
                f"PATCH {path} kept version {updated['version']} (was {record['version']}): "
                "every change must raise the version"
            )
        if parse_instant(updated["updated_at"]) < parse_instant(record["updated_at"]):
            raise CheckFailed(f"PATCH {path} moved updated_at backwards")
        reread = probe.json_of(await probe.call("GET", path), f"GET {path}")
        if reread.get("version") != updated["version"] or _differences(reread, change):
            raise CheckFailed(f"GET {path} after PATCH does not show the change")

        probe.expect(await probe.call("DELETE", path), 204, f"DELETE {path}")
        gone = await probe.call("GET", path)
        probe.expect(gone, 410, f"GET {path} after DELETE")
        current = probe.json_of(gone, f"GET {path} after DELETE").get("current_version")
        if not isinstance(current, int) or current <= updated["version"]:
            raise CheckFailed(
                f"GET {path} after DELETE answered 410 with current_version={current!r}: "
                f"expected the tombstone's version (above {updated['version']})"
            )
        probe.expect(await probe.call("DELETE", path), 204, f"DELETE {path} a second time")

        items = await probe.read_feed(resource, since, 1000)
        mine = [item for item in items if item.get("id") == record["id"]]
        if len(mine) != 1 or mine[0].get("deleted") is not True:
            raise CheckFailed(
                f"GET /{resource}?since=… holds {len(mine)} item(s) for the deleted "
                f"{resource[:-1]} {record['id']}: expected one tombstone"
            )
        return "POST 201, GET 200, PATCH 200 (new version), DELETE 204, GET 410, tombstone in feed"

    return run


async def check_dates(probe: Probe) -> str:
    body = {
        "project_id": await probe.parent("projects"),
        "title": probe.label("dates"),
        "due_at": "2031-02-03",
        "start_at": "2031-02-01T10:30:00+02:00",
    }
    record = await probe.create("tasks", body)
    if record.get("due_at") != "2031-02-03":
        raise CheckFailed(
            f"POST /tasks with due_at='2031-02-03' answered due_at={record.get('due_at')!r}: "
            "a date-only value must stay a date"
        )
    start = record.get("start_at")
    if not isinstance(start, str) or not start.endswith("Z"):
        raise CheckFailed(f"POST /tasks answered start_at={start!r}: expected UTC with Z")
    if parse_instant(start) != parse_instant("2031-02-01T08:30:00Z"):
        raise CheckFailed(
            f"POST /tasks with start_at 2031-02-01T10:30:00+02:00 answered {start!r}: "
            "expected the same instant, 2031-02-01T08:30:00Z"
        )
    return "due_at '2031-02-03' stayed a date; start_at came back as 2031-02-01T08:30:00Z"


async def check_unknown_id(probe: Probe) -> str:
    path = f"/tasks/pmbridge-check-unknown-{secrets.token_hex(8)}"
    response = await probe.call("GET", path)
    probe.expect(response, 404, f"GET {path}")
    if not is_problem(response):
        raise CheckFailed(f"GET {path} answered 404 but not as application/problem+json")
    return "GET of an unknown task answered 404 (problem+json)"


async def check_idempotent_create(probe: Probe) -> str:
    body = {"project_id": await probe.parent("projects"), "title": probe.label("idempotent")}
    key = probe.new_key()
    first = await probe.create("tasks", body, key=key)
    again = await probe.call("POST", "/tasks", body=body, headers={"Idempotency-Key": key})
    repeat = probe.json_of(again, "POST /tasks repeated") if again.status_code < 300 else {}
    if again.status_code in (200, 201) and repeat.get("id") != first["id"]:
        raise CheckFailed(
            "POST /tasks with a reused Idempotency-Key created a second record "
            f"(ids {first['id']}, {repeat.get('id')})"
        )
    probe.expect(again, 200, "POST /tasks with a reused Idempotency-Key")
    return f"the repeated POST answered 200 with the first record ({first['id']})"


async def check_key_conflict(probe: Probe) -> str:
    project = await probe.parent("projects")
    key = probe.new_key()
    first = await probe.create(
        "tasks", {"project_id": project, "title": probe.label("key 1")}, key=key
    )
    other = {"project_id": project, "title": probe.label("key 2, another body")}
    again = await probe.call("POST", "/tasks", body=other, headers={"Idempotency-Key": key})
    if again.status_code == 201:
        second = probe.json_of(again, "POST /tasks").get("id")
        raise CheckFailed(
            "POST /tasks with a reused Idempotency-Key and another body created a second "
            f"record (ids {first['id']}, {second}): expected 422"
        )
    probe.expect(again, 422, "POST /tasks with a reused Idempotency-Key and another body")
    return "a reused Idempotency-Key with another body answered 422"


async def check_stale_if_match(probe: Probe) -> str:
    body = {"project_id": await probe.parent("projects"), "title": probe.label("If-Match")}
    record = await probe.create("tasks", body)
    path = f"/tasks/{record['id']}"
    old = record["version"]
    doing, done = await probe.status(1), await probe.status(2)
    first = await probe.call(
        "PATCH", path, body={"status": doing}, headers={"If-Match": f'"{old}"'}
    )
    probe.expect(first, 200, f"PATCH {path} with If-Match the current version")
    current = probe.json_of(first, f"PATCH {path}")["version"]
    stale = await probe.call("PATCH", path, body={"status": done}, headers={"If-Match": f'"{old}"'})
    if stale.status_code == 200:
        raise CheckFailed(
            f'PATCH {path} with a stale If-Match ("{old}"; the record is at version {current}) '
            "answered 200 and changed the record: expected 412"
        )
    probe.expect(stale, 412, f'PATCH {path} with a stale If-Match ("{old}")')
    said = probe.json_of(stale, f"PATCH {path}").get("current_version")
    if said != current:
        raise CheckFailed(
            f"PATCH {path} answered 412 with current_version={said!r}: expected {current}"
        )
    after = probe.json_of(await probe.call("GET", path), f"GET {path}")
    if after.get("status") != doing or after.get("version") != current:
        raise CheckFailed(f"PATCH {path} answered 412 but changed the record anyway")
    return (
        f"a PATCH with If-Match {old} at version {current} answered 412 (current_version {current})"
    )


async def check_invalid_input(probe: Probe) -> str:
    project = await probe.parent("projects")
    task = await probe.parent("tasks")
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/tasks", {"project_id": project, "title": ""}, "title"),
        ("POST", "/tasks", {"project_id": project, "title": "x", "position": "high"}, "position"),
        ("POST", "/projects", {"name": "x", "customer_id": "pmbridge-check-none"}, "customer_id"),
        ("PATCH", f"/tasks/{task}", {"completed": "yes"}, "completed"),
    ]
    for method, path, body, field in cases:
        headers = {"Idempotency-Key": probe.new_key()} if method == "POST" else {}
        response = await probe.call(method, path, body=body, headers=headers)
        doing = f"{method} {path} with a bad {field}"
        probe.expect(response, 422, doing)
        if not is_problem(response):
            raise CheckFailed(f"{doing} answered 422 but not as application/problem+json")
        errors = probe.json_of(response, doing).get("errors") or []
        named = [item.get("field") for item in errors if isinstance(item, dict)]
        if field not in named:
            raise CheckFailed(
                f"{doing} answered 422 naming {named or 'no field'}: expected {field}"
            )
    return "empty title, text position, unknown customer_id, text completed: 422 naming each"


async def check_restore(probe: Probe) -> str:
    body = {"project_id": await probe.parent("projects"), "title": probe.label("restore")}
    record = await probe.create("tasks", body)
    path = f"/tasks/{record['id']}"
    probe.expect(await probe.call("DELETE", path), 204, f"DELETE {path}")
    doing, done = await probe.status(1), await probe.status(2)
    blocked = await probe.call("PATCH", path, body={"status": doing})
    probe.expect(blocked, 410, f"PATCH {path} of a deleted task (without deleted=false)")
    restored = await probe.call("PATCH", path, body={"deleted": False, "status": done})
    probe.expect(restored, 200, f'PATCH {path} {{"deleted": false}}')
    live = probe.json_of(restored, f"PATCH {path}")
    check_record(live, f'PATCH {path} {{"deleted": false}}')
    _echoes(live, {"status": done}, f"PATCH {path}")
    probe.expect(await probe.call("GET", path), 200, f"GET {path} after the restore")
    return 'a deleted task answered 410 to PATCH, then {"deleted": false} restored it'


CONNECT = Check("connect: the token is accepted and the tasks feed pages to its end", check_connect)
CHECKS: tuple[Check, ...] = (
    Check("auth: a request without a token is refused (401)", check_no_token),
    Check("auth: a wrong token is refused (401)", check_wrong_token),
    *(
        Check(f"{resource}: create, read, update, delete", crud_check(resource))
        for resource in ("customers", "projects", "tasks", "comments")
    ),
    Check("tasks: dates stay dates, instants come back in UTC", check_dates),
    Check("errors: an unknown id answers 404", check_unknown_id),
    Check("create: a reused Idempotency-Key returns the first record", check_idempotent_create),
    Check(
        "create: a reused Idempotency-Key with another body is refused (422)", check_key_conflict
    ),
    Check("update: a stale If-Match is refused (412)", check_stale_if_match),
    Check("validation: bad input is refused (422 naming the field)", check_invalid_input),
    Check('restore: PATCH {"deleted": false} brings a deleted record back', check_restore),
    Check("feed: every change appears once (paging)", scenario_check(evaluate_completeness)),
    Check("feed: changes come in order, at their latest change", scenario_check(evaluate_order)),
    Check("feed: a deleted record appears as a tombstone", scenario_check(evaluate_tombstones)),
)
