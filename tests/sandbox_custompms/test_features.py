"""The reference Custompms with only some of contract 1.1's optional parts (``features``):
with none it is a contract 1.0 server (no /capabilities, no people, tasks without tags,
assignees, checklist or links, and writes carrying them refused as unknown properties)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pmbridge.sandbox.custompms import create_app
from pmbridge.sandbox.custompms.resources import parse_features
from pmbridge.sandbox.server import ServerThread
from tests.sandbox_custompms.conftest import Api

OPTIONAL = ("tags", "assignees", "checklist", "links")


def _serve(features: tuple[str, ...], token: str) -> Iterator[Api]:
    app = create_app(token=token, features=features)
    with ServerThread(app) as server:
        client = Api(server.url, token)
        yield client
        client.close()


@pytest.fixture
def v10(custompms_token: str) -> Iterator[Api]:
    yield from _serve((), custompms_token)


@pytest.fixture
def tags_only(custompms_token: str) -> Iterator[Api]:
    yield from _serve(("tags",), custompms_token)


def _errors(answer: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in answer.json()["errors"]}


def test_a_1_0_server_has_no_capabilities_and_no_people(v10: Api) -> None:
    assert v10.http.get("/capabilities").status_code == 404
    assert v10.http.get("/people").status_code == 404
    answer = v10.http.post("/people", json={"email": "a@example.com", "name": "A"})
    assert answer.status_code == 404
    assert v10.http.get("/capabilities", headers={"Authorization": "Bearer no"}).status_code == 401


def test_a_1_0_server_s_tasks_lack_the_optional_properties_everywhere(v10: Api) -> None:
    task = v10.task(title="Plain")
    changed = v10.http.patch(f"/tasks/{task['id']}", json={"title": "Renamed"}).json()
    shown = [
        task,
        changed,
        v10.http.get(f"/tasks/{task['id']}").json(),
        *v10.feed("tasks")["items"],
    ]
    for record in shown:
        assert not set(OPTIONAL) & set(record), record
    assert changed["title"] == "Renamed"
    assert "Renamed" in v10.http.get("/").text
    assert "name='tags'" not in v10.http.get("/").text


@pytest.mark.parametrize("name, value", [("tags", ["web"]), ("links", [])])
def test_a_1_0_server_refuses_the_optional_properties_as_unknown(
    v10: Api, name: str, value: Any
) -> None:
    project = v10.project()
    created = v10.http.post("/tasks", json={"project_id": project["id"], "title": "T", name: value})
    assert created.status_code == 422
    assert _errors(created) == {name: "is not a property of a task"}
    assert v10.feed("tasks")["items"] == []

    task = v10.task(project_id=project["id"])
    patched = v10.http.patch(f"/tasks/{task['id']}", json={"title": "New", name: value})
    assert patched.status_code == 422
    assert _errors(patched) == {name: "is not a property of a task"}
    assert v10.http.get(f"/tasks/{task['id']}").json()["title"] == task["title"]


def test_a_partial_1_1_server_declares_and_has_only_its_parts(tags_only: Api) -> None:
    capabilities = tags_only.http.get("/capabilities").json()
    assert capabilities["contract"] == "1.1.0"
    assert capabilities["features"] == ["tags"]
    assert tags_only.http.get("/people").status_code == 404

    task = tags_only.task(tags=["web", "copy"])
    assert task["tags"] == ["copy", "web"]
    assert not {"assignees", "checklist", "links"} & set(task)
    refused = tags_only.http.patch(f"/tasks/{task['id']}", json={"checklist": []})
    assert refused.status_code == 422
    assert _errors(refused) == {"checklist": "is not a property of a task"}


def test_features_settings_read_as_the_cli_takes_them() -> None:
    assert parse_features("all") == ("tags", "assignees", "checklist", "links", "people")
    assert parse_features("1.0") == parse_features("") == parse_features("none") == ()
    assert parse_features(" tags, links ") == ("tags", "links")
    with pytest.raises(ValueError, match="unknown Custompms feature"):
        parse_features("tags,labels")
