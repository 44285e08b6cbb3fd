"""Faults injected by the reference Custompms' knobs: what is retried, what is not."""

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
    StaleVersionError,
    UnavailableError,
)
from pmbridge.sandbox.custompms import CustompmsApp
from pmbridge.sockets import free_port
from pmbridge.systems.custompms import CustompmsClient, RetryPolicy
from tests.fixtures.inprocess import InProcess
from tests.fixtures.virtual_time import run_on_virtual_time
from tests.systems_custompms.conftest import CUSTOMPMS_ROOT, FAST_RETRY


def counts(app: CustompmsApp) -> dict[str, Any]:
    return app.stats.snapshot()


async def test_5xx_answers_are_retried_until_they_succeed(
    client: CustompmsClient, custompms_app: CustompmsApp, project_id: str
) -> None:
    custompms_app.stats.reset()
    custompms_app.set_faults(error_rate=0.5, seed=11)

    made = [
        await client.create("tasks", {"project_id": project_id, "title": f"T{n}"}, f"k{n}")
        for n in range(6)
    ]
    again = await client.get("tasks", made[0]["id"])
    page = await client.feed("tasks", None, 100)

    custompms_app.clear_faults()
    assert counts(custompms_app)["by_status"].get("503", 0) >= 3
    assert again == made[0]
    assert [item["id"] for item in page.items] == [task["id"] for task in made]


async def test_dropped_connections_are_retried(
    client: CustompmsClient, custompms_app: CustompmsApp, project_id: str
) -> None:
    custompms_app.set_faults(drop_rate=0.5, seed=5)

    made = [
        await client.create("tasks", {"project_id": project_id, "title": f"T{n}"}, f"k{n}")
        for n in range(5)
    ]
    updated = await client.update("tasks", made[0]["id"], {"status": "in_progress"}, if_match=1)

    custompms_app.clear_faults()
    stats = counts(custompms_app)
    assert stats["by_route"]["POST /tasks"] > 5  # some tries were dropped, then retried
    assert updated["version"] == 2
    assert len((await client.feed("tasks", None, 100)).items) == 5


async def test_a_create_whose_answer_was_lost_makes_one_record(
    client: CustompmsClient, custompms_app: CustompmsApp, project_id: str
) -> None:
    custompms_app.stats.reset()
    custompms_app.set_faults(drop_after_rate=0.5, methods=["POST"], seed=3)

    made = [
        await client.create("tasks", {"project_id": project_id, "title": f"T{n}"}, f"k{n}")
        for n in range(6)
    ]

    custompms_app.clear_faults()
    stats = counts(custompms_app)
    assert stats["by_route"]["POST /tasks"] > 6  # creates that acted, lost their answer…
    assert stats["by_status"].get("200", 0) >= 1  # …and whose retry found the first record
    feed = (await client.feed("tasks", None, 100)).items
    assert sorted(item["id"] for item in feed) == sorted(task["id"] for task in made)


async def test_a_conditional_update_whose_answer_was_lost_is_recognised(
    client: CustompmsClient, custompms_app: CustompmsApp, project_id: str
) -> None:
    task = await client.create("tasks", {"project_id": project_id, "title": "T"}, "k")
    custompms_app.stats.reset()
    custompms_app.set_faults(drop_after_rate=0.5, methods=["PATCH"], seed=2)

    for step in range(5):
        task = await client.update(
            "tasks", task["id"], {"title": f"step {step}"}, if_match=task["version"]
        )

    custompms_app.clear_faults()
    # A retry after a lost answer meets our own write: 412, then recognised as ours.
    assert counts(custompms_app)["by_status"].get("412", 0) >= 1
    assert (task["version"], task["title"]) == (6, "step 4")
    assert await client.get("tasks", task["id"]) == task


async def test_lasting_5xx_ends_in_unavailable_naming_the_host(
    http: httpx.AsyncClient, custompms_app: CustompmsApp, custompms_token: str
) -> None:
    custompms_app.set_faults(error_rate=1.0, error_status=502)
    async with CustompmsClient(CUSTOMPMS_ROOT, custompms_token, http=http, retry=FAST_RETRY) as c:
        with pytest.raises(UnavailableError) as failed:
            await c.create("customers", {"name": "A"}, "k")

    assert failed.value.status == 502 and failed.value.maybe_applied
    assert str(failed.value) == (
        "Custompms at custompms.sandbox answered 502 (POST /customers, 8 tries): "
        "check the Custompms server's health and try again later"
    )
    assert counts(custompms_app)["requests"] == FAST_RETRY.attempts


