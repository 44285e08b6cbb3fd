"""The checks of contract 1.1's optional parts, and the check that reports which exist.

``check_capabilities`` always runs and says what the implementation declares. Each optional
part has a check that runs only when the part is declared (a 1.0 implementation conforms
without them); a declared part must then behave as the contract says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pmbridge.check.capabilities import FEATURES
from pmbridge.check.probe import Probe, check_record
from pmbridge.check.results import CheckFailed

OptionalCheck = tuple[str, str, Callable[[Probe], Awaitable[str]]]


async def check_capabilities(probe: Probe) -> str:
    found = await probe.capabilities()
    if found.contract == "1.0":
        return (
            "GET /capabilities answered 404: contract 1.0, none of the optional parts "
            f"({', '.join(FEATURES)})"
        )
    declared = [f for f in FEATURES if f in found.features]
    missing = [f for f in FEATURES if f not in found.features]
    statuses = f"statuses {', '.join(found.statuses)}" if found.statuses else "statuses not named"
    return (
        f"contract {found.contract}; supports {', '.join(declared) or 'no optional part'}"
        + (f"; not {', '.join(missing)}" if missing else "")
        + f"; {statuses}"
    )


async def _task(probe: Probe, **fields: Any) -> dict[str, Any]:
    body = {"project_id": await probe.parent("projects"), "title": probe.label("1.1"), **fields}
    return await probe.create("tasks", body)


async def _patch(probe: Probe, task: dict[str, Any], **changes: Any) -> dict[str, Any]:
    path = f"/tasks/{task['id']}"
    doing = f"PATCH {path} with If-Match"
    response = await probe.call(
        "PATCH", path, body=changes, headers={"If-Match": f'"{task["version"]}"'}
    )
    probe.expect(response, 200, doing)
    record = probe.json_of(response, doing)
    check_record(record, doing)
    return record


async def _in_feed(probe: Probe, since: str, task: dict[str, Any], name: str) -> None:
    items = await probe.read_feed("tasks", since, 1000)
    mine = [item for item in items if item.get("id") == task["id"]]
    if not mine or mine[-1].get(name) != task[name]:
        raise CheckFailed(
            f"GET /tasks?since=… carried task {task['id']} with {name}="
            f"{mine[-1].get(name) if mine else 'nothing'!r}: expected {task[name]!r}"
        )


def _expect(record: dict[str, Any], name: str, expected: Any, doing: str) -> None:
    if record.get(name) != expected:
        raise CheckFailed(f"{doing} answered {name}={record.get(name)!r}: expected {expected!r}")


async def check_tags(probe: Probe) -> str:
    since = await probe.head()
    task = await _task(probe, tags=["pmbridge-b", "pmbridge-a", "pmbridge-b"])
    _expect(task, "tags", ["pmbridge-a", "pmbridge-b"], "POST /tasks with tags b, a, b")
    changed = await _patch(probe, task, tags=["pmbridge-c"])
    _expect(changed, "tags", ["pmbridge-c"], f"PATCH /tasks/{task['id']} tags [c]")
    await _in_feed(probe, since, changed, "tags")
    return "tags came back sorted without duplicates, PATCH replaced them, the feed carries them"


async def _a_person(probe: Probe) -> str:
    """The email of a live person: the first of GET /people, else one the suite creates."""
    for item in (await probe.feed_page("people", None, 100))["items"]:
        if not item.get("deleted") and isinstance(item.get("email"), str):
            return str(item["email"])
    response = await probe.call(
        "POST",
        "/people",
        body={"email": f"pmbridge-check-{probe.run_id}@example.com", "name": probe.label("person")},
        headers={"Idempotency-Key": probe.new_key()},
    )
    if response.status_code != 201:
        raise CheckFailed(
            "GET /people lists nobody and POST /people is not available: add one person to "
            "check assignees"
        )
    return str(probe.json_of(response, "POST /people")["email"])


async def check_assignees(probe: Probe) -> str:
    if "people" not in (await probe.capabilities()).features:
        raise CheckFailed("assignees are declared without people: declare and serve GET /people")
    email = await _a_person(probe)
    task = await _task(probe, assignees=[email.upper()])
    _expect(task, "assignees", [email.lower()], f"POST /tasks with assignees [{email.upper()}]")
    nobody = f"pmbridge-check-nobody-{probe.run_id}@example.com"
    unknown = await probe.call(
        "PATCH", f"/tasks/{task['id']}", body={"assignees": [nobody]}, headers={}
    )
    probe.expect(unknown, 422, f"PATCH /tasks/{task['id']} assigning {nobody} (no such person)")
    emptied = await _patch(probe, task, assignees=[])
    _expect(emptied, "assignees", [], f"PATCH /tasks/{task['id']} assignees []")
    return f"{email} was assigned (emails in lower case), an unknown email refused (422), removed"


async def check_checklist(probe: Probe) -> str:
    since = await probe.head()
    task = await _task(probe, checklist=[{"text": "one"}, {"text": "two", "done": True}])
    items = task.get("checklist")
    doing = "POST /tasks with a checklist of 2 items"
    if not isinstance(items, list) or len(items) != 2:
        raise CheckFailed(f"{doing} answered checklist={items!r}")
    if not all(isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"] for i in items):
        raise CheckFailed(f"{doing} answered items without ids: {items!r}")
    if [(i.get("text"), i.get("done")) for i in items] != [("one", False), ("two", True)]:
        raise CheckFailed(f"{doing} answered {items!r}: expected one (not done), two (done)")
    one, two = items
    changed = await _patch(
        probe,
        task,
        checklist=[{**two, "done": False}, {"id": one["id"], "text": "one!"}, {"text": "three"}],
    )
    after = changed.get("checklist") or []
    path = f"PATCH /tasks/{task['id']}"
    if [(i.get("id"), i.get("text"), i.get("done")) for i in after[:2]] != [
        (two["id"], "two", False),
        (one["id"], "one!", False),
    ]:
        raise CheckFailed(f"{path} (reordered, edited) answered {after!r}: ids must be kept")
    if len(after) != 3 or after[2].get("id") in (None, one["id"], two["id"]):
        raise CheckFailed(f"{path} answered {after!r}: the new item needs a new id")
    await _in_feed(probe, since, changed, "checklist")
    stale_id = await probe.call(
        "PATCH",
        f"/tasks/{task['id']}",
        body={"checklist": [{"id": f"pmbridge-check-{probe.run_id}", "text": "x"}]},
    )
    probe.expect(stale_id, 422, f"{path} with an item id the task does not have")
    return (
        "items got ids, kept them when reordered and edited, a new item got its own; "
        "an unknown id answered 422"
    )


async def check_links(probe: Probe) -> str:
    task = await _task(probe, links=[{"title": "pmbridge", "url": "https://example.com/a"}])
    links = task.get("links")
    if not isinstance(links, list) or len(links) != 1 or not links[0].get("id"):
        raise CheckFailed(f"POST /tasks with one link answered links={links!r}")
    [link] = links
    renamed = await _patch(probe, task, links=[{**link, "title": "renamed"}])
    _expect(
        renamed,
        "links",
        [{"id": link["id"], "title": "renamed", "url": "https://example.com/a"}],
        f"PATCH /tasks/{task['id']} renaming the link",
    )
    removed = await _patch(probe, renamed, links=[])
    _expect(removed, "links", [], f"PATCH /tasks/{task['id']} links []")
    return "a link got an id, kept it when renamed, and was removed"


async def check_people(probe: Probe) -> str:
    await _a_person(probe)
    first = await probe.feed_page("people", None, 1)
    items = list(first["items"])
    if first["has_more"]:
        items += (await probe.feed_page("people", first["next_since"], 1))["items"]
    if len(items) > 2:
        raise CheckFailed(f"GET /people?limit=1 answered {len(items)} items over two pages")
    for item in items:
        if item.get("deleted"):
            continue
        for name in ("id", "email", "name"):
            if not isinstance(item.get(name), str) or not item[name]:
                raise CheckFailed(f"GET /people answered a person without a string {name}")
    return "GET /people pages like the other feeds; each person has id, email and name"


OPTIONAL_CHECKS: tuple[OptionalCheck, ...] = (
    ("tags", "tags (optional): a set, replaced whole by PATCH", check_tags),
    ("assignees", "assignees (optional): people by email, replaced whole", check_assignees),
    ("checklist", "checklist (optional): ordered items keep their ids", check_checklist),
    ("links", "links (optional): items keep their ids", check_links),
    ("people", "people (optional): GET /people is a change feed", check_people),
)
