"""The Trello sandbox's rate limits, over real HTTP: per token, per key, /1/members, escalation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

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


def test_token_limit_lifts_when_the_window_ends() -> None:
    limits = RateLimitConfig(per_token=3, per_key=50, window_s=0.5)
    with sandbox(limits) as url, client(url) as http:
        assert [http.get(PLAIN_ROUTE).status_code for _ in range(3)] == [200, 200, 200]
        assert_refused(http.get(PLAIN_ROUTE), TOKEN_LIMITED)
        time.sleep(0.6)
        again = http.get(PLAIN_ROUTE)
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
    with sandbox(limits) as url, client(url) as noisy, client(url, OTHER_TOKEN) as quiet:
        started = time.monotonic()
        assert [noisy.get(PLAIN_ROUTE).status_code for _ in range(2)] == [200, 200]
        for _ in range(3):
            assert_refused(noisy.get(PLAIN_ROUTE), TOKEN_LIMITED)
        # Three 429s are not "more than three": the other token still gets through.
        assert quiet.get(PLAIN_ROUTE).status_code == 200
        assert_refused(noisy.get(PLAIN_ROUTE), TOKEN_LIMITED)
        blocked = quiet.get(PLAIN_ROUTE)
        elapsed = time.monotonic() - started
        time.sleep(limits.window_s + 0.05)
        after_window = quiet.get(PLAIN_ROUTE)

    assert elapsed < 1.0, "the test ran too slowly to observe the window"
    assert_refused(blocked, KEY_LIMITED)
    assert after_window.status_code == 200


def test_disabled_limits_never_refuse() -> None:
    for limits in (RateLimitConfig(enabled=False, per_token=2, per_key=2), None):
        with sandbox(limits) as url, client(url) as http:
            answers = [http.get(PLAIN_ROUTE) for _ in range(10)]
            members = [http.get("/1/members/me") for _ in range(3)]
        assert {a.status_code for a in answers + members} == {200}
        assert "x-rate-limit-api-token-remaining" not in answers[-1].headers
