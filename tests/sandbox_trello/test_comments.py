"""Comments: create, edit, delete; edits and deletions stay out of the nested action lists."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.trello import oauth_header
from tests.sandbox_trello.conftest import ok


@pytest.fixture
def card(api: httpx.Client, board: dict) -> dict:
    return ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "Talk"}))


def test_add_comment(api: httpx.Client, board: dict, card: dict) -> None:
    comment = ok(api.post(f"/cards/{card['id']}/actions/comments", data={"text": "Hello"}))
    assert comment["type"] == "commentCard"
    assert comment["data"]["text"] == "Hello"
    assert comment["data"]["card"] == {
        "id": card["id"],
        "name": "Talk",
        "idShort": card["idShort"],
        "shortLink": card["shortLink"],
    }
    assert comment["data"]["board"] == {
        "id": board["id"],
        "name": "Project X",
        "shortLink": board["shortLink"],
    }
    assert comment["data"]["list"] == {"id": board["lists"][0]["id"], "name": "To Do"}
    assert comment["memberCreator"]["username"] == "testuser"
    assert comment["idMemberCreator"] == "5f0000000000000000000b01"
    assert comment["limits"]["reactions"]["perAction"]["status"] == "ok"
    assert comment["display"]["translationKey"] == "action_comment_on_card"
    assert comment["appCreator"] is None
    after = ok(api.get(f"/cards/{card['id']}"))
    assert after["badges"]["comments"] == 1
    assert after["dateLastActivity"] >= comment["date"]
    assert ok(api.get(f"/actions/{comment['id']}")) == comment


@pytest.mark.parametrize("text", ["", "x" * 16385])
def test_comment_text_length(api: httpx.Client, card: dict, text: str) -> None:
    reply = api.post(f"/cards/{card['id']}/actions/comments", params={"text": text})
    assert (reply.status_code, reply.text) == (400, "invalid value for text")


def test_longest_comment_is_accepted(api: httpx.Client, card: dict) -> None:
    comment = ok(api.post(f"/cards/{card['id']}/actions/comments", json={"text": "y" * 16384}))
    assert len(comment["data"]["text"]) == 16384


def test_edit_comment_three_ways(api: httpx.Client, board: dict, card: dict) -> None:
    comment = ok(api.post(f"/cards/{card['id']}/actions/comments", params={"text": "v1"}))
    edited = ok(api.put(f"/actions/{comment['id']}", params={"text": "v2"}))
    assert edited["id"] == comment["id"]
    assert edited["data"]["text"] == "v2"
    assert "dateLastEdited" in edited["data"]
    ok(api.put(f"/actions/{comment['id']}/text", data={"value": "v3"}))
    ok(api.put(f"/cards/{card['id']}/actions/{comment['id']}/comments", json={"text": "v4"}))
    assert ok(api.get(f"/actions/{comment['id']}"))["data"]["text"] == "v4"
    # The comment keeps its place (and id) in the feeds, with the new text.
    feed = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "commentCard"}))
    assert [(a["id"], a["data"]["text"]) for a in feed] == [(comment["id"], "v4")]


def test_update_comment_only_via_webhooks_and_get_action(
    api: httpx.Client, board: dict, card: dict, sandbox_app
) -> None:
    seen: list[dict] = []
    sandbox_app.state.world.add_action_listener(seen.append)
    comment = ok(api.post(f"/cards/{card['id']}/actions/comments", params={"text": "first"}))
    ok(api.put(f"/actions/{comment['id']}", params={"text": "second"}))
    update = seen[-1]
    assert update["type"] == "updateComment"
    assert update["data"]["action"] == {"id": comment["id"], "text": "second"}
    assert update["data"]["old"] == {"text": "first"}
    assert update["data"]["card"]["id"] == card["id"]
    assert ok(api.get(f"/actions/{update['id']}")) == update
    board_types = [a["type"] for a in ok(api.get(f"/boards/{board['id']}/actions"))]
    card_all = ok(api.get(f"/cards/{card['id']}/actions", params={"filter": "all"}))
    asked = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "updateComment"}))
    assert "updateComment" not in board_types
    assert "updateComment" not in [a["type"] for a in card_all]
    assert asked == []


def test_delete_comment(api: httpx.Client, board: dict, card: dict, sandbox_app) -> None:
    seen: list[dict] = []
    sandbox_app.state.world.add_action_listener(seen.append)
    one = ok(api.post(f"/cards/{card['id']}/actions/comments", params={"text": "one"}))
    two = ok(api.post(f"/cards/{card['id']}/actions/comments", params={"text": "two"}))
    assert ok(api.delete(f"/actions/{one['id']}")) == {}
    assert ok(api.delete(f"/cards/{card['id']}/actions/{two['id']}/comments")) == {}
    for gone in (one, two):
        reply = api.get(f"/actions/{gone['id']}")
        assert (reply.status_code, reply.text) == (404, "model not found")
    deletes = [a for a in seen if a["type"] == "deleteComment"]
    assert [a["data"]["action"] for a in deletes] == [{"id": one["id"]}, {"id": two["id"]}]
    assert ok(api.get(f"/actions/{deletes[0]['id']}"))["type"] == "deleteComment"
    feed_types = [a["type"] for a in ok(api.get(f"/boards/{board['id']}/actions"))]
    assert "deleteComment" not in feed_types and "commentCard" not in feed_types
    assert ok(api.get(f"/cards/{card['id']}"))["badges"]["comments"] == 0


def test_only_comments_can_be_edited_or_deleted(api: httpx.Client, board: dict, card: dict) -> None:
    create = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "createCard"}))[0]
    for reply in (
        api.put(f"/actions/{create['id']}", params={"text": "hijack"}),
        api.delete(f"/actions/{create['id']}"),
    ):
        assert (reply.status_code, reply.text) == (
            400,
            "only comment actions can be changed or deleted",
        )
    assert ok(api.get(f"/actions/{create['id']}"))["type"] == "createCard"


def test_only_the_author_may_edit(
    api: httpx.Client, card: dict, sandbox_server, sandbox_app, trello_config
) -> None:
    sandbox_app.state.world.add_member("bob", "Bob Ray", "bob-token")
    comment = ok(api.post(f"/cards/{card['id']}/actions/comments", params={"text": "mine"}))
    with httpx.Client(
        base_url=sandbox_server.url + "/1",
        headers={"Authorization": oauth_header(trello_config.key, "bob-token")},
    ) as bob:
        reply = bob.put(f"/actions/{comment['id']}", params={"text": "his"})
        assert (reply.status_code, reply.text) == (401, "unauthorized permission requested")
        assert bob.delete(f"/actions/{comment['id']}").status_code == 401
    assert ok(api.get(f"/actions/{comment['id']}"))["data"]["text"] == "mine"


def test_comment_routes_check_the_card(api: httpx.Client, board: dict, card: dict) -> None:
    other = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "other"}))
    comment = ok(api.post(f"/cards/{card['id']}/actions/comments", params={"text": "here"}))
    reply = api.put(
        f"/cards/{other['id']}/actions/{comment['id']}/comments", params={"text": "moved?"}
    )
    assert (reply.status_code, reply.text) == (404, "model not found")
    reply = api.post("/cards/5f0000000000000000000000/actions/comments", params={"text": "x"})
    assert reply.status_code == 404


def test_card_actions_default_filter(api: httpx.Client, board: dict, card: dict) -> None:
    ok(api.put(f"/cards/{card['id']}", params={"name": "renamed"}))
    ok(api.put(f"/cards/{card['id']}", params={"idList": board["lists"][1]["id"]}))
    comment = ok(api.post(f"/cards/{card['id']}/actions/comments", params={"text": "c"}))
    default = ok(api.get(f"/cards/{card['id']}/actions"))
    assert [a["type"] for a in default] == ["commentCard", "updateCard"]
    assert default[0]["id"] == comment["id"]
    assert "listAfter" in default[1]["data"]
    every = ok(api.get(f"/cards/{card['id']}/actions", params={"filter": "all"}))
    assert [a["type"] for a in every] == ["commentCard", "updateCard", "updateCard", "createCard"]
