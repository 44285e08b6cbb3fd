"""Faults injected by the sandbox's knobs: what is retried, what is not, and the errors."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from pmbridge.errors import (
    AuthenticationError,
    InvalidValueError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
)
from pmbridge.sockets import free_port
from pmbridge.systems.trello import RetryPolicy, TrelloClient, TrelloSystem, batch_url
from tests.fixtures.virtual_time import run_on_virtual_time
from tests.systems_trello.conftest import FAST_RETRY, NO_LIMITS, Sandbox


async def test_5xx_answers_are_retried_until_success(
    client: TrelloClient, board: dict[str, Any], sandbox: Sandbox
) -> None:
    sandbox.reset()
    sandbox.faults(error_rate=0.4, seed=7)
    names = [f"Card {n}" for n in range(8)]
    for name in names:
        await client.create_card(board["lists"]["To Do"]["id"], name=name)
    sandbox.clear_faults()

    failures = sandbox.status_count(503)
    assert failures > 0
    assert sandbox.count("POST /1/cards") == 8 + failures  # every 503 was tried again
    cards = await client.get_board_cards(board["id"], fields="name")
    assert sorted(c["name"] for c in cards) == names  # each created exactly once


async def test_dropped_connections_are_retried_for_reads_and_updates(
    client: TrelloClient, board: dict[str, Any], sandbox: Sandbox
) -> None:
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Flaky")
    sandbox.reset()
    sandbox.faults(drop_rate=0.4, methods=["GET", "PUT"], seed=3)
    for n in range(6):
        await client.update_card(card["id"], name=f"Flaky {n}")
        assert (await client.get_card(card["id"], fields="name"))["name"] == f"Flaky {n}"
    sandbox.clear_faults()

    stats = sandbox.stats()
    assert stats["requests"] > 12  # some of the 12 operations needed more than one request
    assert stats["by_route"]["PUT /1/cards/{id}"] >= 6


async def test_a_post_whose_answer_is_lost_is_not_repeated(
    client: TrelloClient, board: dict[str, Any], sandbox: Sandbox
) -> None:
    sandbox.reset()
    sandbox.faults(drop_after_rate=1.0, methods=["POST"])
    with pytest.raises(UnavailableError) as lost:
        await client.create_card(board["lists"]["To Do"]["id"], name="Maybe")
    sandbox.clear_faults()

    assert lost.value.maybe_applied is True
    assert lost.value.system == "trello"
    assert "may have taken effect" in str(lost.value)
    assert sandbox.count("POST /1/cards") == 1  # not retried blindly
    cards = await client.get_board_cards(board["id"], fields="name")
    assert [c["name"] for c in cards] == ["Maybe"]  # ...and it did get created


async def test_system_create_reports_a_lost_answer_as_maybe_applied(
    system: TrelloSystem, board: dict[str, Any], client: TrelloClient, sandbox: Sandbox
) -> None:
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Talk")
    sandbox.faults(drop_after_rate=1.0, methods=["POST"])
    with pytest.raises(UnavailableError) as lost:
        await system.create("comment", {"idCard": card["id"], "text": "hi"}, idempotency_key="k")
    sandbox.clear_faults()
    assert lost.value.maybe_applied is True
    comments = await client.list_board_actions(board["id"], filter="commentCard")
    assert [c["data"]["text"] for c in comments] == ["hi"]


async def test_a_permanent_400_is_not_retried(
    client: TrelloClient, workspace: dict[str, Any], sandbox: Sandbox
) -> None:
    sandbox.reset()
    with pytest.raises(InvalidValueError) as bad:
        await client.update_organization(workspace["id"], website="ftp://acme.example")

    assert sandbox.count("PUT /1/organizations/{id}") == 1
    assert bad.value.status == 400
    assert bad.value.field == "website"
    assert bad.value.system == "trello"
    assert str(bad.value).startswith("Trello rejected the value of 'website': ")
    assert "PUT /organizations/" in str(bad.value)


async def test_not_found_is_final(client: TrelloClient, sandbox: Sandbox) -> None:
    sandbox.reset()
    with pytest.raises(NotFoundError) as missing:
        await client.get_card("5f0000000000000000000fff")
    assert sandbox.stats()["requests"] == 1
    assert missing.value.status == 404
    assert "Trello has nothing at GET /cards/5f0000000000000000000fff" in str(missing.value)


async def test_a_bad_token_is_an_authentication_error(
    api_root: str, trello_auth: dict[str, str], sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    sandbox.reset()
    key = trello_auth["key"]
    async with TrelloClient(api_root, key, "ATTAwrong", http=http, retry=FAST_RETRY) as bad:
        with pytest.raises(AuthenticationError) as refused:
            await bad.get_board("5f0000000000000000000fff")
    assert sandbox.stats()["requests"] == 1
    assert refused.value.status == 401
    assert str(refused.value).startswith("Trello rejected the token: ")
    assert "PMBRIDGE_TRELLO_TOKEN" in str(refused.value)


async def test_a_bad_key_is_an_authentication_error(
    api_root: str, trello_auth: dict[str, str], http: httpx.AsyncClient
) -> None:
    token = trello_auth["token"]
    async with TrelloClient(api_root, "f" * 32, token, http=http, retry=FAST_RETRY) as bad:
        with pytest.raises(AuthenticationError) as refused:
            await bad.get_me()
    assert str(refused.value) == (
        "Trello rejected the API key: check PMBRIDGE_TRELLO_KEY (32 hex characters from "
        "https://trello.com/power-ups/admin)"
    )


def test_a_forced_429_is_retried_after_retry_after(
    trello_app: Any, trello_auth: dict[str, str]
) -> None:
    async def read() -> tuple[dict[str, Any], float]:
        transport = httpx.ASGITransport(app=trello_app)
        async with httpx.AsyncClient(transport=transport) as http:
            trello = TrelloClient(
                "http://trello.test/1", trello_auth["key"], trello_auth["token"], http=http
            )
            made = await trello.create_organization("Acme Inc")
            trello_app.state.control.set_faults(force_429=1)  # answered with Retry-After: 1
            loop = asyncio.get_running_loop()
            started = loop.time()
            org = await trello.get_organization(made["id"], fields="displayName")
            return org, loop.time() - started

    org, waited = run_on_virtual_time(read())

    assert org["displayName"] == "Acme Inc"
    stats = trello_app.state.control.stats.snapshot()
    assert stats["by_status"] == {"200": 2, "429": 1}
    assert stats["by_route"]["GET /1/organizations/{id}"] == 2
    assert 1.0 <= waited < 1.1  # (virtual seconds) the sandbox's Retry-After, not the backoff


async def test_429s_that_never_stop_become_rate_limited_error(
    api_root: str, trello_auth: dict[str, str], sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    policy = RetryPolicy(attempts=3, initial_wait=0.005, jitter=0.0, max_retry_after=0.01)
    sandbox.reset()
    sandbox.faults(force_429=10)
    async with TrelloClient(
        api_root,
        trello_auth["key"],
        trello_auth["token"],
        http=http,
        retry=policy,
        limits=NO_LIMITS,
    ) as trello:
        with pytest.raises(RateLimitedError) as limited:
            await trello.get_board("5f0000000000000000000fff")
    assert sandbox.stats()["requests"] == 3
    assert limited.value.status == 429
    assert "after 3 attempts" in str(limited.value)


async def test_5xx_that_never_stop_become_unavailable_error(
    api_root: str, trello_auth: dict[str, str], sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    policy = RetryPolicy(attempts=3, initial_wait=0.005, jitter=0.0)
    sandbox.reset()
    sandbox.faults(error_rate=1.0, error_status=502)
    async with TrelloClient(
        api_root,
        trello_auth["key"],
        trello_auth["token"],
        http=http,
        retry=policy,
        limits=NO_LIMITS,
    ) as trello:
        with pytest.raises(UnavailableError) as down:
            await trello.create_organization("Never")
    assert sandbox.stats()["requests"] == 3  # an answered 5xx is retried, even for a POST
    assert (down.value.status, down.value.maybe_applied) == (502, False)
    assert "Trello answered 502 to POST /organizations 3 times" in str(down.value)


async def test_an_unreachable_trello_is_unavailable_not_maybe_applied(
    trello_auth: dict[str, str],
) -> None:
    root = f"http://127.0.0.1:{free_port()}/1"  # nothing listens there
    policy = RetryPolicy(attempts=2, initial_wait=0.005, jitter=0.0)
    attempts: list[httpx.Request] = []

    async def remember(request: httpx.Request) -> None:
        attempts.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [remember]}) as http:
        trello = TrelloClient(
            root, trello_auth["key"], trello_auth["token"], http=http, retry=policy
        )
        for call in (trello.get_me(), trello.create_organization("Nowhere")):
            with pytest.raises(UnavailableError) as down:
                await call
            assert down.value.maybe_applied is False  # a refused connection sent nothing
            assert "Could not reach Trello" in str(down.value)
    assert len(attempts) == 4  # connect errors are retried for GET and POST alike


async def test_a_failing_batch_group_raises_its_own_typed_error(
    api_root: str,
    trello_auth: dict[str, str],
    workspace: dict[str, Any],
    sandbox: Sandbox,
    http: httpx.AsyncClient,
) -> None:
    policy = RetryPolicy(attempts=2, initial_wait=0.005, jitter=0.0)
    urls = [batch_url(f"/organizations/{workspace['id']}")] * 13  # two /batch calls
    sandbox.faults(error_rate=1.0, error_status=502, path_prefix="/1/batch")
    async with TrelloClient(
        api_root,
        trello_auth["key"],
        trello_auth["token"],
        http=http,
        retry=policy,
        limits=NO_LIMITS,
    ) as trello:
        with pytest.raises(UnavailableError) as down:  # not an ExceptionGroup
            await trello.batch(urls)
    assert down.value.status == 502
    assert "Trello answered 502 to GET /batch 2 times" in str(down.value)
