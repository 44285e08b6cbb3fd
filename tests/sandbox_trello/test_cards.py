"""Cards: fields, positions, dates, moves between lists and boards, per-field routes, delete."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.sandbox_trello.conftest import ok

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _card(api: httpx.Client, id_list: str, **params: object) -> dict:
    return ok(api.post("/cards", params={"idList": id_list, **params}))


def test_new_card_has_trello_shape(api: httpx.Client, board: dict) -> None:
    todo = board["lists"][0]["id"]
    card = _card(api, todo, name="Ship it!", desc="now")
    assert card["idBoard"] == board["id"] and card["idList"] == todo
    assert (card["name"], card["desc"], card["closed"], card["dueComplete"]) == (
        "Ship it!",
        "now",
        False,
        False,
    )
    assert card["idShort"] == 1
    assert re.fullmatch(r"[0-9A-Za-z]{8}", card["shortLink"])
    assert card["url"] == f"https://trello.com/c/{card['shortLink']}/1-ship-it"
    assert card["shortUrl"] == f"https://trello.com/c/{card['shortLink']}"
    assert card["badges"]["comments"] == 0 and card["badges"]["description"] is True
    assert card["due"] is None and card["start"] is None
    assert ISO_MS.match(card["dateLastActivity"])
    assert card["labels"] == [] and card["idMembers"] == []
    assert _card(api, todo, name="second")["idShort"] == 2
    assert ok(api.get(f"/cards/{card['shortLink']}"))["id"] == card["id"]


def test_ids_embed_their_creation_time(api: httpx.Client, board: dict) -> None:
    before = int(time.time())
    card = _card(api, board["lists"][0]["id"], name="t")
    after = int(time.time())
    assert re.fullmatch(r"[0-9a-f]{24}", card["id"])
    assert before <= int(card["id"][:8], 16) <= after
    ids = [_card(api, board["lists"][0]["id"], name=str(n))["id"] for n in range(5)]
    assert ids == sorted(ids), "ids made in the same second still sort by creation"


def test_positions_bottom_top_and_midpoints(api: httpx.Client, board: dict) -> None:
    todo = board["lists"][0]["id"]
    a = _card(api, todo, name="a")
    b = _card(api, todo, name="b")
    assert (a["pos"], b["pos"]) == (16384, 32768)
    top = _card(api, todo, name="top", pos="top")
    assert top["pos"] == 8192
    middle = _card(api, todo, name="middle", pos=(a["pos"] + b["pos"]) / 2)
    assert middle["pos"] == 24576
    assert _card(api, todo, name="exact", pos="1234.5")["pos"] == 1234.5
    names = [c["name"] for c in ok(api.get(f"/lists/{todo}/cards"))]
    assert names == ["exact", "top", "a", "middle", "b"]


def test_due_and_start_dates(api: httpx.Client, board: dict) -> None:
    todo = board["lists"][0]["id"]
    card = _card(api, todo, name="d", due="2024-05-01T10:00:00+02:00", start="2024-04-30")
    assert card["due"] == "2024-05-01T08:00:00.000Z"
    assert card["start"] == "2024-04-30T00:00:00.000Z"
    assert card["badges"]["due"] == card["due"]
    changed = ok(api.put(f"/cards/{card['id']}", json={"due": "2024-06-01T12:30:45.678Z"}))
    assert changed["due"] == "2024-06-01T12:30:45.678Z"
    cleared = ok(api.put(f"/cards/{card['id']}", params={"due": "null", "start": "null"}))
    assert (cleared["due"], cleared["start"]) == (None, None)
    done = ok(api.put(f"/cards/{card['id']}", json={"due": None, "dueComplete": True}))
    assert done["dueComplete"] is True


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"name": "x" * 16385}, "name"),
        ({"desc": "x" * 16385}, "desc"),
        ({"name": ""}, "name"),
        ({"start": "yesterday"}, "start"),
        ({"closed": "yes"}, "closed"),
        ({"idList": "5f0000000000000000000000"}, "idList"),
        ({"idBoard": "5f0000000000000000000000"}, "idBoard"),
        ({"idMembers": "nope"}, "idMembers"),
        ({"pos": "nan"}, "pos"),
    ],
)
def test_update_rejects_bad_values(
    api: httpx.Client, board: dict, params: dict, param: str
) -> None:
    card = _card(api, board["lists"][0]["id"], name="c")
    reply = api.put(f"/cards/{card['id']}", params=params)
    assert (reply.status_code, reply.text) == (400, f"invalid value for {param}")
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"


def test_length_limits_are_inclusive(api: httpx.Client, board: dict) -> None:
    card = _card(api, board["lists"][0]["id"], name="n" * 16384, desc="d" * 16384)
    assert (len(card["name"]), len(card["desc"])) == (16384, 16384)
    assert ok(api.put(f"/cards/{card['id']}", params={"desc": ""}))["desc"] == ""


def test_update_records_new_and_old_values(api: httpx.Client, board: dict) -> None:
    card = _card(api, board["lists"][0]["id"], name="old name")
    activity = card["dateLastActivity"]
    time.sleep(0.002)
    updated = ok(api.put(f"/cards/{card['id']}", data={"name": "new name", "desc": "text"}))
    assert updated["dateLastActivity"] > activity
    action = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "updateCard"}))[0]
    assert action["data"]["card"]["name"] == "new name"
    assert action["data"]["card"]["desc"] == "text"
    assert action["data"]["old"] == {"name": "old name", "desc": ""}
    assert action["data"]["list"] == {"id": board["lists"][0]["id"], "name": "To Do"}
    assert action["data"]["board"]["id"] == board["id"]


def test_archive_and_unarchive(api: httpx.Client, board: dict) -> None:
    card = _card(api, board["lists"][0]["id"], name="c")
    assert ok(api.put(f"/cards/{card['id']}/closed", params={"value": "true"}))["closed"] is True
    assert ok(api.get(f"/cards/{card['id']}"))["closed"] is True
    action = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "updateCard:closed"}))
    assert action[0]["data"]["old"] == {"closed": False}
    assert action[0]["data"]["card"]["closed"] is True


def test_move_between_lists(api: httpx.Client, board: dict) -> None:
    todo, doing = board["lists"][0], board["lists"][1]
    card = _card(api, todo["id"], name="mover")
    moved = ok(api.put(f"/cards/{card['id']}", json={"idList": doing["id"], "pos": "top"}))
    assert moved["idList"] == doing["id"]
    assert moved["idShort"] == card["idShort"]
    action = ok(api.get(f"/cards/{card['id']}/actions"))[0]  # default filter has the move
    assert action["type"] == "updateCard"
    assert action["data"]["listBefore"] == {"id": todo["id"], "name": "To Do"}
    assert action["data"]["listAfter"] == {"id": doing["id"], "name": "Doing"}
    assert action["data"]["old"]["idList"] == todo["id"]
    assert action["data"]["card"]["idList"] == doing["id"]


def test_move_to_another_board(api: httpx.Client, board: dict) -> None:
    other = ok(api.post("/boards", params={"name": "Other"}))
    other_lists = ok(api.get(f"/boards/{other['id']}/lists"))
    _card(api, other_lists[0]["id"], name="already there")
    card = _card(api, board["lists"][0]["id"], name="traveller")
    moved = ok(api.put(f"/cards/{card['id']}", params={"idBoard": other["id"]}))
    # Without idList the card lands in the first open list; it gets the next idShort there.
    assert (moved["idBoard"], moved["idList"], moved["idShort"]) == (
        other["id"],
        other_lists[0]["id"],
        2,
    )
    to = ok(api.get(f"/boards/{other['id']}/actions", params={"filter": "moveCardToBoard"}))
    assert to[0]["data"]["boardSource"] == {"id": board["id"]}
    assert to[0]["data"]["card"]["id"] == card["id"]
    came_from = ok(
        api.get(f"/boards/{board['id']}/actions", params={"filter": "moveCardFromBoard"})
    )
    assert came_from[0]["data"]["boardTarget"] == {"id": other["id"]}
    assert came_from[0]["data"]["list"]["id"] == board["lists"][0]["id"]
    back = ok(
        api.put(f"/cards/{card['id']}", params={"idList": board["lists"][2]["id"], "name": "home"})
    )
    assert (back["idBoard"], back["idList"], back["name"]) == (
        board["id"],
        board["lists"][2]["id"],
        "home",
    )
    mismatch = api.put(
        f"/cards/{card['id']}", params={"idBoard": other["id"], "idList": board["lists"][0]["id"]}
    )
    assert (mismatch.status_code, mismatch.text) == (400, "invalid value for idList")


def test_per_field_get_and_put(api: httpx.Client, board: dict) -> None:
    card = _card(api, board["lists"][0]["id"], name="field")
    assert ok(api.get(f"/cards/{card['id']}/name")) == {"id": card["id"], "name": "field"}
    assert ok(api.get(f"/cards/{card['id']}/due")) == {"id": card["id"], "due": None}
    ok(api.put(f"/cards/{card['id']}/desc", data={"value": "per field"}))
    ok(api.put(f"/cards/{card['id']}/due", params={"value": "2030-01-02T03:04:05Z"}))
    ok(api.put(f"/cards/{card['id']}/idList", params={"value": board["lists"][1]["id"]}))
    got = ok(api.get(f"/cards/{card['id']}", params={"fields": "desc,due,idList"}))
    assert got == {
        "id": card["id"],
        "desc": "per field",
        "due": "2030-01-02T03:04:05.000Z",
        "idList": board["lists"][1]["id"],
    }
    ok(api.put(f"/cards/{card['id']}/due", params={"value": "null"}))
    assert ok(api.get(f"/cards/{card['id']}/due")) == {"id": card["id"], "due": None}
    assert api.get(f"/cards/{card['id']}/nonsense").status_code == 404
    assert ok(api.get(f"/cards/{card['id']}/board", params={"fields": "name"}))["name"] == (
        "Project X"
    )
    assert ok(api.get(f"/cards/{card['id']}/list"))["name"] == "Doing"


def test_delete_card(api: httpx.Client, board: dict) -> None:
    card = _card(api, board["lists"][0]["id"], name="doomed")
    assert ok(api.delete(f"/cards/{card['id']}")) == {"limits": {}}
    for path in (f"/cards/{card['id']}", f"/cards/{card['shortLink']}"):
        reply = api.get(path)
        assert (reply.status_code, reply.text) == (404, "The requested resource was not found.")
    assert api.put(f"/cards/{card['id']}", params={"name": "x"}).status_code == 404
    action = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "deleteCard"}))[0]
    assert action["data"]["card"] == {"id": card["id"], "idShort": card["idShort"]}
    assert action["data"]["list"]["id"] == board["lists"][0]["id"]


def test_nested_board_and_list_on_get(api: httpx.Client, board: dict) -> None:
    card = _card(api, board["lists"][0]["id"], name="c")
    got = ok(
        api.get(
            f"/cards/{card['id']}",
            params={"fields": "name", "board": "true", "board_fields": "name", "list": "true"},
        )
    )
    assert got["board"] == {"id": board["id"], "name": "Project X"}
    assert got["list"]["name"] == "To Do"


def test_members_on_cards(api: httpx.Client, board: dict) -> None:
    card = _card(api, board["lists"][0]["id"], name="c", idMembers="5f0000000000000000000b01")
    assert card["idMembers"] == ["5f0000000000000000000b01"]
    assert ok(api.put(f"/cards/{card['id']}", params={"idMembers": ""}))["idMembers"] == []
    reply = api.put(f"/cards/{card['id']}", params={"idMembers": "5f0000000000000000000bff"})
    assert (reply.status_code, reply.text) == (400, "invalid value for idMembers")