async def test_a_create_that_never_gets_an_answer_may_have_applied_once(
    client: CustompmsClient, custompms_app: CustompmsApp
) -> None:
    custompms_app.set_faults(drop_after_rate=1.0, methods=["POST"])

    with pytest.raises(UnavailableError) as failed:
        await client.create("customers", {"name": "A"}, "k")

    custompms_app.clear_faults()
    assert failed.value.maybe_applied
    assert "dropped the connection" in str(failed.value)
    assert len((await client.feed("customers")).items) == 1


async def test_an_unreachable_server(custompms_token: str) -> None:
    port = free_port()
    retry = RetryPolicy(attempts=2, initial_wait=0.001, max_wait=0.001, jitter=0)
    async with CustompmsClient(f"http://127.0.0.1:{port}", custompms_token, retry=retry) as c:
        with pytest.raises(UnavailableError) as failed:
            await c.create("customers", {"name": "A"}, "k")

    assert str(failed.value) == (
        f"Custompms at 127.0.0.1:{port} could not be reached (POST /customers, 2 tries): "
        "check that it is running and that the Custompms URL is right"
    )
    assert not failed.value.maybe_applied


def test_429_waits_for_retry_after(custompms_app: CustompmsApp, custompms_token: str) -> None:
    custompms_app.set_faults(force_429=1)  # answered with Retry-After: 1

    async def read() -> tuple[Any, float]:
        transport = httpx.ASGITransport(app=custompms_app)
        async with httpx.AsyncClient(transport=transport) as http:
            c = CustompmsClient("http://custompms.test", custompms_token, http=http)
            loop = asyncio.get_running_loop()
            started = loop.time()
            page = await c.feed("customers")
            return page, loop.time() - started

    page, waited = run_on_virtual_time(read())

    assert 1.0 <= waited < 1.1  # (virtual seconds) what the server asked, not the backoff
    assert page.items == []
    assert counts(custompms_app)["by_status"] == {"429": 1, "200": 1}


async def test_lasting_429_ends_in_rate_limited(
    http: httpx.AsyncClient, custompms_app: CustompmsApp, custompms_token: str
) -> None:
    custompms_app.set_faults(force_429=5)
    retry = RetryPolicy(attempts=3, max_retry_after=0.0)
    async with CustompmsClient(CUSTOMPMS_ROOT, custompms_token, http=http, retry=retry) as c:
        with pytest.raises(RateLimitedError, match="kept answering 429"):
            await c.feed("customers")

    assert counts(custompms_app)["requests"] == 3


async def test_client_errors_are_not_retried(
    client: CustompmsClient, custompms_app: CustompmsApp, http: httpx.AsyncClient
) -> None:
    task = await client.create("customers", {"name": "A"}, "k")
    await client.update("customers", task["id"], {"name": "B"})
    wrong = CustompmsClient(CUSTOMPMS_ROOT, "wrong", http=http, retry=FAST_RETRY)
    refusals = [
        (InvalidValueError, client.create("customers", {"name": ""}, "k2")),
        (StaleVersionError, client.update("customers", task["id"], {"name": "C"}, if_match=1)),
        (NotFoundError, client.get("customers", "nothing")),
        (AuthenticationError, wrong.feed("customers")),
    ]
    for error, call in refusals:
        custompms_app.stats.reset()
        with pytest.raises(error):
            await call
        assert counts(custompms_app)["requests"] == 1, error
    await wrong.aclose()


def garble_bodies(app: Any) -> Any:
    """A proxy in front of the sandbox that breaks every request body it forwards."""

    async def proxy(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PATCH"):
            await app(scope, receive, send)
            return
        while (await receive()).get("more_body"):
            pass
        sent = False

        async def garbled() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": b'{"name": ', "more_body": False}

        await app(scope, garbled, send)

    return proxy


async def test_a_400_is_not_retried(custompms_app: CustompmsApp, custompms_token: str) -> None:
    transport = InProcess(garble_bodies(custompms_app))
    async with httpx.AsyncClient(transport=transport) as http:
        c = CustompmsClient(CUSTOMPMS_ROOT, custompms_token, http=http, retry=FAST_RETRY)
        with pytest.raises(InvalidValueError) as refused:
            await c.create("customers", {"name": "A"}, "k")

    assert refused.value.status == 400
    assert "not valid JSON" in str(refused.value)
    assert counts(custompms_app)["requests"] == 1
