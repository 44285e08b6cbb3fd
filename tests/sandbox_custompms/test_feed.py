"""The change feed of the reference Custompms: complete, ordered and durable.

Several clients write at once while another tails the feed; afterwards the feed read from
the start (in small pages) holds every record exactly once, at its latest version, in the
order the changes were made, and no page boundary skips or repeats anything. Cursors keep
working after the server restarts on the same database file.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from pmbridge.sandbox.custompms import create_app
from pmbridge.sandbox.server import ServerThread
from tests.sandbox_custompms.conftest import Api

WRITERS = 8
RECORDS_PER_WRITER = 12
SHARED_PATCHES_PER_WRITER = 3


def _read_all(api: Api, resource: str, limit: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Every item of the feed from the start, and the cursor after each page."""
    items: list[dict[str, Any]] = []
    cursors: list[str] = []
    since = None
    while True:
        page = api.feed(resource, since=since, limit=limit)
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursors.append(page["next_since"])
        since = page["next_since"]
        if not page["has_more"]:
            return items, cursors


def test_concurrent_writers_lose_and_duplicate_nothing(
    custompms_server: ServerThread, custompms_token: str, api: Api
) -> None:
    shared = api.customer(name="Shared", description="start")
    final_version: dict[str, int] = {}
    last_write_order: dict[int, list[str]] = {}  # writer -> its record ids by last write
    errors: list[BaseException] = []
    writers_done = threading.Event()
    tailed: dict[str, int] = {}

    def write(writer: int) -> None:
        try:
            with httpx.Client(
                base_url=custompms_server.url,
                headers={"Authorization": f"Bearer {custompms_token}"},
                timeout=30,
            ) as client:
                mine: list[str] = []
                for n in range(RECORDS_PER_WRITER):
                    created = client.post("/customers", json={"name": f"w{writer}-{n}"})
                    assert created.status_code == 201, created.text
                    mine.append(created.json()["id"])
                    final_version[mine[-1]] = 1
                    if n % 2:  # update an earlier record of this writer
                        target = mine[n // 2]
                        patched = client.patch(
                            f"/customers/{target}", json={"description": f"edit {n}"}
                        )
                        assert patched.status_code == 200, patched.text
                        final_version[target] = patched.json()["version"]
                        mine.remove(target)
                        mine.append(target)
                    if n < SHARED_PATCHES_PER_WRITER:
                        patched = client.patch(
                            f"/customers/{shared['id']}", json={"description": f"w{writer}-{n}"}
                        )
                        assert patched.status_code == 200, patched.text
                last_write_order[writer] = mine
        except BaseException as err:
            errors.append(err)

    def tail() -> None:
        # Follows the feed while the writers write, as a sync client would.
        try:
            with httpx.Client(
                base_url=custompms_server.url,
                headers={"Authorization": f"Bearer {custompms_token}"},
                timeout=30,
            ) as client:
                since = None
                while True:
                    finished = writers_done.is_set()
                    params: dict[str, Any] = {"limit": 5}
                    if since is not None:
                        params["since"] = since
                    page = client.get("/customers", params=params).json()
                    for item in page["items"]:
                        tailed[item["id"]] = item["version"]
                    since = page["next_since"]
                    if finished and not page["has_more"]:
                        return
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    tailer = threading.Thread(target=tail)
    tailer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    writers_done.set()
    tailer.join(timeout=60)
    assert not errors, errors

    shared_version = 1 + WRITERS * SHARED_PATCHES_PER_WRITER
    expected = {**final_version, shared["id"]: shared_version}
    assert len(expected) == WRITERS * RECORDS_PER_WRITER + 1
    # The live follower saw every record at its final version: no change was skipped.
    assert tailed == expected

    items, cursors = _read_all(api, "customers", limit=7)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "a record appears twice"
    assert {item["id"]: item["version"] for item in items} == expected
    for item in items[::6]:  # each item is the record's current state
        assert item == api.http.get(f"/customers/{item['id']}").json()
    # Change order: each writer's records appear in the order of their last writes.
    position = {record_id: index for index, record_id in enumerate(ids)}
    for order in last_write_order.values():
        assert [position[record_id] for record_id in order] == sorted(
            position[record_id] for record_id in order
        )
    # Reading on from any page's cursor gives exactly the rest of the feed, in order.
    for page_number, cursor in enumerate(cursors[:-1]):
        rest = api.feed("customers", since=cursor)["items"]
        assert [item["id"] for item in rest] == ids[(page_number + 1) * 7 :]
    assert api.feed("customers", since=cursors[-1]) == {
        "items": [],
        "next_since": cursors[-1],
        "has_more": False,
    }


def test_feeds_are_per_resource_and_cursors_are_shared(api: Api) -> None:
    project = api.project()
    customers_page = api.feed("customers")
    projects_page = api.feed("projects")
    assert [item["id"] for item in projects_page["items"]] == [project["id"]]
    assert [item["id"] for item in customers_page["items"]] == [project["customer_id"]]
    # A cursor from one resource's feed is valid for another's.
    assert api.feed("tasks", since=projects_page["next_since"])["items"] == []
    # Without since, an empty feed still gives a cursor to start from.
    empty = api.feed("comments")
    assert empty["items"] == [] and empty["has_more"] is False and empty["next_since"]


def test_cursors_survive_a_restart(tmp_path: Path, custompms_token: str) -> None:
    db = f"sqlite:///{tmp_path / 'custompms.db'}"
    with ServerThread(create_app(db, token=custompms_token)) as first:
        api = Api(first.url, custompms_token)
        old = api.customer(name="Before restart")
        cursor = api.feed("customers")["next_since"]
        api.close()
    with ServerThread(create_app(db, token=custompms_token)) as second:
        api = Api(second.url, custompms_token)
        assert api.feed("customers", since=cursor) == {
            "items": [],
            "next_since": cursor,
            "has_more": False,
        }
        new = api.customer(name="After restart")
        page = api.feed("customers", since=cursor)
        assert [item["id"] for item in page["items"]] == [new["id"]]
        everything = api.feed("customers")["items"]
        assert [item["id"] for item in everything] == [old["id"], new["id"]]
        api.close()
