"""Every record operation of the reference Custompms over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from pmbridge.sandbox.server import ServerThread
from tests.sandbox_custompms.conftest import Api

PROBLEM = "application/problem+json"


def test_customer_lifecycle(api: Api) -> None:
    created = api.http.post("/customers", json={"name": "Acme", "website": "https://acme.example"})
    assert created.status_code == 201
    customer = created.json()
    assert customer["name"] == "Acme"
    assert customer["description"] == ""
    assert customer["version"] == 1
    assert customer["deleted"] is False
    assert customer["created_at"].endswith("Z") and customer["updated_at"].endswith("Z")
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == f"/customers/{customer['id']}"

    fetched = api.http.get(f"/customers/{customer['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == customer
    assert fetched.headers["etag"] == '"1"'

    patched = api.http.patch(f"/customers/{customer['id']}", json={"description": "Big"})
    assert patched.status_code == 200
    assert patched.json()["description"] == "Big"
    assert patched.json()["name"] == "Acme"
    assert patched.json()["version"] == 2
    assert patched.headers["etag"] == '"2"'
    assert patched.json()["updated_at"] >= customer["updated_at"]


def test_every_resource_round_trips(api: Api) -> None:
    project = api.project(description="The new site", archived=True)
    assert project["archived"] is True
    task = api.task(
        project_id=project["id"],
        status="in_progress",
        due_at="2024-05-01T11:30:00+02:00",
        start_at="2024-04-20",
        completed=True,
        position=16384.5,
    )
    # Instants come back in UTC with Z; a date stays a date.
    assert task["due_at"] == "2024-05-01T09:30:00Z"
    assert task["start_at"] == "2024-04-20"
    assert task["status"] == "in_progress"
    assert task["position"] == 16384.5
    on_task = api.create("comments", task_id=task["id"], author="Ann", text="Looks good")
    on_project = api.create("comments", project_id=project["id"], text="Kick-off")
    assert on_task["project_id"] is None and on_task["author"] == "Ann"
    assert on_project["task_id"] is None and on_project["author"] is None
    for resource, record in [("projects", project), ("tasks", task), ("comments", on_task)]:
        assert api.http.get(f"/{resource}/{record['id']}").json() == record


def test_patch_changing_nothing_keeps_the_version(api: Api) -> None:
    task = api.task(title="Same")
    response = api.http.patch(f"/tasks/{task['id']}", json={"title": "Same"})
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert [item["version"] for item in api.feed("tasks")["items"]] == [1]


def test_a_task_moves_to_another_project(api: Api) -> None:
    task = api.task()
    other = api.project(name="Other")
    moved = api.http.patch(f"/tasks/{task['id']}", json={"project_id": other["id"]})
    assert moved.status_code == 200
    assert moved.json()["project_id"] == other["id"]


def test_if_match_guards_updates(api: Api) -> None:
    task = api.task()
    path = f"/tasks/{task['id']}"
    first = api.http.patch(path, json={"title": "One"}, headers={"If-Match": '"1"'})
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = api.http.patch(path, json={"title": "Two"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    assert stale.headers["etag"] == '"2"'
    assert stale.json()["current_version"] == 2
    assert api.http.get(path).json()["title"] == "One"
    # Bare and weak forms of the version work too; * matches any.
    assert api.http.patch(path, json={"title": "3"}, headers={"If-Match": "2"}).status_code == 200
    assert (
        api.http.patch(path, json={"title": "4"}, headers={"If-Match": 'W/"3"'}).status_code == 200
    )
    assert api.http.patch(path, json={"title": "5"}, headers={"If-Match": "*"}).status_code == 200
    bad = api.http.patch(path, json={"title": "6"}, headers={"If-Match": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "If-Match"
    stale_delete = api.http.delete(path, headers={"If-Match": '"1"'})
    assert stale_delete.status_code == 412
    assert api.http.get(path).status_code == 200


def test_idempotency_key_creates_once(api: Api) -> None:
    project = api.project()
    body = {"project_id": project["id"], "title": "Once"}
    key = {"Idempotency-Key": "create-task-42"}
    first = api.http.post("/tasks", json=body, headers=key)
    again = api.http.post("/tasks", json=body, headers=key)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["etag"] == '"1"'
    other_body = api.http.post("/tasks", json={**body, "title": "Twice"}, headers=key)
    assert other_body.status_code == 422
    assert other_body.json()["errors"][0]["field"] == "Idempotency-Key"
    assert [item["title"] for item in api.feed("tasks")["items"]] == ["Once"]
    # Keys belong to one resource: the same key creates a project independently.
    assert api.http.post("/projects", json={"name": "P"}, headers=key).status_code == 201


def test_idempotent_repeat_answers_the_current_state(api: Api) -> None:
    body = {"name": "Acme"}
    key = {"Idempotency-Key": "acme"}
    created = api.http.post("/customers", json=body, headers=key).json()
    api.http.patch(f"/customers/{created['id']}", json={"description": "changed"})
    again = api.http.post("/customers", json=body, headers=key)
    assert again.status_code == 200
    assert again.json()["version"] == 2
    api.http.delete(f"/customers/{created['id']}")
    gone = api.http.post("/customers", json=body, headers=key)
    assert gone.status_code == 410
    assert gone.json()["id"] == created["id"]


def test_soft_delete_leaves_a_tombstone_and_restore_brings_it_back(api: Api) -> None:
    task = api.task(title="Short-lived")
    path = f"/tasks/{task['id']}"
    cursor = api.feed("tasks")["next_since"]

    assert api.http.delete(path).status_code == 204
    gone = api.http.get(path)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == PROBLEM
    assert gone.json()["id"] == task["id"] and gone.json()["current_version"] == 2
    [tombstone] = api.feed("tasks", since=cursor)["items"]
    assert tombstone["id"] == task["id"]
    assert tombstone["deleted"] is True
    assert tombstone["version"] == 2

    # Deleting again changes nothing.
    after_tombstone = api.feed("tasks", since=cursor)["next_since"]
    assert api.http.delete(path).status_code == 204
    assert api.feed("tasks", since=after_tombstone)["items"] == []

    # Any edit but a restore is refused.
    edit = api.http.patch(path, json={"title": "Edited"})
    assert edit.status_code == 410
    restored = api.http.patch(path, json={"deleted": False, "title": "Back"})
    assert restored.status_code == 200
    assert restored.json()["deleted"] is False
    assert restored.json()["title"] == "Back"
    assert restored.json()["version"] == 3
    [again] = api.feed("tasks", since=after_tombstone)["items"]
    assert again["deleted"] is False and again["version"] == 3
    assert api.http.get(path).status_code == 200


def test_restore_accepts_if_match_on_the_tombstone_version(api: Api) -> None:
    customer = api.customer()
    path = f"/customers/{customer['id']}"
    api.http.delete(path)
    stale = api.http.patch(path, json={"deleted": False}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    ok = api.http.patch(path, json={"deleted": False}, headers={"If-Match": '"2"'})
    assert ok.status_code == 200 and ok.json()["version"] == 3


def test_unknown_ids_answer_404(api: Api) -> None:
    for resource in ("customers", "projects", "tasks", "comments"):
        for method in ("GET", "PATCH", "DELETE"):
            response = api.http.request(
                method, f"/{resource}/nope", json={} if method == "PATCH" else None
            )
            assert response.status_code == 404, (resource, method)
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic Zm9vOmJhcg=="}],
    ids=["missing", "wrong", "other-scheme"],
)
def test_requests_without_the_token_are_refused(
    custompms_server: ServerThread, custompms_token: str, headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=custompms_server.url, headers=headers) as client:
        for method, path in [
            ("GET", "/customers"),
            ("POST", "/customers"),
            ("GET", "/tasks/x"),
            ("GET", "/subscriptions"),
        ]:
            response = client.request(method, path, json={"name": "x"})
            assert response.status_code == 401, (method, path)
            assert response.headers["content-type"] == PROBLEM
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert custompms_token not in response.text
    with httpx.Client(
        base_url=custompms_server.url, headers={"Authorization": f"Bearer {custompms_token}"}
    ) as client:
        # Nothing was created by the refused POSTs.
        assert client.get("/customers").json()["items"] == []


def test_unknown_routes_and_methods_answer_problems(api: Api) -> None:
    missing = api.http.get("/invoices")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    wrong_method = api.http.put("/customers", json={})
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == PROBLEM
    assert wrong_method.headers["allow"] == "GET, POST"
    on_item = api.http.post("/tasks/some-id", json={})
    assert on_item.headers["allow"] == "DELETE, GET, PATCH"


def test_faults_come_as_problems(custompms_server: ServerThread, api: Api) -> None:
    control = custompms_server.app.state.control
    control.set_faults(force_429=1)
    limited = api.http.get("/customers")
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM
    assert limited.headers["retry-after"] == "1"
    control.set_faults(error_rate=1.0)
    failed = api.http.get("/customers")
    assert failed.status_code == 503
    assert failed.json()["status"] == 503
    control.clear_faults()
    assert api.http.get("/customers").status_code == 200


def test_a_create_whose_answer_was_lost_is_repeated_safely(
    custompms_server: ServerThread, api: Api
) -> None:
    control = custompms_server.app.state.control
    control.set_faults(drop_after_rate=1.0, methods=["POST"])
    body = {"name": "Acme"}
    key = {"Idempotency-Key": "lost-answer"}
    with pytest.raises(httpx.TransportError):
        api.http.post("/customers", json=body, headers=key)
    control.clear_faults()
    retried = api.http.post("/customers", json=body, headers=key)
    assert retried.status_code == 200  # the first attempt had created it
    assert [item["id"] for item in api.feed("customers")["items"]] == [retried.json()["id"]]
