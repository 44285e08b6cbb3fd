"""The Trello sandbox's webhooks, over real HTTP: a receiver on a free port gets signed
deliveries; bad callbacks, duplicates and foreign tokens are refused; failures are retried,
counted and end in deactivation; a 410 deletes the webhook."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.app import create_app
from pmbridge.sandbox.trello.config import MemberConfig, SandboxConfig
from pmbridge.sandbox.trello.webhooks import WebhookConfig, verify
from pmbridge.sockets import free_port
from tests.fixtures.trello import (
    TRELLO_TEST_KEY,
    TRELLO_TEST_MEMBER_ID,
    TRELLO_TEST_SECRET,
    TRELLO_TEST_TOKEN,
    oauth_header,
)

OTHER_TOKEN = "ATTAother" + "9a8b7c6d" * 8 + "EFGH5678"
FAST_RETRIES = WebhookConfig(
    retry_delays_s=[0.02, 0.02, 0.02],
    disable_after_failures=6,
    delivery_timeout_s=0.5,
    check_timeout_s=2,
)


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver: answers HEAD with ``head_status`` and records every POST.

    POSTs are answered with the statuses in ``script`` first, then with ``post_status``.
    """

    head_status: int = 200
    post_status: int = 200
    script: list[int] = field(default_factory=list)
    post_delay_s: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    url: str = ""

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            if request.method == "HEAD":
                return Response(status_code=self.head_status)
            self.deliveries.append(Delivery(await request.body(), dict(request.headers)))
            if self.post_delay_s:
                await asyncio.sleep(self.post_delay_s)
            return Response(status_code=self.script.pop(0) if self.script else self.post_status)

        return Starlette(routes=[Route("/hook", hook, methods=["HEAD", "POST"])])

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout_s
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.deliveries) >= count, f"{len(self.deliveries)} of {count} deliveries"
        return list(self.deliveries)


class Trello:
    """A thin test client of the sandbox's ``/1`` API for one token."""

    def __init__(self, base_url: str, token: str = TRELLO_TEST_TOKEN):
        self.http = httpx.Client(
            base_url=base_url + "/1",
            headers={"Authorization": oauth_header(TRELLO_TEST_KEY, token)},
            timeout=10,
        )
        self.token = token

    def ok(self, method: str, path: str, **params: Any) -> Any:
        response = self.http.request(method, path, params=params)
        assert response.status_code == 200, f"{method} {path}: {response.text}"
        return response.json()

    def board_with_list(self, name: str = "Board") -> tuple[dict, dict]:
        board = self.ok("POST", "/boards", name=name, defaultLists="false")
        lst = self.ok("POST", f"/boards/{board['id']}/lists", name="To Do")
        return board, lst

    def hook(self, id_model: str, callback_url: str, **extra: Any) -> httpx.Response:
        return self.http.post(
            "/webhooks/", params={"idModel": id_model, "callbackURL": callback_url, **extra}
        )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    with ServerThread(found.app()) as server:
        found.url = server.url + "/hook"
        yield found


@contextmanager
def sandbox(webhooks: WebhookConfig = FAST_RETRIES) -> Iterator[str]:
    config = SandboxConfig(
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
        rate_limits=None,
        webhooks=webhooks,
    )
    with ServerThread(create_app(config)) as server:
        yield server.url


@pytest.fixture
def trello() -> Iterator[Trello]:
    with sandbox() as url:
        client = Trello(url)
        yield client
        client.http.close()


