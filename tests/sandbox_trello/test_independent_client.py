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
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from trello import Board, TrelloClient
from trello.exceptions import Unauthorized

from pmbridge.sandbox.server import ServerThread

# py-trello's roots: the API, and the older one its create_hook posts to.
REAL_ROOTS = ("https://api.trello.com/1/", "https://trello.com/1/")


class BaseUrl(requests.Session):
    """A requests session that sends py-trello's calls to another API root."""

    def __init__(self, root: str):
        super().__init__()
        self.root = root.rstrip("/") + "/"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        for real in REAL_ROOTS:
            url = url.replace(real, self.root)
        return super().request(method, url, *args, **kwargs)


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


@pytest.fixture
def board(client: TrelloClient) -> Board:
    return client.add_board("Parts", default_lists=True)


def test_py_trello_labels(client: TrelloClient, board: Board):
    bug = board.add_label("bug", "red")
    assert (bug.name, bug.color) == ("bug", "red")
    assert "bug" in [label.name for label in board.get_labels()]
    card = board.list_lists()[0].add_card("Labelled")
    card.add_label(bug)
    card.fetch()
    assert [label.name for label in card.labels] == ["bug"]
    card.remove_label(bug)
    card.fetch()
    assert card.labels == []
    board.delete_label(bug.id)
    assert "bug" not in [label.name for label in board.get_labels()]


def test_py_trello_checklists(client: TrelloClient, board: Board):
    card = board.list_lists()[0].add_card("With a checklist")
    checklist = card.add_checklist("Steps", ["one", "two"], [False, True])
    assert [(i["name"], i["checked"]) for i in checklist.items] == [("one", False), ("two", True)]
    checklist.set_checklist_item("one", True)
    checklist.rename_checklist_item("two", "second")
    checklist.rename("Renamed")
    (fetched,) = client.get_card(card.id).fetch_checklists()
    assert fetched.name == "Renamed"
    assert [(i["name"], i["checked"]) for i in fetched.items] == [("one", True), ("second", True)]
    fetched.delete_checklist_item("one")
    assert [i["name"] for i in client.get_card(card.id).fetch_checklists()[0].items] == ["second"]
    fetched.delete()
    assert client.get_card(card.id).fetch_checklists() == []


def test_py_trello_members(client: TrelloClient, board: Board, trello_auth: dict[str, str]):
    (me,) = board.get_members()
    assert me.username == "testuser"
    card = board.list_lists()[0].add_card("Assigned")
    card.assign(me.id)
    assert client.get_card(card.id).member_id == [me.id]
    card.unassign(me.id)
    assert client.get_card(card.id).member_id == []


def test_py_trello_create_hook(client: TrelloClient, board: Board):
    calls: list[str] = []

    async def hook_endpoint(request: Request) -> Response:
        calls.append(request.method)
        return Response()

    app = Starlette(routes=[Route("/hook", hook_endpoint, methods=["HEAD", "POST"])])
    with ServerThread(app) as receiver:
        hook = client.create_hook(receiver.url + "/hook", board.id, desc="py-trello")
        assert hook.id and hook.id_model == board.id and calls == ["HEAD"]
        assert [h.id for h in client.list_hooks()] == [hook.id]
        hook.delete()
        assert client.list_hooks() == []
