"""Lists: create, rename, archive, reposition (whole and per field), move; no delete."""

from __future__ import annotations

import httpx

from tests.sandbox_trello.conftest import ok


def test_create_list_at_the_bottom_by_default(api: httpx.Client, board: dict) -> None:
    lst = ok(api.post("/lists", data={"name": "Review", "idBoard": board["id"]}))
    assert (lst["name"], lst["idBoard"], lst["closed"], lst["pos"]) == (
        "Review",
        board["id"],
        False,
        49152 + 16384,
    )
    assert ok(api.get(f"/lists/{lst['id']}")) == {
        "id": lst["id"],
        "name": "Review",
        "closed": False,
        "idBoard": board["id"],
        "pos": 49152 + 16384,
    }
    top = ok(api.post("/lists", params={"name": "First", "idBoard": board["id"], "pos": "top"}))
    assert top["pos"] == 8192


def test_create_list_checks_its_values(api: httpx.Client, board: dict) -> None:
    for params, param in [
        ({"idBoard": board["id"]}, "name"),
        ({"name": "", "idBoard": board["id"]}, "name"),
        ({"name": "x"}, "idBoard"),
        ({"name": "x", "idBoard": "5f0000000000000000000000"}, "idBoard"),
        ({"name": "x", "idBoard": board["id"], "pos": "side"}, "pos"),
    ]:
        reply = api.post("/lists", params=params)
        assert (reply.status_code, reply.text) == (400, f"invalid value for {param}"), params


def test_update_list_and_its_actions(api: httpx.Client, board: dict) -> None:
    todo = board["lists"][0]
    renamed = ok(api.put(f"/lists/{todo['id']}", json={"name": "Backlog", "closed": True}))
    assert (renamed["name"], renamed["closed"]) == ("Backlog", True)
    action = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "updateList"}))[0]
    assert action["data"]["old"] == {"name": "To Do", "closed": False}
    assert action["data"]["list"] == {"id": todo["id"], "name": "Backlog", "closed": True}
    assert action["data"]["board"]["id"] == board["id"]


def test_per_field_updates(api: httpx.Client, board: dict) -> None:
    doing = board["lists"][1]["id"]
    assert ok(api.put(f"/lists/{doing}/name", params={"value": "In progress"}))["name"] == (
        "In progress"
    )
    assert ok(api.put(f"/lists/{doing}/closed", data={"value": "true"}))["closed"] is True
    assert ok(api.put(f"/lists/{doing}/pos", json={"value": 100}))["pos"] == 100
    reply = api.put(f"/lists/{doing}/name", params={"value": ""})
    assert (reply.status_code, reply.text) == (400, "invalid value for name")
    reply = api.put(f"/lists/{doing}/name")
    assert (reply.status_code, reply.text) == (400, "invalid value for value")


def test_midpoint_positions_and_renumbering(api: httpx.Client, board: dict) -> None:
    todo, doing, done = (lst["id"] for lst in board["lists"])
    ok(api.put(f"/lists/{done}", params={"pos": (16384 + 32768) / 2}))
    order = [lst["id"] for lst in ok(api.get(f"/boards/{board['id']}/lists"))]
    assert order == [todo, done, doing]
    # Landing exactly on a sibling makes Trello renumber the siblings; order is kept.
    ok(api.put(f"/lists/{doing}", params={"pos": 16384}))
    lists = ok(api.get(f"/boards/{board['id']}/lists"))
    assert [lst["id"] for lst in lists] == [doing, todo, done]
    positions = [lst["pos"] for lst in lists]
    assert positions == sorted(set(positions))


def test_lists_have_no_delete(api: httpx.Client, board: dict) -> None:
    reply = api.delete(f"/lists/{board['lists'][0]['id']}")
    assert (reply.status_code, reply.text) == (404, "The requested resource was not found.")
    assert ok(api.get(f"/lists/{board['lists'][0]['id']}"))["closed"] is False


def test_list_cards_in_position_order(api: httpx.Client, board: dict) -> None:
    todo = board["lists"][0]["id"]
    first = ok(api.post("/cards", params={"idList": todo, "name": "1"}))
    second = ok(api.post("/cards", params={"idList": todo, "name": "2"}))
    top = ok(api.post("/cards", params={"idList": todo, "name": "0", "pos": "top"}))
    archived = ok(api.post("/cards", params={"idList": todo, "name": "x", "closed": "true"}))
    cards = ok(api.get(f"/lists/{todo}/cards", params={"fields": "name"}))
    assert [c["id"] for c in cards] == [top["id"], first["id"], second["id"]]
    closed = ok(api.get(f"/lists/{todo}/cards", params={"filter": "closed"}))
    assert [c["id"] for c in closed] == [archived["id"]]
    assert ok(api.get(f"/lists/{todo}/board", params={"fields": "name"}))["name"] == "Project X"


def test_move_list_to_another_board_takes_its_cards(api: httpx.Client, board: dict) -> None:
    other = ok(api.post("/boards", params={"name": "Other", "defaultLists": "false"}))
    todo = board["lists"][0]["id"]
    card = ok(api.post("/cards", params={"idList": todo, "name": "travels"}))
    moved = ok(api.put(f"/lists/{todo}/idBoard", params={"value": other["id"]}))
    assert moved["idBoard"] == other["id"]
    assert ok(api.get(f"/cards/{card['id']}"))["idBoard"] == other["id"]
    types = [a["type"] for a in ok(api.get(f"/boards/{other['id']}/actions"))]
    assert types[0] == "moveListToBoard"
    source = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "moveListFromBoard"}))
    assert source[0]["data"]["boardTarget"] == {"id": other["id"]}
