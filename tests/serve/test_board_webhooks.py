"""``BoardWebhooks`` against the Trello sandbox over real HTTP: one webhook per board, a
webhook left by an earlier run counts as registered, refusals are told and not repeated."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.webhooks import registry
from pmbridge.serve import BoardWebhooks, create_receiver
from pmbridge.sockets import free_port
from pmbridge.systems.trello import TrelloClient
from tests.fixtures.bridge import UNLIMITED, TrelloUser

Hooks = list[dict[str, Any]]


@pytest.fixture
def receiver() -> Iterator[str]:
    """A receiver that answers Trello's HEAD check; its callback URL."""
    port = free_port()
    callback = f"http://127.0.0.1:{port}/hooks/trello"
    app = create_receiver(lambda hint: None, trello_secret="s", trello_callback_url=callback)
    with ServerThread(app, port=port):
        yield callback


@pytest.fixture
async def client(
    trello_server: ServerThread, trello_auth: dict[str, str]
) -> AsyncIterator[TrelloClient]:
    async with TrelloClient(
        trello_server.url + "/1", trello_auth["key"], trello_auth["token"], limits=UNLIMITED
    ) as client:
        yield client


def hooks_at_trello(trello_app: Any, token: str) -> Hooks:
    return [hook.to_json() for hook in registry(trello_app.state).of_token(token)]


async def test_one_webhook_per_board_and_an_earlier_one_counts_as_registered(
    receiver: str, client: TrelloClient, trello_app: Any, trello_server: ServerThread, trello_auth
):
    person = TrelloUser(trello_server, trello_auth)
    boards = {person.call("POST", "/boards/", name=f"Board {n}")["id"] for n in range(2)}
    warnings: list[str] = []
    first = BoardWebhooks(client, receiver)
    await first.track(boards, warnings.append)
    await first.track(boards, warnings.append)  # nothing new: nothing asked
    hooks = hooks_at_trello(trello_app, trello_auth["token"])
    assert sorted(h["idModel"] for h in hooks) == sorted(boards)
    assert {h["callbackURL"] for h in hooks} == {receiver}
    assert set(first.ids) == boards and warnings == []

    # A later run meets Trello's "already exists" and takes the webhook as registered.
    later = BoardWebhooks(client, receiver)
    await later.track(boards, warnings.append)
    assert later.ids == dict.fromkeys(boards) and warnings == []
    assert await later.remove_all(warnings.append) == 0
    assert len(hooks_at_trello(trello_app, trello_auth["token"])) == 2

    # A board that leaves the links loses its webhook; the rest go on stop.
    gone = sorted(boards)[0]
    await first.track(boards - {gone}, warnings.append)
    assert [h["idModel"] for h in hooks_at_trello(trello_app, trello_auth["token"])] == [
        sorted(boards)[1]
    ]
    assert await first.remove_all(warnings.append) == 1
    assert hooks_at_trello(trello_app, trello_auth["token"]) == []
    assert warnings == []


async def test_refusals_are_told_once_and_an_unreachable_callback_is_tried_again(
    receiver: str, client: TrelloClient, trello_app: Any, trello_server: ServerThread, trello_auth
):
    person = TrelloUser(trello_server, trello_auth)
    board = person.call("POST", "/boards/", name="Board")["id"]
    missing = "5f" + "0" * 22
    warnings: list[str] = []
    unreachable = f"http://127.0.0.1:{free_port()}/hooks/trello"
    hooks = BoardWebhooks(client, unreachable)
    await hooks.track({board, missing}, warnings.append)
    assert any(f"Trello cannot reach {unreachable}" in w for w in warnings)
    assert any(f"Trello refused a webhook for board {missing}" in w for w in warnings)
    assert set(hooks.refused) == {missing} and hooks.ids == {}
    # Once the callback answers, the board gets its webhook; the refused one is not asked again.
    hooks.callback_url = receiver
    trello_app.state.control.stats.reset()
    await hooks.track({board, missing}, warnings.append)
    assert set(hooks.ids) == {board}
    assert trello_app.state.control.stats.snapshot()["by_route"] == {"POST /1/webhooks/": 1}
    assert trello_auth["token"] not in " ".join(warnings)
