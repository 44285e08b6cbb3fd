"""Bad input to the reference Custompms: a 4xx problem naming the fault, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox_custompms.conftest import Api

PROBLEM = "application/problem+json"
LONG_NAME = "x" * 513
LONG_TEXT = "x" * 16385

# (resource, body, the field the answer must name); "{project}" etc. are live ids.
BAD_CREATES: list[tuple[str, dict[str, Any], str]] = [
    ("customers", {}, "name"),
    ("customers", {"name": ""}, "name"),
    ("customers", {"name": LONG_NAME}, "name"),
    ("customers", {"name": 42}, "name"),
    ("customers", {"name": None}, "name"),
    ("customers", {"name": "A", "description": LONG_TEXT}, "description"),
    ("customers", {"name": "A", "website": "ftp://acme.example"}, "website"),
    ("customers", {"name": "A", "website": "acme.example"}, "website"),
    ("customers", {"name": "A", "website": ""}, "website"),
    ("customers", {"name": "A", "website": "https://" + "a" * 2050}, "website"),
    ("customers", {"name": "A", "colour": "red"}, "colour"),
    ("customers", {"name": "A", "id": "mine"}, "id"),
    ("customers", {"name": "A", "version": 7}, "version"),
    ("projects", {"name": "P", "customer_id": "no-such-customer"}, "customer_id"),
    ("projects", {"name": "P", "customer_id": "{deleted_customer}"}, "customer_id"),
    ("projects", {"name": "P", "archived": "yes"}, "archived"),
    ("projects", {"name": "P", "archived": 1}, "archived"),
    ("tasks", {"title": "T"}, "project_id"),
    ("tasks", {"project_id": "{project}"}, "title"),
    ("tasks", {"project_id": "no-such-project", "title": "T"}, "project_id"),
    ("tasks", {"project_id": "{project}", "title": "T", "status": ""}, "status"),
    ("tasks", {"project_id": "{project}", "title": "T", "status": "s" * 65}, "status"),
    ("tasks", {"project_id": "{project}", "title": "T", "due_at": "tomorrow"}, "due_at"),
    ("tasks", {"project_id": "{project}", "title": "T", "due_at": "2024-05-01T10:00"}, "due_at"),
    ("tasks", {"project_id": "{project}", "title": "T", "due_at": "2024-02-30"}, "due_at"),
    ("tasks", {"project_id": "{project}", "title": "T", "start_at": 1714550400}, "start_at"),
    ("tasks", {"project_id": "{project}", "title": "T", "position": "top"}, "position"),
    ("tasks", {"project_id": "{project}", "title": "T", "position": True}, "position"),
    ("tasks", {"project_id": "{project}", "title": "T", "completed": "true"}, "completed"),
    ("tasks", {"project_id": "{project}", "title": "T", "deleted": False}, "deleted"),
    ("tasks", {"project_id": "{project}", "title": "T", "status": "bogus"}, "status"),
    ("tasks", {"project_id": "{project}", "title": "T", "tags": None}, "tags"),
    ("tasks", {"project_id": "{project}", "title": "T", "tags": "a,b"}, "tags"),
    ("tasks", {"project_id": "{project}", "title": "T", "tags": [""]}, "tags[0]"),
    ("tasks", {"project_id": "{project}", "title": "T", "tags": [" web"]}, "tags[0]"),
    ("tasks", {"project_id": "{project}", "title": "T", "tags": ["a\nb"]}, "tags[0]"),
    ("tasks", {"project_id": "{project}", "title": "T", "tags": ["t" * 65]}, "tags[0]"),
    ("tasks", {"project_id": "{project}", "title": "T", "tags": ["x"] * 201}, "tags"),
    ("tasks", {"project_id": "{project}", "title": "T", "assignees": ["ann"]}, "assignees[0]"),
    (
        "tasks",
        {"project_id": "{project}", "title": "T", "assignees": ["no@one.example"]},
        "assignees",
    ),
    (
        "tasks",
        {"project_id": "{project}", "title": "T", "checklist": [{"done": True}]},
        "checklist[0].text",
    ),
    (
        "tasks",
        {"project_id": "{project}", "title": "T", "checklist": [{"text": ""}]},
        "checklist[0].text",
    ),
    (
        "tasks",
        {"project_id": "{project}", "title": "T", "checklist": [{"text": "a", "done": "no"}]},
        "checklist[0].done",
    ),
    (
        "tasks",
        {"project_id": "{project}", "title": "T", "checklist": [{"id": "mine", "text": "a"}]},
        "checklist[0].id",
    ),
    (
        "tasks",
        {"project_id": "{project}", "title": "T", "links": [{"url": "ftp://x.example"}]},
        "links[0].url",
    ),
    (
        "tasks",
        {"project_id": "{project}", "title": "T", "links": [{"title": "no url"}]},
        "links[0].url",
    ),
    (
        "tasks",
        {
            "project_id": "{project}",
            "title": "T",
            "links": [{"url": "https://x.example", "size": 1}],
        },
        "links[0].size",
    ),
    ("people", {"name": "Ann"}, "email"),
    ("people", {"email": "ann", "name": "Ann"}, "email"),
    ("people", {"email": "ANN@example.com", "name": "Ann again"}, "email"),
    ("people", {"email": "bob@example.com"}, "name"),
    ("comments", {"text": "hi"}, "task_id"),
    ("comments", {"text": "hi", "task_id": "{task}", "project_id": "{project}"}, "project_id"),
    ("comments", {"task_id": "{task}"}, "text"),
    ("comments", {"task_id": "{task}", "text": ""}, "text"),
    ("comments", {"task_id": "{task}", "text": LONG_TEXT}, "text"),
    ("comments", {"task_id": "no-such-task", "text": "hi"}, "task_id"),
    ("comments", {"task_id": "{task}", "text": "hi", "author": ""}, "author"),
]


@pytest.fixture
def live(api: Api) -> dict[str, str]:
    """Ids of live parents, and of a deleted customer."""
    task = api.task()
    api.create("people", email="ann@example.com", name="Ann")
    deleted = api.customer(name="Gone Ltd")
    assert api.http.delete(f"/customers/{deleted['id']}").status_code == 204
    return {"project": task["project_id"], "task": task["id"], "deleted_customer": deleted["id"]}


def _fill(body: dict[str, Any], live: dict[str, str]) -> dict[str, Any]:
    return {
        key: live[value[1:-1]] if isinstance(value, str) and value.startswith("{") else value
        for key, value in body.items()
    }


def _feeds(api: Api) -> dict[str, list[dict[str, Any]]]:
    return {
        r: api.feed(r)["items"] for r in ("customers", "projects", "tasks", "comments", "people")
    }


def _assert_names(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:custompms:problem:")
    assert problem["detail"]
    fields = [error["field"] for error in problem.get("errors", [])]
    assert field in fields, problem
    assert all(error["message"] for error in problem["errors"])


def test_bad_creates_are_refused_naming_the_field(api: Api, live: dict[str, str]) -> None:
    before = _feeds(api)
    for resource, body, field in BAD_CREATES:
        response = api.http.post(f"/{resource}", json=_fill(body, live))
        _assert_names(response, 422, field)
    assert _feeds(api) == before


def test_bad_patches_are_refused_and_change_nothing(api: Api, live: dict[str, str]) -> None:
    task_path = f"/tasks/{live['task']}"
    comment = api.create("comments", task_id=live["task"], text="hi")
    before = _feeds(api)
    cases: list[tuple[str, dict[str, Any], str]] = [
        (task_path, {"title": None}, "title"),
        (task_path, {"title": ""}, "title"),
        (task_path, {"description": LONG_TEXT}, "description"),
        (task_path, {"project_id": "no-such-project"}, "project_id"),
        (task_path, {"project_id": None}, "project_id"),
        (task_path, {"due_at": "2024-13-01"}, "due_at"),
        (task_path, {"version": 9}, "version"),
        (task_path, {"updated_at": "2024-01-01T00:00:00Z"}, "updated_at"),
        (task_path, {"deleted": True}, "deleted"),
        (task_path, {"deleted": 0}, "deleted"),
        (task_path, {"completed": 0}, "completed"),
        (task_path, {"owner": "me"}, "owner"),
        (task_path, {"status": "bogus"}, "status"),
        (task_path, {"tags": None}, "tags"),
        (task_path, {"assignees": ["no@one.example"]}, "assignees"),
        (task_path, {"checklist": [{"id": "not-an-item", "text": "a"}]}, "checklist[0].id"),
        (task_path, {"links": [{"id": "not-a-link", "url": "https://x.example"}]}, "links[0].id"),
        (f"/comments/{comment['id']}", {"task_id": None}, "task_id"),
        (f"/comments/{comment['id']}", {"project_id": live["project"]}, "project_id"),
    ]
    for path, body, field in cases:
        _assert_names(api.http.patch(path, json=body), 422, field)
    too_big = api.http.patch(  # valid JSON, but no finite number
        task_path, content=b'{"position": 1e400}', headers={"Content-Type": "application/json"}
    )
    _assert_names(too_big, 422, "position")
    assert _feeds(api) == before


NOT_JSON_OBJECTS = {
    "broken": b"{not json",
    "empty": b"",
    "array": b"[1, 2]",
    "string": b'"text"',
    "nan": b'{"name": NaN}',
    "not-utf8": b"\xff\xfe{}",
}


def test_bodies_that_are_not_json_objects_answer_400(api: Api) -> None:
    task = api.task()
    before = _feeds(api)
    for name, content in NOT_JSON_OBJECTS.items():
        for method, path in [("POST", "/customers"), ("PATCH", f"/tasks/{task['id']}")]:
            response = api.http.request(
                method, path, content=content, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 400, (name, method, response.text)
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["detail"]
    assert _feeds(api) == before


def test_bad_feed_parameters_name_the_parameter(api: Api) -> None:
    api.customer()
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"since": "not-a-cursor"}, "since"),
        ({"since": "999999"}, "since"),  # ahead of every change: another server's cursor
    ]:
        _assert_names(api.http.get("/tasks", params=params), 422, field)


def test_a_bad_idempotency_key_is_refused(api: Api) -> None:
    response = api.http.post(
        "/customers", json={"name": "A"}, headers={"Idempotency-Key": "has space"}
    )
    _assert_names(response, 422, "Idempotency-Key")
    assert api.feed("customers")["items"] == []


def test_bad_subscriptions_are_refused(api: Api) -> None:
    for body, field in [
        ({"secret": "s"}, "url"),
        ({"url": "mailto:me@example.com", "secret": "s"}, "url"),
        ({"url": "https://hooks.example/x"}, "secret"),
        ({"url": "https://hooks.example/x", "secret": ""}, "secret"),
        ({"url": "https://hooks.example/x", "secret": "s", "events": []}, "events"),
    ]:
        _assert_names(api.http.post("/subscriptions", json=body), 422, field)
    assert api.http.get("/subscriptions").json() == {"items": []}
    assert api.http.delete("/subscriptions/nope").status_code == 404
