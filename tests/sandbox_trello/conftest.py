"""Helpers for the Trello sandbox tests: one server per module with a fresh world per test,
an authenticated client, and a board to work on.

Starting and stopping a server costs about 0.2 s, so these tests share one server per module
and give each test a new ``World`` (``create_app`` reads ``app.state.world`` per request).
Tests of other parts keep using ``trello_server`` / ``trello_app`` from tests/fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.app import create_app
from pmbridge.sandbox.trello.world import World
from tests.fixtures.trello import make_test_config


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[tuple[ServerThread, Any]]:
    app = create_app(make_test_config())
    with ServerThread(app) as server:
        yield server, app


@pytest.fixture
def sandbox_app(module_sandbox: tuple[ServerThread, Any]) -> Any:
    """The module's sandbox app, with a fresh world and no faults or counts left over."""
    app = module_sandbox[1]
    app.state.world = World.from_config(app.state.config)
    app.state.control.clear_faults()
    app.state.control.stats.reset()
    return app


@pytest.fixture
def sandbox_server(module_sandbox: tuple[ServerThread, Any], sandbox_app: Any) -> ServerThread:
    return module_sandbox[0]


@pytest.fixture
def api(sandbox_server: ServerThread, trello_auth: dict[str, str]) -> Iterator[httpx.Client]:
    """A client on the API root that authenticates with the OAuth header."""
    with httpx.Client(
        base_url=sandbox_server.url + "/1",
        headers={"Authorization": trello_auth["authorization"]},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
def anonymous(sandbox_server: ServerThread) -> Iterator[httpx.Client]:
    """A client on the API root that sends no credentials."""
    with httpx.Client(base_url=sandbox_server.url + "/1", timeout=10) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    """The JSON of a 200 answer (fails the test with the body otherwise)."""
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return response.json()


@pytest.fixture
def board(api: httpx.Client) -> dict:
    """A board in a workspace, with Trello's default lists To Do, Doing, Done."""
    org = ok(api.post("/organizations", params={"displayName": "Acme"}))
    created = ok(api.post("/boards", params={"name": "Project X", "idOrganization": org["id"]}))
    lists = ok(api.get(f"/boards/{created['id']}/lists"))
    return {**created, "lists": lists, "organization": org}
