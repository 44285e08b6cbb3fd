"""The client's limiter against the sandbox with Trello's rate limits switched on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.app import create_app
from pmbridge.sandbox.trello.config import MemberConfig, SandboxConfig
from pmbridge.sandbox.trello.ratelimit import RateLimitConfig
from pmbridge.systems.trello import RateLimit, TrelloClient, TrelloLimits
from tests.systems_trello.conftest import FAST_RETRY, Sandbox

OTHER_TOKEN = "ATTAsecond" + "1a2b3c4d" * 8 + "WXYZ0000"


@pytest.fixture
def trello_config(trello_config: SandboxConfig) -> SandboxConfig:
    """The test sandbox with Trello's default rate limits on."""
    return trello_config.model_copy(update={"rate_limits": RateLimitConfig()})


@pytest.mark.slow
async def test_a_burst_of_500_writes_meets_no_429(
    api_root: str, trello_auth: dict[str, str], sandbox: Sandbox
) -> None:
    # Default limits on both sides: Trello's 100 per 10 s per token, our default budget.
    async with TrelloClient(
        api_root, trello_auth["key"], trello_auth["token"], retry=FAST_RETRY
    ) as client:
        org = await client.create_organization("Busy")
        board = await client.create_board("Busy", idOrganization=org["id"], defaultLists=False)
        todo = await client.create_list(board["id"], "To Do")
        sandbox.faults(latency_ms=250)  # one at a time, 500 writes would take over 2 minutes
        loop = asyncio.get_running_loop()
        started = loop.time()

        await asyncio.gather(*(client.create_card(todo["id"], name=f"#{n}") for n in range(500)))

        elapsed = loop.time() - started
        sandbox.clear_faults()
        cards = await client.get_board_cards(board["id"], fields="name")

    assert sandbox.status_count(429) == 0
    assert sandbox.count("POST /1/cards") == 500
    assert len(cards) == 500
    assert elapsed < 90  # requests were in flight concurrently


def _two_member_config(base: SandboxConfig, limits: RateLimitConfig) -> SandboxConfig:
    second = MemberConfig(username="second", full_name="Second User", token=OTHER_TOKEN)
    return base.model_copy(update={"members": [*base.members, second], "rate_limits": limits})


@pytest.fixture
def tight_server(trello_config: SandboxConfig) -> Iterator[tuple[ServerThread, Any]]:
    """A sandbox with small limits in 1 s windows: 12 per key, 6 on /1/members/{id}."""
    limits = RateLimitConfig(
        per_token=1000, per_key=12, window_s=1.0, members_per_token=6, members_window_s=1.0
    )
    app = create_app(_two_member_config(trello_config, limits))
    with ServerThread(app) as server:
        yield server, app


async def test_clients_of_one_key_share_its_budget_and_members_have_their_own(
    tight_server: tuple[ServerThread, Any], trello_auth: dict[str, str]
) -> None:
    server, app = tight_server
    sandbox = Sandbox(server, app)
    limits = TrelloLimits(
        token=RateLimit(1000, 1.0, burst=50, headroom=10),
        key=RateLimit(12, 1.0, burst=2, headroom=2),
        members=RateLimit(6, 1.0, burst=1, headroom=1),
    ).with_shared_key()
    root = server.url + "/1"
    first = TrelloClient(root, trello_auth["key"], trello_auth["token"], limits=limits)
    second = TrelloClient(root, trello_auth["key"], OTHER_TOKEN, limits=limits)
    org = await first.create_organization("Shared")
    loop = asyncio.get_running_loop()
    started = loop.time()

    await asyncio.gather(
        *(c.get_organization(org["id"]) for c in (first, second) for _ in range(6)),
        *(first.get_me() for _ in range(8)),
    )

    elapsed = loop.time() - started
    await first.aclose()
    await second.aclose()
    assert sandbox.stats()["by_status"] == {"200": 21}  # no 429 at all
    sandbox.close()
    # 20 requests at 8 per second take 2.4 s. Without the shared key budget the two clients
    # would send 16 a second; without the members budget /1/members/me would get its 8
    # requests within a second: both would be refused.
    assert elapsed >= 2.0


def test_a_rate_limit_must_leave_room() -> None:
    with pytest.raises(ValueError, match="must leave room under the limit of 10"):
        RateLimit(10, 1.0, burst=5, headroom=5)
    assert RateLimit(100, 10.0, burst=5, headroom=5).rate == 9.0
