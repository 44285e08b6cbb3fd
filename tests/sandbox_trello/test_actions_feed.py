"""Board action feeds: newest first, type filters, since/before by id or date, limit, page."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from pmbridge.sandbox.trello import comments
from tests.sandbox_trello.conftest import ok

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def busy_board(api: httpx.Client, board: dict) -> dict:
    """The board plus 6 cards made one after another (createCard actions)."""
    todo = board["lists"][0]["id"]
    cards = [ok(api.post("/cards", params={"idList": todo, "name": f"c{n}"})) for n in range(6)]
    return {**board, "cards": cards}


def _feed(api: httpx.Client, board: dict, **params: object) -> list[dict]:
    return ok(api.get(f"/boards/{board['id']}/actions", params=params))


def test_feed_is_newest_first_with_full_actions(api: httpx.Client, busy_board: dict) -> None:
    feed = _feed(api, busy_board)
    assert [a["type"] for a in feed[:6]] == ["createCard"] * 6
    assert [a["data"]["card"]["name"] for a in feed[:6]] == [f"c{n}" for n in range(5, -1, -1)]
    assert [a["type"] for a in feed[6:]] == ["createList"] * 3 + ["createBoard"]
    ids = [a["id"] for a in feed]
    assert ids == sorted(ids, reverse=True)
    for action in feed:
        assert re.fullmatch(r"[0-9a-f]{24}", action["id"])
        assert ISO_MS.match(action["date"])
        assert set(action) >= {
            "id", "idMemberCreator", "data", "type", "date", "limits", "display",
            "memberCreator", "appCreator",
        }  # fmt: skip
        assert action["memberCreator"]["id"] == action["idMemberCreator"]
        assert action["data"]["board"]["id"] == busy_board["id"]
    created = feed[0]
    assert created["data"]["list"] == {"id": busy_board["lists"][0]["id"], "name": "To Do"}
    # The id's first 8 hex digits are the action's time, in Unix seconds.
    assert int(created["id"][:8], 16) == int(datetime.fromisoformat(created["date"]).timestamp())


def test_filter_by_type_and_by_changed_field(api: httpx.Client, busy_board: dict) -> None:
    first, second = busy_board["cards"][:2]
    ok(api.put(f"/cards/{first['id']}", params={"idList": busy_board["lists"][1]["id"]}))
    ok(api.put(f"/cards/{second['id']}", params={"name": "renamed"}))
    ok(api.put(f"/cards/{second['id']}", params={"closed": "true"}))
    types = [a["type"] for a in _feed(api, busy_board, filter="updateCard,createList")]
    assert types == ["updateCard"] * 3 + ["createList"] * 3
    moves = _feed(api, busy_board, filter="updateCard:idList")
    assert [a["data"]["card"]["id"] for a in moves] == [first["id"]]
    archived = _feed(api, busy_board, filter="updateCard:closed")
    assert [a["data"]["card"]["id"] for a in archived] == [second["id"]]
    reply = api.get(f"/boards/{busy_board['id']}/actions", params={"filter": "update Card"})
    assert (reply.status_code, reply.text) == (400, "invalid value for filter")


def test_since_and_before_by_id(api: httpx.Client, busy_board: dict) -> None:
    feed = _feed(api, busy_board, filter="createCard")
    oldest_first = list(reversed(feed))
    pivot = oldest_first[2]["id"]
    newer = _feed(api, busy_board, filter="createCard", since=pivot)
    assert [a["id"] for a in newer] == [a["id"] for a in feed[:3]]
    older = _feed(api, busy_board, filter="createCard", before=pivot)
    assert [a["id"] for a in older] == [a["id"] for a in feed[4:]]
    assert _feed(api, busy_board, since=feed[0]["id"]) == []


def test_since_and_before_by_date(api: httpx.Client, busy_board: dict) -> None:
    feed = _feed(api, busy_board)
    newest = feed[0]["date"]
    assert _feed(api, busy_board, since=newest) == []
    assert len(_feed(api, busy_board, before="2000-01-01T00:00:00.000Z")) == 0
    assert len(_feed(api, busy_board, since="2000-01-01T00:00:00Z")) == len(feed)
    assert len(_feed(api, busy_board, before="2999-01-01")) == len(feed)
    for bad in ("yesterday", "12345"):
        reply = api.get(f"/boards/{busy_board['id']}/actions", params={"since": bad})
        assert (reply.status_code, reply.text) == (400, "invalid value for since")


def test_limit_and_page(api: httpx.Client, busy_board: dict) -> None:
    feed = _feed(api, busy_board)
    assert len(feed) == 10
    pages = [_feed(api, busy_board, limit=4, page=n) for n in range(3)]
    assert [a["id"] for page in pages for a in page] == [a["id"] for a in feed]
    assert [len(p) for p in pages] == [4, 4, 2]
    assert _feed(api, busy_board, limit=0) == []
    assert len(_feed(api, busy_board, limit=1000)) == 10
    for bad in ("1001", "-1", "many"):
        reply = api.get(f"/boards/{busy_board['id']}/actions", params={"limit": bad})
        assert (reply.status_code, reply.text) == (400, "invalid value for limit")


def test_default_limit_is_50(api: httpx.Client, board: dict, sandbox_app) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "c"}))
    world = sandbox_app.state.world
    member = world.members["5f0000000000000000000b01"]
    for n in range(55):  # made in-process: 55 HTTP round trips would only cost time
        comments.add_comment(world, member, world.find_card(card["id"]), str(n))
    feed = _feed(api, board, filter="commentCard")
    assert len(feed) == 50
    assert feed[0]["data"]["text"] == "54"
    rest = _feed(api, board, filter="commentCard", before=feed[-1]["id"])
    assert [a["data"]["text"] for a in rest] == ["4", "3", "2", "1", "0"]


def test_member_creator_and_fields_options(api: httpx.Client, busy_board: dict) -> None:
    bare = _feed(api, busy_board, limit=1, memberCreator="false", fields="type,date")
    assert set(bare[0]) == {"id", "type", "date"}
    slim = _feed(api, busy_board, limit=1, memberCreator_fields="username")
    assert slim[0]["memberCreator"] == {"id": "5f0000000000000000000b01", "username": "testuser"}


def test_list_feed(api: httpx.Client, busy_board: dict) -> None:
    todo = busy_board["lists"][0]["id"]
    feed = ok(api.get(f"/lists/{todo}/actions", params={"filter": "createCard"}))
    assert len(feed) == 6
