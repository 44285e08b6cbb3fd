"""The client's limiter against the sandbox with Trello's rate limits switched on.

These run in-process (``httpx.ASGITransport``) on a virtual-time event loop: the client's
limiter and the sandbox's rate limiter both read the loop's clock, so a minute of
rate-limited traffic passes in the time its requests take to process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from pmbridge.errors import RateLimitedError
from pmbridge.sandbox.trello.app import create_app
from pmbridge.sandbox.trello.config import MemberConfig, SandboxConfig
from pmbridge.sandbox.trello.ratelimit import RateLimitConfig
from pmbridge.systems.trello import RateLimit, RetryPolicy, TrelloClient, TrelloLimits
from tests.fixtures.virtual_time import run_on_virtual_time

OTHER_TOKEN = "ATTAsecond" + "1a2b3c4d" * 8 + "WXYZ0000"
ROOT = "http://trello.test/1"
# Waits long enough for a window of Trello's to pass while tries remain.
PATIENT = RetryPolicy(attempts=6, initial_wait=1.0, max_wait=8.0, jitter=0.0)


def statuses(app: Any) -> dict[str, int]:
    return app.state.control.stats.snapshot()["by_status"]


@asynccontextmanager
async def in_process(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://trello.test") as http:
        yield http


async def burst_of_writes(app: Any, auth: dict[str, str], writes: int, **client: Any) -> float:
    """``writes`` cards created at once through one client, each answered after 50 ms;
    returns the (virtual) seconds they took."""
    async with in_process(app) as http:
        trello = TrelloClient(ROOT, auth["key"], auth["token"], http=http, **client)
        org = await trello.create_organization("Busy")
        board = await trello.create_board("Busy", idOrganization=org["id"], defaultLists=False)
        todo = await trello.create_list(board["id"], "To Do")
        app.state.control.set_faults(latency_ms=50)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(trello.create_card(todo["id"], name=f"#{n}") for n in range(writes)))
        return loop.time() - started


def test_a_burst_of_500_writes_meets_no_429_and_uses_95_percent_of_the_limit(
    trello_config: SandboxConfig, trello_auth: dict[str, str]
) -> None:
    # Default limits on both sides: Trello's 100 per 10 s per token, our default budget.
    app = create_app(trello_config.model_copy(update={"rate_limits": RateLimitConfig()}))

    elapsed = run_on_virtual_time(burst_of_writes(app, trello_auth, 500))

    assert statuses(app) == {"200": 503}  # no 429 at all
    assert app.state.control.stats.snapshot()["by_route"]["POST /1/cards"] == 500
    # Paced by Trello's reported counts, not a fixed headroom: ≥ 95 % of 10 requests/s.
    assert 500 / elapsed >= 9.5, f"{500 / elapsed:.2f} requests/s"


def test_without_trellos_counts_the_headroom_alone_paces_at_90_percent(
    trello_config: SandboxConfig, trello_auth: dict[str, str]
) -> None:
    app = create_app(trello_config.model_copy(update={"rate_limits": RateLimitConfig()}))
    limits = TrelloLimits(follow_headers=False)

    elapsed = run_on_virtual_time(burst_of_writes(app, trello_auth, 200, limits=limits))

    assert statuses(app) == {"200": 203}
    assert 200 / elapsed < 9.1  # burst of 5, then 9 per second


def test_requests_another_program_sent_with_the_token_are_left_room(
    trello_config: SandboxConfig, trello_auth: dict[str, str]
) -> None:
    # 60 requests of someone else's, then 100 of ours at once: Trello's counts show the 60.
    async def shared_token(app: Any, limits: TrelloLimits) -> None:
        async with in_process(app) as http:
            other = {"Authorization": trello_auth["authorization"]}
            made = await http.post("/1/organizations", data={"displayName": "X"}, headers=other)
            org = made.json()["id"]
            for _ in range(59):
                (await http.get(f"/1/organizations/{org}", headers=other)).raise_for_status()
            trello = TrelloClient(
                ROOT,
                trello_auth["key"],
                trello_auth["token"],
                http=http,
                limits=limits,
                retry=PATIENT,
            )
            reads = (trello.get_organization(org) for _ in range(100))
            await asyncio.gather(*reads, return_exceptions=True)

    config = trello_config.model_copy(update={"rate_limits": RateLimitConfig()})
    following, blind = create_app(config), create_app(config)

    run_on_virtual_time(shared_token(following, TrelloLimits()))
    run_on_virtual_time(shared_token(blind, TrelloLimits(follow_headers=False)))

    assert statuses(following) == {"200": 160}
    assert statuses(blind).get("429", 0) > 0  # the schedule alone cannot see the other 60


def test_clients_of_one_key_share_its_budget_and_members_have_their_own(
    trello_config: SandboxConfig, trello_auth: dict[str, str]
) -> None:
    # Small limits in 1 s windows: 12 per key, 6 on /1/members/{id}.
    limits = RateLimitConfig(
        per_token=1000, per_key=12, window_s=1.0, members_per_token=6, members_window_s=1.0
    )
    second = MemberConfig(username="second", full_name="Second User", token=OTHER_TOKEN)
    app = create_app(
        trello_config.model_copy(
            update={"members": [*trello_config.members, second], "rate_limits": limits}
        )
    )
    budget = TrelloLimits(
        token=RateLimit(1000, 1.0, burst=50, headroom=10),
        key=RateLimit(12, 1.0, burst=2, headroom=2),
        members=RateLimit(6, 1.0, burst=1, headroom=1),
    ).with_shared_key()

    async def both() -> float:
        async with in_process(app) as http:
            first = TrelloClient(
                ROOT, trello_auth["key"], trello_auth["token"], http=http, limits=budget
            )
            other = TrelloClient(ROOT, trello_auth["key"], OTHER_TOKEN, http=http, limits=budget)
            org = await first.create_organization("Shared")
            loop = asyncio.get_running_loop()
            started = loop.time()
            await asyncio.gather(
                *(c.get_organization(org["id"]) for c in (first, other) for _ in range(6)),
                *(first.get_me() for _ in range(8)),
            )
            return loop.time() - started

    elapsed = run_on_virtual_time(both())

    # Without the shared key budget the two clients would send 20 requests at once; without
    # the members budget /1/members/me would get 8 within a second: both would be refused.
    assert statuses(app) == {"200": 21}
    assert elapsed >= 1.0  # 21 requests under a limit of 12 a second take two windows


def test_a_rate_limit_must_leave_room() -> None:
    with pytest.raises(ValueError, match="must leave room under the limit of 10"):
        RateLimit(10, 1.0, burst=5, headroom=5)
    assert RateLimit(100, 10.0, burst=5, headroom=5).rate == 9.0


def test_429s_that_outlast_the_retries_are_still_reported(
    trello_config: SandboxConfig, trello_auth: dict[str, str]
) -> None:
    app = create_app(trello_config.model_copy(update={"rate_limits": RateLimitConfig()}))
    app.state.control.set_faults(force_429=10)

    async def one() -> None:
        async with in_process(app) as http:
            trello = TrelloClient(
                ROOT,
                trello_auth["key"],
                trello_auth["token"],
                http=http,
                retry=RetryPolicy(attempts=3),
            )
            await trello.get_me()

    with pytest.raises(RateLimitedError):
        run_on_virtual_time(one())
