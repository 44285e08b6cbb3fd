"""The receiver in-process: signatures as Trello and Custompms make them, refusals of
anything that does not verify, and the checks of the public URL."""

from __future__ import annotations

import json

import httpx
import pytest

from pmbridge.errors import ConfigError
from pmbridge.sandbox.custompms import notify
from pmbridge.sandbox.trello import webhooks
from pmbridge.serve import (
    CUSTOMPMS_PATH,
    TRELLO_PATH,
    Hint,
    create_receiver,
    public_url_of,
)

APP_SECRET = "5ec0" * 16
CALLBACK = "https://sync.example.com/hooks/trello"
PMS_SECRET = "per-run-secret"


def trello_body(action_type: str = "updateCard", action_id: str = "a" * 24) -> bytes:
    return json.dumps(
        {
            "action": {"id": action_id, "type": action_type, "data": {"card": {"id": "c" * 24}}},
            "model": {"id": "b" * 24},
            "webhook": {"id": "d" * 24, "callbackURL": CALLBACK},
        }
    ).encode()


def pms_body() -> bytes:
    return json.dumps({"resource": "tasks", "id": "t1", "version": 3, "deleted": False}).encode()


@pytest.fixture
def receiver() -> tuple[httpx.AsyncClient, list[Hint]]:
    hints: list[Hint] = []
    app = create_receiver(
        hints.append,
        trello_secret=APP_SECRET,
        trello_callback_url=CALLBACK,
        custompms_secret=PMS_SECRET,
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r")
    return client, hints


async def test_trello_head_check_and_a_signed_delivery_make_a_hint(receiver):
    client, hints = receiver
    assert (await client.head(TRELLO_PATH)).status_code == 200
    body = trello_body()
    answer = await client.post(
        TRELLO_PATH,
        content=body,
        headers={"X-Trello-Webhook": webhooks.sign(APP_SECRET, body, CALLBACK)},
    )
    assert answer.status_code == 200
    assert hints == [Hint("trello", "updateCard", full=False, board="b" * 24)]


async def test_a_comment_edit_asks_for_a_full_cycle(receiver):
    # Trello's board feeds leave comment edits out: only a full read finds them.
    client, hints = receiver
    for kind, action_id in (("updateComment", "e" * 24), ("deleteComment", "f" * 24)):
        body = trello_body(kind, action_id)
        signature = webhooks.sign(APP_SECRET, body, CALLBACK)
        answer = await client.post(
            TRELLO_PATH, content=body, headers={"X-Trello-Webhook": signature}
        )
        assert answer.status_code == 200
    assert [hint.full for hint in hints] == [True, True]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Trello-Webhook": "bm90IGEgc2lnbmF0dXJl"},
        # signed for another callback URL, or with another secret
        {"X-Trello-Webhook": webhooks.sign(APP_SECRET, trello_body(), CALLBACK + "x")},
        {"X-Trello-Webhook": webhooks.sign("0" * 64, trello_body(), CALLBACK)},
    ],
    ids=["missing", "garbage", "other-callback", "other-secret"],
)
async def test_trello_deliveries_that_do_not_verify_are_refused(receiver, headers):
    client, hints = receiver
    answer = await client.post(TRELLO_PATH, content=trello_body(), headers=headers)
    assert answer.status_code == 401
    assert "X-Trello-Webhook" in answer.json()["detail"]
    assert hints == []


async def test_custompms_notifications_verify_or_are_refused(receiver):
    client, hints = receiver
    body = pms_body()
    bad = await client.post(
        CUSTOMPMS_PATH, content=body, headers={"X-Custompms-Signature": notify.sign("guess", body)}
    )
    assert bad.status_code == 401 and hints == []
    good = await client.post(
        CUSTOMPMS_PATH,
        content=body,
        headers={"X-Custompms-Signature": notify.sign(PMS_SECRET, body)},
    )
    assert good.status_code == 204
    assert hints == [Hint("custompms", "tasks", resource="tasks", change=("task", "t1", "3"))]


async def test_signed_bodies_that_are_not_deliveries_and_huge_bodies_are_refused(receiver):
    client, hints = receiver
    junk = b'{"hello": "world"}'
    answer = await client.post(
        TRELLO_PATH,
        content=junk,
        headers={"X-Trello-Webhook": webhooks.sign(APP_SECRET, junk, CALLBACK)},
    )
    assert answer.status_code == 400
    answer = await client.post(
        CUSTOMPMS_PATH,
        content=b"not json",
        headers={"X-Custompms-Signature": notify.sign(PMS_SECRET, b"not json")},
    )
    assert answer.status_code == 400
    huge = b"x" * (2 << 20)
    answer = await client.post(
        TRELLO_PATH,
        content=huge,
        headers={"X-Trello-Webhook": webhooks.sign(APP_SECRET, huge, CALLBACK)},
    )
    assert answer.status_code == 413
    assert hints == []


async def test_without_secrets_the_hook_paths_do_not_exist():
    app = create_receiver(lambda hint: None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://r"
    ) as client:
        assert (await client.post(TRELLO_PATH, content=b"{}")).status_code == 404
        assert (await client.post(CUSTOMPMS_PATH, content=b"{}")).status_code == 404


def test_public_url_is_checked():
    assert public_url_of("https://sync.example.com/") == "https://sync.example.com"
    assert public_url_of(" http://10.0.0.5:8770/pm ") == "http://10.0.0.5:8770/pm"
    for bad in ("sync.example.com", "ftp://x.example", "https://", "https://x.example/?t=1"):
        with pytest.raises(ConfigError) as err:
            public_url_of(bad)
        assert "URL" in str(err.value)
    with pytest.raises(ConfigError, match="user name/password"):
        public_url_of("https://user:pw@x.example")
