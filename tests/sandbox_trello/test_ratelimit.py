"""The Trello sandbox's rate limits: per token, per key, /1/members, escalation.

Over real HTTP, except where windows must pass: those run in-process on a virtual-time loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx

from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.app import create_app
from pmbridge.sandbox.trello.config import MemberConfig, SandboxConfig
from pmbridge.sandbox.trello.ratelimit import RateLimitConfig
from tests.fixtures.trello import (
    TRELLO_TEST_KEY,
    TRELLO_TEST_MEMBER_ID,
    TRELLO_TEST_SECRET,
    TRELLO_TEST_TOKEN,
    oauth_header,
)
from tests.fixtures.virtual_time import run_on_virtual_time

T = TypeVar("T")

OTHER_TOKEN = "ATTAother" + "9a8b7c6d" * 8 + "EFGH5678"
TOKEN_LIMITED = {"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}
KEY_LIMITED = {"error": "API_KEY_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}
# Any authenticated route outside the /1/members/{id} limit.
PLAIN_ROUTE = "/1/members/me/boards"


def sandbox_config(limits: RateLimitConfig | None) -> SandboxConfig:
    return SandboxConfig(
        key=TRELLO_TEST_KEY,
        secret=TRELLO_TEST_SECRET,
        members=[
            MemberConfig(
                id=TRELLO_TEST_MEMBER_ID,
                username="testuser",
                full_name="Test User",
                token=TRELLO_TEST_TOKEN,
            ),
            MemberConfig(username="otheruser", full_name="Other User", token=OTHER_TOKEN),
        ],
        rate_limits=limits,
    )


@contextmanager
def sandbox(limits: RateLimitConfig | None) -> Iterator[str]:
    """The sandbox with these limits, on a free port; yields its base URL."""
    with ServerThread(create_app(sandbox_config(limits))) as server:
        yield server.url


def client(base_url: str, token: str = TRELLO_TEST_TOKEN) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": oauth_header(TRELLO_TEST_KEY, token)}
    )


def assert_refused(response: httpx.Response, body: dict) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == body


def test_default_limits_refuse_the_101st_request_of_a_token() -> None:
    with sandbox(RateLimitConfig()) as url, client(url) as http:
        answers = [http.get(PLAIN_ROUTE) for _ in range(101)]

    assert [a.status_code for a in answers[:100]] == [200] * 100
    assert_refused(answers[100], TOKEN_LIMITED)
    first, last = answers[0].headers, answers[99].headers
    assert first["x-rate-limit-api-token-interval-ms"] == "10000"
    assert first["x-rate-limit-api-token-max"] == "100"
    assert first["x-rate-limit-api-token-remaining"] == "99"
    assert first["x-rate-limit-api-key-interval-ms"] == "10000"
    assert first["x-rate-limit-api-key-max"] == "300"
    assert first["x-rate-limit-api-key-remaining"] == "299"
    assert last["x-rate-limit-api-token-remaining"] == "0"
    assert last["x-rate-limit-api-key-remaining"] == "200"
    remaining = [int(a.headers["x-rate-limit-api-token-remaining"]) for a in answers[:100]]
    assert remaining == list(range(99, -1, -1))
    # Not a member route: no member headers.
    assert "x-rate-limit-member-remaining" not in first


def on_virtual_time(limits: RateLimitConfig, requests: Callable[..., Awaitable[T]]) -> T:
    """Run ``requests(get, sleep)`` in-process against a sandbox on a virtual-time loop.

    ``get(path, token)`` sends a GET with that token; ``sleep`` passes fake time, which the
    sandbox's rate limiter reads from the loop's clock.
    """

    async def run() -> T:
        transport = httpx.ASGITransport(app=create_app(sandbox_config(limits)))
        async with httpx.AsyncClient(transport=transport, base_url="http://trello.test") as http:

            async def get(path: str, token: str = TRELLO_TEST_TOKEN) -> httpx.Response:
                auth = {"Authorization": oauth_header(TRELLO_TEST_KEY, token)}
                return await http.get(path, headers=auth)

            return await requests(get, asyncio.sleep)

    return run_on_virtual_time(run())


def test_token_limit_lifts_when_the_window_ends() -> None:
    async def requests(get: Any, sleep: Any) -> list[httpx.Response]:
        answers = [await get(PLAIN_ROUTE) for _ in range(4)]
        await sleep(0.49)
        answers.append(await get(PLAIN_ROUTE))  # the window (0.5 s) has not ended yet
        await sleep(0.01)
        answers.append(await get(PLAIN_ROUTE))
        return answers

    answers = on_virtual_time(RateLimitConfig(per_token=3, per_key=50, window_s=0.5), requests)

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert_refused(answers[3], TOKEN_LIMITED)
    assert_refused(answers[4], TOKEN_LIMITED)
    again = answers[5]
    assert again.status_code == 200
    assert again.headers["x-rate-limit-api-token-interval-ms"] == "500"
    assert again.headers["x-rate-limit-api-token-remaining"] == "2"


def test_credentials_are_counted_wherever_they_are_sent() -> None:
    limits = RateLimitConfig(per_token=3, per_key=50, window_s=30)
    auth = {"key": TRELLO_TEST_KEY, "token": TRELLO_TEST_TOKEN}
    with sandbox(limits) as url, httpx.Client(base_url=url) as http:
        in_query = http.get(PLAIN_ROUTE, params=auth)
        in_header = http.get(PLAIN_ROUTE, headers={"Authorization": oauth_header(**auth)})
        # Form body only: the middleware reads it and must hand it on intact.
        in_form = http.post("/1/boards", data={**auth, "name": "Form board"})
        in_json = http.post("/1/boards", json={**auth, "name": "JSON board"})

    assert in_query.headers["x-rate-limit-api-token-remaining"] == "2"
    assert in_header.headers["x-rate-limit-api-token-remaining"] == "1"
    assert in_form.status_code == 200, in_form.text
    assert in_form.json()["name"] == "Form board"
    assert in_form.headers["x-rate-limit-api-token-remaining"] == "0"
    assert_refused(in_json, TOKEN_LIMITED)


def test_requests_without_credentials_are_not_counted() -> None:
    limits = RateLimitConfig(per_token=2, per_key=2, window_s=30)
    with sandbox(limits) as url:
        with httpx.Client(base_url=url) as anonymous:
            refused = [anonymous.get(PLAIN_ROUTE) for _ in range(5)]
        with client(url) as http:
            counted = [http.get(PLAIN_ROUTE).status_code for _ in range(3)]

    assert {a.status_code for a in refused} == {401}
    assert all("x-rate-limit-api-token-remaining" not in a.headers for a in refused)
    assert counted == [200, 200, 429]


def test_key_limit_is_shared_by_all_tokens_of_the_key() -> None:
    limits = RateLimitConfig(per_token=5, per_key=8, window_s=30)
    with sandbox(limits) as url, client(url) as first, client(url, OTHER_TOKEN) as second:
        assert [first.get(PLAIN_ROUTE).status_code for _ in range(5)] == [200] * 5
        assert_refused(first.get(PLAIN_ROUTE), TOKEN_LIMITED)
        others = [second.get(PLAIN_ROUTE) for _ in range(3)]
        over_key = second.get(PLAIN_ROUTE)
        first_again = first.get(PLAIN_ROUTE)

    assert [a.status_code for a in others] == [200, 200, 200]
    # The second token has used 3 of its own 5, but the key's 8 are gone.
    assert others[-1].headers["x-rate-limit-api-token-remaining"] == "2"
    assert others[-1].headers["x-rate-limit-api-key-remaining"] == "0"
    assert_refused(over_key, KEY_LIMITED)
    assert_refused(first_again, KEY_LIMITED)


def test_members_route_has_its_own_limit_per_token() -> None:
    limits = RateLimitConfig(members_per_token=3, members_window_s=60)
    with sandbox(limits) as url, client(url) as http, client(url, OTHER_TOKEN) as other:
        allowed = [http.get("/1/members/me") for _ in range(3)]
        refused = http.get("/1/members/me")
        by_username = http.get("/1/members/testuser")
        # Nested member routes do not count against the members limit (Trello's guide).
        nested = http.get("/1/members/me/boards")
        other_token = other.get("/1/members/me")

    assert [a.status_code for a in allowed] == [200, 200, 200]
    assert [a.headers["x-rate-limit-member-remaining"] for a in allowed] == ["2", "1", "0"]
    assert allowed[0].headers["x-rate-limit-member-max"] == "3"
    assert allowed[0].headers["x-rate-limit-member-interval-ms"] == "60000"
    assert_refused(
        refused,
        {"error": "MEMBER_LIMIT_EXCEEDED", "message": "Exceeded rate limit to /1/member"},
    )
    assert by_username.status_code == 429
    assert nested.status_code == 200
    assert "x-rate-limit-member-remaining" not in nested.headers
    assert other_token.status_code == 200
    assert other_token.headers["x-rate-limit-member-remaining"] == "2"


def test_too_many_429s_block_every_token_of_the_key_until_the_window_ends() -> None:
    limits = RateLimitConfig(per_token=2, per_key=100, window_s=1.0, escalation_429s=3)

    async def requests(get: Any, sleep: Any) -> dict[str, Any]:
        noisy = [await get(PLAIN_ROUTE) for _ in range(5)]  # 2 admitted, 3 refused
        # Three 429s are not "more than three": the other token still gets through.
        quiet = await get(PLAIN_ROUTE, OTHER_TOKEN)
        fourth = await get(PLAIN_ROUTE)
        blocked = await get(PLAIN_ROUTE, OTHER_TOKEN)
        await sleep(0.99)
        still_blocked = await get(PLAIN_ROUTE, OTHER_TOKEN)
        await sleep(0.01)
        after = await get(PLAIN_ROUTE, OTHER_TOKEN)
        return {
            "noisy": noisy,
            "quiet": quiet,
            "fourth": fourth,
            "blocked": blocked,
            "still": still_blocked,
            "after": after,
        }

    got = on_virtual_time(limits, requests)

    assert [a.status_code for a in got["noisy"][:2]] == [200, 200]
    for refused in got["noisy"][2:]:
        assert_refused(refused, TOKEN_LIMITED)
    assert got["quiet"].status_code == 200
    assert_refused(got["fourth"], TOKEN_LIMITED)
    assert_refused(got["blocked"], KEY_LIMITED)
    assert_refused(got["still"], KEY_LIMITED)
    assert got["after"].status_code == 200


def test_disabled_limits_never_refuse() -> None:
    for limits in (RateLimitConfig(enabled=False, per_token=2, per_key=2), None):
        with sandbox(limits) as url, client(url) as http:
            answers = [http.get(PLAIN_ROUTE) for _ in range(10)]
            members = [http.get("/1/members/me") for _ in range(3)]
        assert {a.status_code for a in answers + members} == {200}
        assert "x-rate-limit-api-token-remaining" not in answers[-1].headers
