"""The serve test bench: the engine's bench (both sandboxes, a store, people on each side)
plus a ``Service`` factory and helpers that wait for what a user would see.

The store is SQLite unless a test asks for PostgreSQL too
(``@pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)``): a service runs the
same engine as ``pmbridge sync``, which tests/engine checks on both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr

from pmbridge.sandbox.trello.config import SandboxConfig
from pmbridge.sandbox.trello.webhooks import registry
from pmbridge.serve import Service
from pmbridge.sockets import listening_socket
from tests.fixtures.bridge import UNLIMITED, Bridge
from tests.fixtures.database import empty_database_url

T = TypeVar("T")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database_url(getattr(request, "param", "sqlite"), tmp_path) as url:
        yield url


@pytest.fixture
def make_service(bridge: Bridge, trello_config: SandboxConfig) -> Callable[..., Service]:
    """``make_service(public=True, **options)``: a Service on the bench's settings, with the
    Trello sandbox's app secret; with ``public`` its receiver gets a free port."""

    def make(*, public: bool = True, **options: Any) -> Service:
        settings = bridge.settings.model_copy(
            update={"trello_secret": SecretStr(trello_config.secret)}
        )
        if public:
            sock = listening_socket("127.0.0.1", 0)  # a free port, no race
            options.setdefault("sock", sock)
            options.setdefault("public_url", f"http://127.0.0.1:{sock.getsockname()[1]}")
        options.setdefault("trello_limits", UNLIMITED)
        return Service(settings, **options)

    return make


async def until(check: Callable[[], T], within: float = 10.0, what: str = "") -> T:
    """``check()`` (blocking calls allowed: it runs in a thread) once it is truthy."""
    deadline = time.monotonic() + within
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {within} s: {what or check}"
        await asyncio.sleep(0.05)


async def settled(service: Service, quiet: float) -> int:
    """Wait until no cycle has run for ``quiet`` seconds; return the cycle count."""
    while True:
        seen = service.cycles
        await asyncio.sleep(quiet)
        if service.cycles == seen and service.idle:
            return seen


def webhooks_at_trello(bridge: Bridge) -> list[dict[str, Any]]:
    """The webhooks the Trello sandbox holds, as Trello describes them."""
    token = bridge.settings.trello_token
    assert token is not None
    hooks = registry(bridge.trello_app.state).of_token(token.get_secret_value())
    return [hook.to_json() for hook in hooks]


def subscriptions_at_custompms(bridge: Bridge) -> list[dict[str, Any]]:
    answer = bridge.pms.http.get("/subscriptions")
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def by_name(items: list[dict[str, Any]], key: str = "name") -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}
