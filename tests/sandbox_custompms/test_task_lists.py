"""Contract 1.1 on the reference Custompms: capabilities, people, and a task's tags,
assignees, checklist and links (stored, in the feed, replaced whole by PATCH with If-Match)."""

from __future__ import annotations

from typing import Any

from tests.sandbox_custompms.conftest import Api


def _patch(api: Api, task: dict[str, Any], **changes: Any) -> Any:
    return api.http.patch(
        f"/tasks/{task['id']}", json=changes, headers={"If-Match": f'"{task["version"]}"'}
    )


def test_capabilities_name_the_version_the_optional_parts_and_the_statuses(api: Api) -> None:
    answer = api.http.get("/capabilities")

    assert answer.status_code == 200
    assert answer.json() == {
        "contract": "1.1.0",
        "features": ["tags", "assignees", "checklist", "links", "people"],
        "statuses": ["todo", "in_progress", "done"],
    }
    assert api.http.get("/capabilities", headers={"Authorization": "Bearer no"}).status_code == 401


def test_people_are_a_paged_change_feed(api: Api) -> None:
    made = [api.create("people", email=f"P{i}@Example.com", name=f"P {i}") for i in range(3)]
    assert [p["email"] for p in made] == [f"p{i}@example.com" for i in range(3)]

    first = api.feed("people", limit=2)
    rest = api.feed("people", since=first["next_since"], limit=2)

    assert first["has_more"] and not rest["has_more"]
    assert [p["id"] for p in first["items"] + rest["items"]] == [p["id"] for p in made]
    assert api.http.delete(f"/people/{made[0]['id']}").status_code == 204
    [tombstone] = api.feed("people", since=rest["next_since"])["items"]
    assert tombstone["id"] == made[0]["id"] and tombstone["deleted"] is True


def test_a_task_carries_the_new_properties_into_the_feed(api: Api) -> None:
    api.create("people", email="ann@example.com", name="Ann")
    api.create("people", email="bob@example.com", name="Bob")
    plain = api.task(title="Plain")
    assert (plain["tags"], plain["assignees"], plain["checklist"], plain["links"]) == (
        [],
        [],
        [],
        [],
    )

    task = api.task(
        tags=["web", "copy", "web"],
        assignees=["Bob@Example.com", "ann@example.com"],
        checklist=[{"text": "Outline"}, {"text": "Draft", "done": True}],
        links=[
            {"url": "https://docs.example/brief"},
            {"title": "Spec", "url": "https://s.example"},
        ],
    )

    assert task["tags"] == ["copy", "web"]
    assert task["assignees"] == ["ann@example.com", "bob@example.com"]
    assert [(i["text"], i["done"]) for i in task["checklist"]] == [
        ("Outline", False),
        ("Draft", True),
    ]
    assert [(link["title"], link["url"]) for link in task["links"]] == [
        ("", "https://docs.example/brief"),
        ("Spec", "https://s.example"),
    ]
    ids = [i["id"] for i in task["checklist"] + task["links"]]
    assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 4
    [in_feed] = [i for i in api.feed("tasks")["items"] if i["id"] == task["id"]]
    assert in_feed == task


def test_patch_replaces_the_lists_whole_and_keeps_item_ids(api: Api) -> None:
    api.create("people", email="ann@example.com", name="Ann")
    api.create("people", email="bob@example.com", name="Bob")
    task = api.task(
        tags=["a", "b"],
        assignees=["ann@example.com"],
        checklist=[{"text": "One"}, {"text": "Two"}, {"text": "Three"}],
        links=[{"title": "Old", "url": "https://old.example"}],
    )
    one, two, three = task["checklist"]
    [old] = task["links"]
    cursor = api.feed("tasks")["next_since"]

    answer = _patch(
        api,
        task,
        tags=["c"],
        assignees=["bob@example.com"],
        # Reordered, one edited and ticked, one removed, one new (no id).
        checklist=[
            {**three, "done": True},
            {"id": one["id"], "text": "One, edited"},
            {"text": "New"},
        ],
        links=[{"id": old["id"], "title": "Renamed", "url": old["url"]}],
    )

    assert answer.status_code == 200, answer.text
    stored = answer.json()
    assert stored["version"] == 2 and answer.headers["etag"] == '"2"'
    assert stored["tags"] == ["c"] and stored["assignees"] == ["bob@example.com"]
    assert [(i["id"], i["text"], i["done"]) for i in stored["checklist"][:2]] == [
        (three["id"], "Three", True),
        (one["id"], "One, edited", False),
    ]
    new = stored["checklist"][2]
    assert new["text"] == "New" and new["done"] is False
    assert new["id"] not in {one["id"], two["id"], three["id"]}
    assert stored["links"] == [{"id": old["id"], "title": "Renamed", "url": "https://old.example"}]
    [changed] = api.feed("tasks", since=cursor)["items"]
    assert changed == stored

    # The same lists again (sets in another order) change nothing: no new version.
    again = _patch(api, stored, tags=["c", "c"], checklist=stored["checklist"])
    assert again.status_code == 200 and again.json()["version"] == 2
    # A stale If-Match is refused and changes nothing.
    stale = _patch(api, task, tags=[])
    assert stale.status_code == 412
    # Empty lists empty them.
    emptied = _patch(api, stored, tags=[], assignees=[], checklist=[], links=[]).json()
    assert (emptied["tags"], emptied["assignees"], emptied["checklist"], emptied["links"]) == (
        [],
        [],
        [],
        [],
    )


def test_item_ids_are_checked_and_a_refused_patch_changes_nothing(api: Api) -> None:
    task = api.task(checklist=[{"text": "One"}], links=[{"url": "https://a.example"}])
    [one] = task["checklist"]

    twice = _patch(api, task, checklist=[one, {**one, "text": "copy"}])
    another = _patch(api, task, links=[{"id": one["id"], "url": "https://b.example"}])

    assert twice.status_code == 422
    assert twice.json()["errors"] == [
        {"field": "checklist[1].id", "message": f"{one['id']!r} appears twice"}
    ]
    assert another.status_code == 422
    assert another.json()["errors"][0]["field"] == "links[0].id"
    assert api.http.get(f"/tasks/{task['id']}").json() == task


def test_an_assignee_who_left_stays_until_removed(api: Api) -> None:
    ann = api.create("people", email="ann@example.com", name="Ann")
    task = api.task(assignees=["ann@example.com"])
    assert api.http.delete(f"/people/{ann['id']}").status_code == 204

    kept = _patch(api, task, title="Renamed", assignees=["ann@example.com"])
    re_added = _patch(api, kept.json(), assignees=[])
    refused = _patch(api, re_added.json(), assignees=["ann@example.com"])

    assert kept.status_code == 200 and kept.json()["assignees"] == ["ann@example.com"]
    assert re_added.json()["assignees"] == []
    assert refused.status_code == 422
    assert "no person has the email 'ann@example.com'" in refused.json()["errors"][0]["message"]


def test_a_person_cannot_be_restored_onto_a_taken_email(api: Api) -> None:
    first = api.create("people", email="ann@example.com", name="Ann")
    api.http.delete(f"/people/{first['id']}")
    api.create("people", email="ann@example.com", name="Ann (new)")

    restore = api.http.patch(f"/people/{first['id']}", json={"deleted": False})

    assert restore.status_code == 422
    assert restore.json()["errors"][0]["field"] == "email"
