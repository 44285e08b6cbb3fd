"""Trello connector tests: a ``TrelloClient`` and ``TrelloSystem`` on the sandbox over HTTP.

``client`` sends through an ``httpx.AsyncClient`` that remembers every request it sends
(``sent``), so tests can check URLs and headers. ``sandbox`` reads the sandbox's own request
counts (``/_sandbox/stats``) and sets its fault knobs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from pmbridge.sandbox.server import ServerThread
from pmbridge.systems.trello import RateLimit, RetryPolicy, TrelloClient, TrelloLimits, TrelloSystem
from tests.fixtures.trello import oauth_header

# Short waits so retried faults stay fast; enough tries that seeded fault runs succeed.
FAST_RETRY = RetryPolicy(attempts=8, initial_wait=0.005, max_wait=0.05, jitter=0.005)
# The functional tests run against a sandbox without rate limits: no client-side spacing.
NO_LIMITS = TrelloLimits(
    token=RateLimit(100_000, 1.0, burst=1000, headroom=10),
    key=RateLimit(100_000, 1.0, burst=1000, headroom=10),
    members=RateLimit(100_000, 1.0, burst=1000, headroom=10),
)


class Sandbox:
    """The sandbox's control side: request counts and fault knobs."""

    def __init__(self, server: ServerThread, app: Any):
        self.server = server
        self.control = app.state.control
        # The control routes take the sandbox's own credentials, as its API does.
        config = app.state.config
        self._http = httpx.Client(
            base_url=server.url,
            timeout=10,
            headers={"Authorization": oauth_header(config.key, config.members[0].token)},
        )

    def stats(self) -> dict[str, Any]:
        response = self._http.get("/_sandbox/stats")
        response.raise_for_status()
        return response.json()

    def count(self, route: str) -> int:
        """Requests counted for ``route`` (e.g. ``"GET /1/boards/{id}/actions"``)."""
        return int(self.stats()["by_route"].get(route, 0))

    def status_count(self, status: int) -> int:
        return int(self.stats()["by_status"].get(str(status), 0))

    def reset(self) -> None:
        self._http.delete("/_sandbox/stats").raise_for_status()

    def faults(self, **knobs: Any) -> None:
        self.control.set_faults(**knobs)

    def clear_faults(self) -> None:
        self.control.clear_faults()

    def close(self) -> None:
        self._http.close()


@pytest.fixture
def sandbox(trello_server: ServerThread, trello_app: Any) -> Iterator[Sandbox]:
    box = Sandbox(trello_server, trello_app)
    yield box
    box.close()


@pytest.fixture
def api_root(trello_server: ServerThread) -> str:
    return trello_server.url + "/1"


@pytest.fixture
def sent() -> list[httpx.Request]:
    """Every request the test's clients sent."""
    return []


@pytest.fixture
async def http(sent: list[httpx.Request]) -> AsyncIterator[httpx.AsyncClient]:
    async def remember(request: httpx.Request) -> None:
        sent.append(request)

    async with httpx.AsyncClient(timeout=10, event_hooks={"request": [remember]}) as client:
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
