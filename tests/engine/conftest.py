"""The engine's test bench: both sandboxes on 127.0.0.1, a store, and people on each side.

``bridge`` gives a test what a user has: a Custompms and a Trello they can edit over HTTP
(``bridge.pms`` and ``bridge.trello``, plain httpx clients, as a person's tools would be),
``bridge.sync()`` to run one cycle through the real CLI wiring, and the sandboxes' request
counters to check what reached each system.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pmbridge.config import Settings, load_settings
from pmbridge.engine.report import CycleReport
from pmbridge.engine.run import SyncOptions
from pmbridge.sandbox.server import ServerThread
from pmbridge.store import Store, open_store
from pmbridge.systems.trello import RateLimit, TrelloLimits
from pmbridge.wiring import open_engine
from tests.fixtures.database import BACKENDS, empty_database_url

# The test sandboxes run without rate limits, so the client need not keep to Trello's.
UNLIMITED = TrelloLimits(
    token=RateLimit(100_000, 10.0, burst=1000), key=RateLimit(100_000, 10.0, burst=1000)
)

_keys = itertools.count()


class Pms:
    """A person (or another program) using the reference Custompms over HTTP."""

    def __init__(self, server: ServerThread, token: str):
        self.url = server.url
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})

    def create(self, resource: str, **body: Any) -> dict[str, Any]:
        answer = self.http.post(
            f"/{resource}", json=body, headers={"Idempotency-Key": f"test-{next(_keys)}"}
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def get(self, resource: str, id: str) -> dict[str, Any] | None:
        answer = self.http.get(f"/{resource}/{id}")
        if answer.status_code in (404, 410):
            return None
        assert answer.status_code == 200, answer.text
        return answer.json()

    def update(self, resource: str, id: str, **body: Any) -> dict[str, Any]:
        answer = self.http.patch(f"/{resource}/{id}", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def delete(self, resource: str, id: str) -> None:
        answer = self.http.delete(f"/{resource}/{id}")
        assert answer.status_code in (200, 204), answer.text

    def all(self, resource: str) -> list[dict[str, Any]]:
        """Every live record of ``resource`` (read from the feed)."""
        items: dict[str, dict[str, Any]] = {}
        since: str | None = None
        while True:
            params = {"limit": 1000, **({"since": since} if since else {})}
            page = self.http.get(f"/{resource}", params=params).json()
            for item in page["items"]:
                items[item["id"]] = item
            since = page["next_since"]
            if not page["has_more"]:
                break
        return [i for i in items.values() if not i.get("deleted")]


class TrelloUser:
    """A person using Trello (the sandbox) over its REST API."""

    def __init__(self, server: ServerThread, auth: dict[str, str]):
        self.root = server.url + "/1"
        self.http = httpx.Client(
            base_url=self.root, headers={"Authorization": auth["authorization"]}
        )

    def call(self, method: str, path: str, **params: Any) -> Any:
        answer = self.http.request(method, path, params=params or None)
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def organizations(self) -> list[dict[str, Any]]:
        return self.call("GET", "/members/me/organizations")

    def boards(self, org_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/organizations/{org_id}/boards", filter="all")

    def cards(self, board_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/boards/{board_id}/cards/all")

    def lists(self, board_id: str) -> dict[str, str]:
        """List id → name."""
        return {
            item["id"]: item["name"]
            for item in self.call("GET", f"/boards/{board_id}/lists", filter="all")
        }

    def comments(self, board_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/boards/{board_id}/actions", filter="commentCard", limit=1000)


@dataclass
class Bridge:
    settings: Settings
    pms: Pms
    trello: TrelloUser
    trello_app: Any
    pms_app: Any
    trello_server: ServerThread
    pms_server: ServerThread
    reports: list[CycleReport] = field(default_factory=list)

    def sync(self, **options: Any) -> CycleReport:
        """One cycle, as `pmbridge sync` runs it."""

        async def go() -> CycleReport:
            async with open_engine(self.settings, trello_limits=UNLIMITED) as runtime:
                return await runtime.engine.run(SyncOptions(**options))

        report = asyncio.run(go())
        self.reports.append(report)
        return report

    def counts(self) -> dict[str, dict[str, Any]]:
        """Requests counted at each sandbox since the last reset."""
        return {
            "trello": self.trello_app.state.control.stats.snapshot(),
            "custompms": self.pms_app.state.control.stats.snapshot(),
        }

    def reset_counts(self) -> None:
        self.trello_app.state.control.stats.reset()
        self.pms_app.state.control.stats.reset()

    def store(self) -> Store:
        return open_store(self.settings.database_url)

    # What a person would check on Trello, by the Custompms side's names.
    def only_board(self) -> dict[str, Any]:
        orgs = self.trello.organizations()
        boards = [b for o in orgs for b in self.trello.boards(o["id"])]
        assert len(boards) == 1, boards
        return boards[0]


@pytest.fixture(params=["sqlite"])
def store_backend(request: pytest.FixtureRequest) -> str:
    """The state store under ``bridge``: SQLite. A test whose store behaviour differs on
    PostgreSQL (journal, crash repair, JSON values) says so with ``on_both_stores``."""
    return str(request.param)


# Runs the marked test once on SQLite and once on PostgreSQL (skipped, with the reason,
# when no PostgreSQL answers at 127.0.0.1:5432).
on_both_stores = pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)


@pytest.fixture
def bridge(
    trello_app: Any,
    trello_server: ServerThread,
    trello_auth: dict[str, str],
    custompms_app: Any,
    custompms_server: ServerThread,
    custompms_token: str,
    store_backend: str,
    tmp_path: Path,
) -> Iterator[Bridge]:
    """Both sandboxes and a state store (see ``store_backend``)."""
    with empty_database_url(store_backend, tmp_path) as database_url:
        yield _bridge(
            trello_app,
            trello_server,
            trello_auth,
            custompms_app,
            custompms_server,
            custompms_token,
            database_url,
        )


def _bridge(
    trello_app: Any,
    trello_server: ServerThread,
    trello_auth: dict[str, str],
    custompms_app: Any,
    custompms_server: ServerThread,
    custompms_token: str,
    database_url: str,
) -> Bridge:
    settings = load_settings(
        None,
        trello_url=trello_server.url + "/1",
        trello_key=trello_auth["key"],
        trello_token=trello_auth["token"],
        custompms_url=custompms_server.url,
        custompms_token=custompms_token,
        database_url=database_url,
    )
    return Bridge(
        settings,
        Pms(custompms_server, custompms_token),
        TrelloUser(trello_server, trello_auth),
        trello_app,
        custompms_app,
        trello_server,
        custompms_server,
    )


def seed(pms: Pms, *, tasks: int = 2, comments: bool = True) -> dict[str, Any]:
    """A customer with one project, ``tasks`` tasks (each with a comment), a project comment."""
    customer = pms.create(
        "customers", name="Acme", description="Anvils", website="https://acme.example"
    )
    project = pms.create(
        "projects",
        customer_id=customer["id"],
        name="Website",
        description="New site",
        archived=False,
    )
    made = [
        pms.create(
            "tasks",
            project_id=project["id"],
            title=f"Task {i}",
            description=f"Do thing {i}",
            status="todo",
            completed=False,
            archived=False,
        )
        for i in range(tasks)
    ]
    if comments:
        for task in made:
            pms.create("comments", task_id=task["id"], author="Alice", text=f"On {task['title']}")
        pms.create("comments", project_id=project["id"], author="Bob", text="Kick-off on Monday")
    return {"customer": customer, "project": project, "tasks": made}
