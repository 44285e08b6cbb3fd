"""The key and the token travel only in the Authorization header: never in a URL, a log
record or an error, whatever goes wrong."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from pmbridge.errors import PmbridgeError
from pmbridge.sockets import free_port
from pmbridge.systems.trello import RetryPolicy, TrelloClient, TrelloSystem
from tests.systems_trello.conftest import NO_LIMITS, Sandbox

QUICK = RetryPolicy(attempts=2, initial_wait=0.001, jitter=0.0, max_retry_after=0.01)


async def test_no_secret_in_urls_logs_or_errors(
    api_root: str,
    trello_auth: dict[str, str],
    sandbox: Sandbox,
    sent: list[httpx.Request],
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root: httpx, httpcore and pmbridge loggers included
    key, token = trello_auth["key"], trello_auth["token"]
    wrong_token = "ATTAwrongtoken0123456789abcdef"
    client = TrelloClient(api_root, key, token, http=http, limits=NO_LIMITS, retry=QUICK)
    stranger = TrelloClient(api_root, key, wrong_token, http=http, retry=QUICK)
    nowhere = TrelloClient(f"http://127.0.0.1:{free_port()}/1", key, token, http=http, retry=QUICK)
    system = TrelloSystem(client)
    org = await client.create_organization("Acme", website="https://acme.example")
    board = await system.create(
        "board", {"name": "B", "idOrganization": org["id"]}, idempotency_key="b"
    )
    errors: list[BaseException] = []

    async def fails(call: Callable[[], Awaitable[Any]], **faults: Any) -> None:
        sandbox.faults(**faults)
        try:
            await call()
        except PmbridgeError as err:
            errors.append(err)
        finally:
            sandbox.clear_faults()

    await fails(lambda: client.update_organization(org["id"], website="nope"))  # 400
    await fails(lambda: client.get_card("5f0000000000000000000fff"))  # 404
    await fails(lambda: client.get_card("not-an-id"))  # 400 invalid id
    await fails(lambda: stranger.get_me())  # 401
    await fails(lambda: client.get_me(), error_rate=1.0)  # 5xx after retries
    await fails(lambda: client.get_me(), force_429=5)  # 429 after retries
    await fails(lambda: client.create_organization("Lost"), drop_after_rate=1.0)  # lost answer
    await fails(
        lambda: system.create("card", {"idBoard": board.id, "nom": "x"}, idempotency_key="c")
    )
    await fails(lambda: nowhere.get_me())  # connection refused
    await fails(lambda: system.read("card", "not json"))
    assert len(errors) == 10

    # The secrets were really sent — in the header, where they belong...
    assert sent and all(r.headers["authorization"].count(token) == 1 for r in sent[:3])
    # ...and nowhere else.
    texts = [str(r.url) for r in sent]
    for err in errors:
        texts.extend(traceback.format_exception(err))
        texts.append(repr(err))
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        if record.exc_info:
            texts.extend(traceback.format_exception(*record.exc_info))
    texts += [repr(client), repr(stranger), repr(nowhere), repr(QUICK)]
    assert any("httpx" == r.name for r in caplog.records)  # the httpx logger was captured
    for secret in (key, token, wrong_token):
        leaks = [text for text in texts if secret in text]
        assert leaks == [], f"a secret leaked into: {leaks[0][:200]}"
    await client.aclose()
    await stranger.aclose()
    await nowhere.aclose()
