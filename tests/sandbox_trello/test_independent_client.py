"""An independently written Trello client (py-trello, from PyPI) works against the sandbox
with nothing changed but its base URL.

py-trello has ``https://api.trello.com/1`` built in; its ``http_service`` hook (a requests
session) is where an application points it elsewhere, so that is the one thing changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from trello import TrelloClient
from trello.exceptions import Unauthorized

from pmbridge.sandbox.server import ServerThread

REAL_ROOT = "https://api.trello.com/1/"


class BaseUrl(requests.Session):
    """A requests session that sends py-trello's calls to another API root."""

    def __init__(self, root: str):
        super().__init__()
        self.root = root.rstrip("/") + "/"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        return super().request(method, url.replace(REAL_ROOT, self.root), *args, **kwargs)


@pytest.fixture
def client(trello_server: ServerThread, trello_auth: dict[str, str]) -> TrelloClient:
    return TrelloClient(
        api_key=trello_auth["key"],
        token=trello_auth["token"],
        http_service=BaseUrl(trello_server.url + "/1"),
    )


def test_py_trello_manages_boards_lists_cards_and_comments(client: TrelloClient):
    org = client.fetch_json(
        "/organizations", http_method="POST", post_args={"displayName": "Py Trello Co"}
    )
    assert [o.id for o in client.list_organizations()] == [org["id"]]

    board = client.add_board("Made by py-trello", organization_id=org["id"], default_lists=False)
    assert client.get_board(board.id).name == "Made by py-trello"
    todo = board.add_list("To Do")
    done = board.add_list("Done", pos="bottom")
    assert [lst.name for lst in board.list_lists()] == ["To Do", "Done"]

    card = todo.add_card("Write tests", desc="with a real client")
    card.set_name("Write more tests")
    card.set_due(datetime(2026, 12, 24, 15, 30, tzinfo=UTC))
    card.comment("First comment")
    card.change_list(done.id)
    card.fetch()
    assert card.name == "Write more tests"
    assert card.description == "with a real client"
    assert card.list_id == done.id
    assert card.due_date == datetime(2026, 12, 24, 15, 30, tzinfo=UTC)

    comments = card.fetch_comments(force=True)
    assert [c["data"]["text"] for c in comments] == ["First comment"]
    card.update_comment(comments[0]["id"], "Edited comment")
    assert [c["data"]["text"] for c in card.fetch_comments(force=True)] == ["Edited comment"]
    card.delete_comment(comments[0])
    assert card.fetch_comments(force=True) == []

    moves = card.fetch_actions(action_filter="updateCard:idList")
    assert moves[0]["data"]["listAfter"]["id"] == done.id

    card.set_closed(True)
    assert [c.name for c in board.closed_cards()] == ["Write more tests"]
    assert board.open_cards() == []
    card.delete()
    assert board.all_cards() == []


def test_py_trello_sees_trellos_auth_errors(trello_server: ServerThread, trello_auth):
    wrong = TrelloClient(
        api_key=trello_auth["key"],
        token="ATTA" + "0" * 60,
        http_service=BaseUrl(trello_server.url + "/1"),
    )
    with pytest.raises(Unauthorized, match="invalid token"):
        wrong.list_boards()
