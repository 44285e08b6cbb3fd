"""Trello connector tests: a ``TrelloClient`` and ``TrelloSystem`` on the sandbox app, in
process (``tests.fixtures.inprocess``: the same app and fault knobs, no socket).

``client`` sends through an ``httpx.AsyncClient`` that remembers every request it sends
(``sent``), so tests can check URLs and headers; requests to ``api_root`` go into the sandbox
app, any other URL over the network. ``sandbox`` reads the sandbox's own request counts and
sets its fault knobs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pmbridge.systems.trello import RateLimit, RetryPolicy, TrelloClient, TrelloLimits, TrelloSystem
from tests.fixtures.inprocess import InProcess, in_process

# Short waits so retried faults stay fast; enough tries that seeded fault runs succeed.
FAST_RETRY = RetryPolicy(attempts=8, initial_wait=0.005, max_wait=0.05, jitter=0.005)
# The functional tests run against a sandbox without rate limits: no client-side spacing.
NO_LIMITS = TrelloLimits(
    token=RateLimit(100_000, 1.0, burst=1000, headroom=10),
    key=RateLimit(100_000, 1.0, burst=1000, headroom=10),
    members=RateLimit(100_000, 1.0, burst=1000, headroom=10),
)


SANDBOX_ROOT = "http://trello.sandbox"


class Sandbox:
    """The sandbox's control side: its own request counts and fault knobs."""

    def __init__(self, app: Any):
        self.control = app.state.control

    def stats(self) -> dict[str, Any]:
        return dict(self.control.stats.snapshot())

    def count(self, route: str) -> int:
        """Requests counted for ``route`` (e.g. ``"GET /1/boards/{id}/actions"``)."""
        return int(self.stats()["by_route"].get(route, 0))

    def status_count(self, status: int) -> int:
        return int(self.stats()["by_status"].get(str(status), 0))

    def reset(self) -> None:
        self.control.stats.reset()

    def faults(self, **knobs: Any) -> None:
        self.control.set_faults(**knobs)

    def clear_faults(self) -> None:
        self.control.clear_faults()


@pytest.fixture
def sandbox(trello_app: Any) -> Sandbox:
    return Sandbox(trello_app)


@pytest.fixture
async def trello_transport(trello_app: Any) -> AsyncIterator[InProcess]:
    """A transport into the test's sandbox app, started for the test."""
    async with in_process(trello_app) as transport:
        yield transport


@pytest.fixture
def api_root() -> str:
    return SANDBOX_ROOT + "/1"


@pytest.fixture
def sent() -> list[httpx.Request]:
    """Every request the test's clients sent."""
    return []


@pytest.fixture
async def http(
    sent: list[httpx.Request], trello_transport: InProcess
) -> AsyncIterator[httpx.AsyncClient]:
    async def remember(request: httpx.Request) -> None:
        sent.append(request)

    async with httpx.AsyncClient(
        timeout=10,
        event_hooks={"request": [remember]},
        mounts={SANDBOX_ROOT: trello_transport},
    ) as client:
        yield client


@pytest.fixture
async def client(
    api_root: str, trello_auth: dict[str, str], http: httpx.AsyncClient
) -> AsyncIterator[TrelloClient]:
    async with TrelloClient(
        api_root,
        trello_auth["key"],
        trello_auth["token"],
        http=http,
        limits=NO_LIMITS,
        retry=FAST_RETRY,
    ) as trello:
        yield trello


@pytest.fixture
def system(client: TrelloClient) -> TrelloSystem:
    return TrelloSystem(client)


@pytest.fixture
async def workspace(client: TrelloClient) -> dict[str, Any]:
    return await client.create_organization("Acme Inc", desc="The customer")


@pytest.fixture
async def board(client: TrelloClient, workspace: dict[str, Any]) -> dict[str, Any]:
    """A board of ``workspace`` with the lists To Do, Doing and Done (``board["lists"]``)."""
    created = await client.create_board(
        "Website", idOrganization=workspace["id"], defaultLists=False
    )
    lists = {}
    for pos, name in enumerate(("To Do", "Doing", "Done"), start=1):
        lists[name] = await client.create_list(created["id"], name, pos=pos * 16384)
    return {**created, "lists": lists}
