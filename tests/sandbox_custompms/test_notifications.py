"""Change notifications of the reference Custompms: signed POSTs that verify."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pmbridge.sandbox.server import ServerThread
from tests.sandbox_custompms.conftest import Api

SECRET = "hook-secret-123"


class Receiver:
    """A webhook receiver: records what arrives, fails the first ``fail_first`` deliveries."""

    def __init__(self, fail_first: int = 0):
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures_left = fail_first
        self.attempts = 0
        self._arrived = threading.Condition()
        self.app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        with self._arrived:
            self.attempts += 1
            if self.failures_left:
                self.failures_left -= 1
                return Response(status_code=500)
            self.received.append((dict(request.headers), body))
            self._arrived.notify_all()
        return Response(status_code=204)

    def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.received)} of {count} notifications arrived"
                self._arrived.wait(left)
            return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, ServerThread]]:
    hook = Receiver(fail_first=1)
    with ServerThread(hook.app) as server:
        yield hook, server


def test_changes_are_notified_with_a_valid_signature(
    api: Api, receiver: tuple[Receiver, ServerThread]
) -> None:
    hook, hook_server = receiver
    created = api.http.post(
        "/subscriptions", json={"url": hook_server.url + "/hook", "secret": SECRET}
    )
    assert created.status_code == 201
    subscription = created.json()
    assert SECRET not in created.text
    listed = api.http.get("/subscriptions").json()["items"]
    assert listed == [subscription]

    task = api.task()  # a customer, a project and a task: three changes
    api.http.patch(f"/tasks/{task['id']}", json={"title": "Renamed"})
    api.http.delete(f"/tasks/{task['id']}")

    notes = hook.wait_for(5)
    assert hook.attempts == 6  # the first delivery failed and was retried
    for headers, body in hook.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-custompms-signature"], expected)
        assert headers["content-type"] == "application/json"
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for note in notes:
        assert set(note) == {"resource", "id", "version", "deleted"}
        by_resource.setdefault(note["resource"], []).append(note)
    assert by_resource["customers"] == [
        {"resource": "customers", "id": task_customer(api, task), "version": 1, "deleted": False}
    ]
    assert sorted((n["version"], n["deleted"]) for n in by_resource["tasks"]) == [
        (1, False),
        (2, False),
        (3, True),
    ]
    assert {n["id"] for n in by_resource["tasks"]} == {task["id"]}


def task_customer(api: Api, task: dict[str, Any]) -> str:
    project = api.http.get(f"/projects/{task['project_id']}").json()
    return project["customer_id"]


def test_a_removed_subscription_gets_nothing_more(api: Api) -> None:
    gone, kept = Receiver(), Receiver()
    with ServerThread(gone.app) as gone_server, ServerThread(kept.app) as kept_server:
        ids = [
            api.http.post("/subscriptions", json={"url": s.url + "/hook", "secret": SECRET}).json()[
                "id"
            ]
            for s in (gone_server, kept_server)
        ]
        api.customer(name="Before")
        gone.wait_for(1)
        kept.wait_for(1)
        assert api.http.delete(f"/subscriptions/{ids[0]}").status_code == 204
        assert [s["id"] for s in api.http.get("/subscriptions").json()["items"]] == [ids[1]]
        api.customer(name="After")
        kept.wait_for(2)
        assert len(gone.received) == 1
