"""The checks of a Custompms change feed (``docs/custompms-api.yaml``, the feeds): one
scenario of writes, read back once, and an evaluation of it per check — every change once
through paging, changes in order at their latest change, deletions as tombstones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pmbridge.check.probe import Probe
from pmbridge.check.results import CheckFailed, CheckFunction


@dataclass(slots=True)
class FeedScenario:
    """Three tasks created in order; the first changed and the second deleted afterwards."""

    since: str
    ids: list[str]
    versions: dict[str, int]
    items: list[dict[str, Any]]
    tail: dict[str, Any]


async def feed_scenario(probe: Probe) -> FeedScenario:
    since = await probe.head()
    project = await probe.parent("projects")
    made = [
        await probe.create("tasks", {"project_id": project, "title": probe.label(f"feed {n}")})
        for n in (1, 2, 3)
    ]
    ids = [str(task["id"]) for task in made]
    first, second, _ = ids
    changed = await probe.call(
        "PATCH",
        f"/tasks/{first}",
        body={"status": await probe.status(1)},
        headers={"If-Match": f'"{made[0]["version"]}"'},
    )
    probe.expect(changed, 200, f"PATCH /tasks/{first}")
    probe.expect(await probe.call("DELETE", f"/tasks/{second}"), 204, f"DELETE /tasks/{second}")
    versions = {first: probe.json_of(changed, "PATCH")["version"]}
    items = await probe.read_feed("tasks", since, 1)
    last = await probe.feed_page("tasks", since, 1000)
    tail = await probe.feed_page("tasks", last["next_since"], 1000)
    tail["since"] = last["next_since"]
    return FeedScenario(since=since, ids=ids, versions=versions, items=items, tail=tail)


def scenario_check(evaluate: Callable[[FeedScenario], str]) -> CheckFunction:
    """A check over the shared feed scenario (set up once, by the first check using it)."""

    async def run(probe: Probe) -> str:
        scenario = await probe.shared("feed scenario", feed_scenario)
        return evaluate(scenario)

    return run


def _positions(scenario: FeedScenario) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {id: [] for id in scenario.ids}
    for index, item in enumerate(scenario.items):
        if item.get("id") in seen:
            seen[item["id"]].append(index)
    return seen


def evaluate_completeness(scenario: FeedScenario) -> str:
    where = f"GET /tasks?since={scenario.since} (paged with limit=1)"
    for id, positions in _positions(scenario).items():
        if not positions:
            raise CheckFailed(f"{where} left out the changed task {id}")
        if len(positions) > 1:
            raise CheckFailed(f"{where} listed task {id} {len(positions)} times: expected once")
    if scenario.tail["items"] == [] and scenario.tail["next_since"] != scenario.tail["since"]:
        raise CheckFailed(
            "GET /tasks at the end of the feed answered no items but a new next_since: "
            "expected the same cursor back"
        )
    return f"all 3 changed tasks appeared once over {len(scenario.items)} item(s) of limit=1 pages"


def evaluate_order(scenario: FeedScenario) -> str:
    first, second, third = scenario.ids
    expected = [third, first, second]  # each at its latest change: create 3, patch 1, delete 2
    seen = [item["id"] for item in scenario.items if item.get("id") in scenario.ids]
    present = [id for id in expected if id in seen]
    if [id for id in seen if id in present] != present or len(seen) != len(set(seen)):
        raise CheckFailed(
            f"GET /tasks?since={scenario.since} listed {seen}: expected {present} "
            "(each task once, at its latest change: created 1, 2, 3; changed 1; deleted 2)"
        )
    latest = next((i for i in scenario.items if i.get("id") == first), None)
    if latest is not None and latest.get("version") != scenario.versions[first]:
        raise CheckFailed(
            f"the feed carried task {first} at version {latest.get('version')}: expected its "
            f"current state, version {scenario.versions[first]}"
        )
    return "changes came in change order, each task once at its latest change"


def evaluate_tombstones(scenario: FeedScenario) -> str:
    deleted = scenario.ids[1]
    item = next((i for i in scenario.items if i.get("id") == deleted), None)
    if item is None:
        raise CheckFailed(
            f"GET /tasks?since={scenario.since} left out the deleted task {deleted}: "
            "expected its tombstone"
        )
    if item.get("deleted") is not True:
        raise CheckFailed(
            f"the feed carried the deleted task {deleted} with deleted={item.get('deleted')!r}"
        )
    if not isinstance(item.get("version"), int) or not isinstance(item.get("updated_at"), str):
        raise CheckFailed(f"the tombstone of task {deleted} lacks version or updated_at")
    return f"the deleted task {deleted} appeared as a tombstone (deleted, version, updated_at)"