def trello_signature(secret: str, body: bytes, callback_url: str) -> str:
    """Trello's documented recipe, written out independently of the sandbox's ``sign``."""
    mac = hmac.new(secret.encode(), body + callback_url.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_board_webhook_gets_signed_card_and_comment_actions(
    trello: Trello, receiver: Receiver
) -> None:
    board, lst = trello.board_with_list()
    _other_board, other_list = trello.board_with_list("Elsewhere")
    created = trello.hook(board["id"], receiver.url, description="sync hints")
    assert created.status_code == 200, created.text
    hook = created.json()
    assert len(hook["id"]) == 24 and int(hook["id"], 16) >= 0
    assert hook == {
        "id": hook["id"],
        "description": "sync hints",
        "idModel": board["id"],
        "callbackURL": receiver.url,
        "active": True,
        "consecutiveFailures": 0,
        "firstConsecutiveFailDate": None,
    }

    card = trello.ok("POST", "/cards", idList=lst["id"], name="Write the plan")
    trello.ok("POST", "/cards", idList=other_list["id"], name="Not watched")
    trello.ok("PUT", f"/cards/{card['id']}", name="Write the plan, v2")
    comment = trello.ok("POST", f"/cards/{card['id']}/actions/comments", text="first")
    trello.ok("PUT", f"/actions/{comment['id']}", text="first, edited")
    trello.ok("DELETE", f"/actions/{comment['id']}")

    deliveries = receiver.wait_for(5)
    time.sleep(0.1)  # nothing else may arrive: the other board is not watched
    assert len(receiver.deliveries) == 5
    types = [d.payload["action"]["type"] for d in deliveries]
    assert types == ["createCard", "updateCard", "commentCard", "updateComment", "deleteComment"]
    for delivery in deliveries:
        signature = delivery.headers["x-trello-webhook"]
        assert verify(TRELLO_TEST_SECRET, delivery.body, receiver.url, signature)
        assert signature == trello_signature(TRELLO_TEST_SECRET, delivery.body, receiver.url)
        assert not verify("another secret", delivery.body, receiver.url, signature)
        assert not verify(TRELLO_TEST_SECRET, delivery.body + b" ", receiver.url, signature)
        assert delivery.headers["content-type"] == "application/json"
        payload = delivery.payload
        assert payload["model"]["id"] == board["id"]
        assert payload["model"]["name"] == "Board"
        assert payload["webhook"] == hook
        assert payload["action"]["memberCreator"]["id"] == TRELLO_TEST_MEMBER_ID
        assert payload["action"]["data"]["board"]["id"] == board["id"]

    update, comment_action, edit, deletion = (d.payload["action"] for d in deliveries[1:])
    assert update["data"]["old"]["name"] == "Write the plan"
    # What was sent stays as it was, though the comment was edited afterwards.
    assert comment_action["data"]["text"] == "first"
    assert edit["data"]["action"]["id"] == comment["id"]
    assert edit["data"]["action"]["text"] == "first, edited"
    assert edit["data"]["old"]["text"] == "first"
    assert deletion["data"]["action"]["id"] == comment["id"]


def test_card_webhook_sees_only_that_cards_actions(trello: Trello, receiver: Receiver) -> None:
    _board, lst = trello.board_with_list()
    watched = trello.ok("POST", "/cards", idList=lst["id"], name="Watched")
    other = trello.ok("POST", "/cards", idList=lst["id"], name="Other")
    assert trello.hook(watched["id"], receiver.url).status_code == 200

    trello.ok("POST", f"/cards/{other['id']}/actions/comments", text="elsewhere")
    trello.ok("POST", f"/cards/{watched['id']}/actions/comments", text="here")

    (delivery,) = receiver.wait_for(1)
    time.sleep(0.1)
    assert len(receiver.deliveries) == 1
    assert delivery.payload["action"]["data"]["text"] == "here"
    assert delivery.payload["model"]["id"] == watched["id"]
    assert delivery.payload["model"]["name"] == "Watched"


def test_callback_that_does_not_answer_200_is_refused(trello: Trello, receiver: Receiver) -> None:
    board, _ = trello.board_with_list()
    receiver.head_status = 404
    refused = trello.hook(board["id"], receiver.url)
    closed_url = f"http://127.0.0.1:{free_port()}/hook"
    unreachable = trello.hook(board["id"], closed_url)

    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/json")
    assert refused.json() == {
        "message": f"URL ({receiver.url}) did not return 200 status code, got 404",
        "error": "ERROR",
    }
    assert unreachable.status_code == 400
    assert unreachable.headers["content-type"].startswith("application/json")
    assert unreachable.json()["error"] == "ERROR"
    assert unreachable.json()["message"].startswith(
        f"URL ({closed_url}) did not return 200 status code, got "
    )
    assert trello.ok("GET", f"/tokens/{trello.token}/webhooks") == []


def test_duplicate_and_invalid_webhooks_are_refused(trello: Trello, receiver: Receiver) -> None:
    board, _ = trello.board_with_list()
    assert trello.hook(board["id"], receiver.url).status_code == 200

    duplicate = trello.hook(board["id"], receiver.url, description="again")
    via_token = trello.http.post(
        f"/tokens/{trello.token}/webhooks",
        data={"idModel": board["id"], "callbackURL": receiver.url},
    )
    unknown_model = trello.hook("5f0000000000000000000fff", receiver.url)
    bad_model = trello.hook("not-an-id", receiver.url)
    no_callback = trello.http.post("/webhooks", params={"idModel": board["id"]})
    ftp_callback = trello.hook(board["id"], "ftp://127.0.0.1/hook")
    bad_port = trello.hook(board["id"], "http://127.0.0.1:99999/hook")
    long_description = trello.hook(board["id"], receiver.url + "?x=1", description="d" * 16385)

    for response in (duplicate, via_token):
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "A webhook with that callback, model, and token already exists"
    assert (unknown_model.status_code, unknown_model.text) == (400, "invalid value for idModel")
    assert (bad_model.status_code, bad_model.text) == (400, "invalid value for idModel")
    for response in (no_callback, ftp_callback, bad_port):
        assert (response.status_code, response.text) == (400, "invalid value for callbackURL")
    assert long_description.status_code == 400
    assert long_description.text == "invalid value for description"
    assert len(trello.ok("GET", f"/tokens/{trello.token}/webhooks")) == 1


def test_a_webhook_belongs_to_the_token_that_made_it(trello: Trello, receiver: Receiver) -> None:
    board, _ = trello.board_with_list()
    hook = trello.hook(board["id"], receiver.url).json()
    other = Trello(str(trello.http.base_url).removesuffix("/1/"), OTHER_TOKEN)

    assert trello.ok("GET", f"/webhooks/{hook['id']}") == hook
    assert trello.ok("GET", f"/tokens/{trello.token}/webhooks/{hook['id']}") == hook
    callback = trello.ok("GET", f"/webhooks/{hook['id']}/callbackURL")
    assert callback == {"id": hook["id"], "callbackURL": receiver.url}
    assert trello.ok("GET", f"/webhooks/{hook['id']}/active") == {"id": hook["id"], "active": True}
    for method in ("GET", "PUT", "DELETE"):
        refused = other.http.request(method, f"/webhooks/{hook['id']}")
        assert (refused.status_code, refused.text) == (401, "unauthorized token")
    foreign_list = other.http.get(f"/tokens/{trello.token}/webhooks")
    assert (foreign_list.status_code, foreign_list.text) == (401, "unauthorized token")
    assert other.ok("GET", f"/tokens/{OTHER_TOKEN}/webhooks") == []
    # The same callback and model under another token is not a duplicate.
    assert other.hook(board["id"], receiver.url).status_code == 200

    malformed = trello.http.get("/webhooks/nope")
    missing = trello.http.get("/webhooks/5f0000000000000000000fff")
    assert (malformed.status_code, malformed.text) == (400, "invalid id")
    assert missing.status_code == 404
    assert trello.ok("GET", f"/webhooks/{hook['id']}") == hook  # untouched by the refusals
    other.http.close()


def test_update_checks_a_new_callback_and_delete_removes(
    trello: Trello, receiver: Receiver
) -> None:
    board, lst = trello.board_with_list()
    hook = trello.hook(board["id"], receiver.url).json()

    closed_url = f"http://127.0.0.1:{free_port()}/hook"
    moved = trello.http.put(f"/webhooks/{hook['id']}", params={"callbackURL": closed_url})
    assert moved.status_code == 400
    assert moved.json()["message"].startswith(f"URL ({closed_url}) did not return 200")
    assert trello.ok("GET", f"/webhooks/{hook['id']}")["callbackURL"] == receiver.url

    paused = trello.ok("PUT", f"/webhooks/{hook['id']}", active="false", description="paused")
    assert (paused["active"], paused["description"]) == (False, "paused")
    trello.ok("POST", "/cards", idList=lst["id"], name="Unseen")
    trello.ok("PUT", f"/webhooks/{hook['id']}", active="true")
    trello.ok("POST", "/cards", idList=lst["id"], name="Seen")
    (delivery,) = receiver.wait_for(1)
    assert delivery.payload["action"]["data"]["card"]["name"] == "Seen"

    assert trello.ok("DELETE", f"/tokens/{trello.token}/webhooks/{hook['id']}") == {}
    assert trello.http.get(f"/webhooks/{hook['id']}").status_code == 404
    trello.ok("POST", "/cards", idList=lst["id"], name="After delete")
    time.sleep(0.1)
    assert len(receiver.deliveries) == 1


def test_failing_receiver_is_retried_counted_and_finally_disabled(
    trello: Trello, receiver: Receiver
) -> None:
    board, lst = trello.board_with_list()
    hook = trello.hook(board["id"], receiver.url).json()
    receiver.post_status = 500

    trello.ok("POST", "/cards", idList=lst["id"], name="One")
    first = receiver.wait_for(4)  # the first try and 3 retries
    wait_until(lambda: trello.ok("GET", f"/webhooks/{hook['id']}")["consecutiveFailures"] == 4)
    state = trello.ok("GET", f"/webhooks/{hook['id']}")
    assert state["active"] is True
    assert state["firstConsecutiveFailDate"] is not None
    assert {d.payload["action"]["id"] for d in first} == {first[0].payload["action"]["id"]}
    assert [d.payload["webhook"]["consecutiveFailures"] for d in first] == [0, 1, 2, 3]

    trello.ok("POST", "/cards", idList=lst["id"], name="Two")
    receiver.wait_for(6)  # the threshold (6) is reached on the second retry
    wait_until(lambda: trello.ok("GET", f"/webhooks/{hook['id']}")["active"] is False)
    state = trello.ok("GET", f"/webhooks/{hook['id']}")
    assert state["consecutiveFailures"] == 6
    time.sleep(0.1)
    assert len(receiver.deliveries) == 6  # no retries once disabled

    trello.ok("POST", "/cards", idList=lst["id"], name="Three")
    time.sleep(0.1)
    assert len(receiver.deliveries) == 6  # an inactive webhook gets nothing

    receiver.post_status = 200
    trello.ok("PUT", f"/webhooks/{hook['id']}", active="true")
    trello.ok("POST", "/cards", idList=lst["id"], name="Four")
    receiver.wait_for(7)
    wait_until(
        lambda: (
            trello.ok("GET", f"/webhooks/{hook['id']}")
            == {**hook, "consecutiveFailures": 0, "firstConsecutiveFailDate": None}
        )
    )


def test_a_success_resets_the_failure_count(trello: Trello, receiver: Receiver) -> None:
    board, lst = trello.board_with_list()
    hook = trello.hook(board["id"], receiver.url).json()
    receiver.script = [503, 503]  # the second retry succeeds
    trello.ok("POST", "/cards", idList=lst["id"], name="One")
    deliveries = receiver.wait_for(3)
    wait_until(lambda: trello.ok("GET", f"/webhooks/{hook['id']}")["consecutiveFailures"] == 0)
    time.sleep(0.1)
    assert len(receiver.deliveries) == len(deliveries)  # no retry after the success
    assert trello.ok("GET", f"/webhooks/{hook['id']}")["firstConsecutiveFailDate"] is None


def test_gone_reply_deletes_the_webhook(trello: Trello, receiver: Receiver) -> None:
    board, lst = trello.board_with_list()
    hook = trello.hook(board["id"], receiver.url).json()
    receiver.post_status = 410

    trello.ok("POST", "/cards", idList=lst["id"], name="One")
    receiver.wait_for(1)
    wait_until(lambda: trello.http.get(f"/webhooks/{hook['id']}").status_code == 404)
    assert trello.ok("GET", f"/tokens/{trello.token}/webhooks") == []
    trello.ok("POST", "/cards", idList=lst["id"], name="Two")
    time.sleep(0.1)
    assert len(receiver.deliveries) == 1


def test_slow_receiver_never_slows_the_api(trello: Trello, receiver: Receiver) -> None:
    board, lst = trello.board_with_list()
    hook = trello.hook(board["id"], receiver.url).json()
    receiver.post_delay_s = 0.7  # longer than the delivery timeout (0.5 s)

    started = time.monotonic()
    for name in ("One", "Two", "Three"):
        trello.ok("POST", "/cards", idList=lst["id"], name=name)
    elapsed = time.monotonic() - started

    assert elapsed < 0.5, f"API calls waited for webhook deliveries ({elapsed:.2f} s)"
    # The timed-out delivery counts as a failure.
    wait_until(
        lambda: trello.ok("GET", f"/webhooks/{hook['id']}")["consecutiveFailures"] >= 1,
        timeout_s=3,
    )


def test_deliveries_keep_the_order_of_actions(trello: Trello, receiver: Receiver) -> None:
    board, lst = trello.board_with_list()
    trello.hook(board["id"], receiver.url)
    names = [f"Card {i}" for i in range(12)]
    # Created from several threads at once; each webhook still gets them in recorded order.
    threads = [
        threading.Thread(
            target=trello.ok, args=("POST", "/cards"), kwargs={"idList": lst["id"], "name": n}
        )
        for n in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    deliveries = receiver.wait_for(len(names))
    action_ids = [d.payload["action"]["id"] for d in deliveries]
    assert action_ids == sorted(action_ids)  # ids sort by creation
    assert sorted(d.payload["action"]["data"]["card"]["name"] for d in deliveries) == sorted(names)


def test_board_webhook_gets_the_actions_on_card_parts(trello: Trello, receiver: Receiver) -> None:
    board, lst = trello.board_with_list()
    card = trello.ok("POST", "/cards", idList=lst["id"], name="Parts")
    trello.hook(board["id"], receiver.url)
    label = trello.ok("POST", "/labels", idBoard=board["id"], name="bug", color="red")
    trello.ok("POST", f"/cards/{card['id']}/idLabels", value=label["id"])
    checklist = trello.ok("POST", f"/cards/{card['id']}/checklists", name="Steps")
    item = trello.ok("POST", f"/checklists/{checklist['id']}/checkItems", name="one")
    trello.ok("PUT", f"/cards/{card['id']}/checkItem/{item['id']}", name="first")
    trello.ok("POST", f"/cards/{card['id']}/idMembers", value=TRELLO_TEST_MEMBER_ID)
    trello.ok("POST", f"/cards/{card['id']}/attachments", url="https://example.com/a")

    deliveries = receiver.wait_for(7)
    actions = [d.payload["action"] for d in deliveries]
    assert [a["type"] for a in actions] == [
        "createLabel", "addLabelToCard", "addChecklistToCard", "createCheckItem",
        "updateCheckItem", "addMemberToCard", "addAttachmentToCard",
    ]  # fmt: skip
    assert actions[1]["data"]["label"]["id"] == label["id"]
    # updateCheckItem reaches webhooks though the board's action list leaves it out.
    assert actions[4]["data"]["old"] == {"name": "one"}
    assert actions[4]["data"]["checkItem"]["name"] == "first"
    assert all(d.payload["model"]["id"] == board["id"] for d in deliveries)
