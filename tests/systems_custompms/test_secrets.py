"""The token never shows: not in URLs, messages, reprs or log lines (DEBUG included)."""

from __future__ import annotations

import logging

import httpx
import pytest

from pmbridge.errors import PmbridgeError
from pmbridge.sandbox.custompms import CustompmsApp
from pmbridge.sockets import free_port
from pmbridge.systems.custompms import CustompmsClient, CustompmsSystem, RetryPolicy
from tests.fixtures.inprocess import InProcess
from tests.systems_custompms.conftest import CUSTOMPMS_ROOT, FAST_RETRY


async def test_the_token_only_travels_in_the_authorization_header(
    custompms_transport: InProcess,
    custompms_app: CustompmsApp,
    custompms_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    requests: list[httpx.Request] = []

    async def remember(request: httpx.Request) -> None:
        requests.append(request)

    errors: list[PmbridgeError] = []
    async with httpx.AsyncClient(
        event_hooks={"request": [remember]}, mounts={CUSTOMPMS_ROOT: custompms_transport}
    ) as http:
        client = CustompmsClient(CUSTOMPMS_ROOT, custompms_token, http=http, retry=FAST_RETRY)
        system = CustompmsSystem(client)
        custompms_app.set_faults(error_rate=0.5, seed=4)  # retries log warnings
        made = await system.create("customer", {"name": "A"}, idempotency_key="k")
        await system.update("customer", made.id, {"name": "B"}, version=made.version)
        await system.read("customer", None)
        custompms_app.clear_faults()
        for failing in (
            system.update("customer", made.id, {"name": "C"}, version="1"),  # 412
            system.create("customer", {"name": ""}, idempotency_key="k2"),  # 422
            client.get("customers", "unknown"),  # 404
        ):
            with pytest.raises(PmbridgeError) as caught:
                await failing
            errors.append(caught.value)
        texts = [repr(client), repr(system), client.base_url]

    unreachable = CustompmsClient(
        f"http://127.0.0.1:{free_port()}",
        custompms_token,
        retry=RetryPolicy(attempts=2, initial_wait=0.001, max_wait=0.001, jitter=0),
    )
    with pytest.raises(PmbridgeError) as caught:
        await unreachable.feed("tasks")
    errors.append(caught.value)
    await unreachable.aclose()

    assert requests and all(
        r.headers["authorization"] == f"Bearer {custompms_token}" for r in requests
    )
    assert not [r.url for r in requests if custompms_token in str(r.url)]
    assert "try 2 of" in caplog.text and "HTTP Request" in caplog.text  # logging did happen
    assert custompms_token not in caplog.text
    for error in errors:
        assert custompms_token not in str(error) and custompms_token not in repr(error)
    for text in texts:
        assert custompms_token not in text


async def test_a_refused_token_is_not_repeated_back(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-token-d41d8cd98f00"
    async with CustompmsClient(CUSTOMPMS_ROOT, wrong, http=http) as client:
        with pytest.raises(PmbridgeError) as refused:
            await client.feed("customers")

    assert "Custompms rejected the token" in str(refused.value)
    assert wrong not in str(refused.value) and wrong not in caplog.text
