"""Boards: create with default lists, change with recorded old values, delete, nested reads."""

from __future__ import annotations

import re

import httpx

from tests.sandbox_trello.conftest import ok


def test_create_board_with_defaults(api: httpx.Client) -> None:
    board = ok(api.post("/boards/", params={"name": "Roadmap", "desc": "Q3"}))
    assert board["name"] == "Roadmap"
    assert board["desc"] == "Q3"
    assert board["closed"] is False
    assert board["idOrganization"] is None
    assert board["prefs"]["permissionLevel"] == "private"
    assert re.fullmatch(r"[0-9A-Za-z]{8}", board["shortLink"])
    assert board["url"] == f"https://trello.com/b/{board['shortLink']}/roadmap"
    assert board["shortUrl"] == f"https://trello.com/b/{board['shortLink']}"
    assert set(board["labelNames"]) >= {"green", "yellow", "orange", "red", "purple", "blue"}
    lists = ok(api.get(f"/boards/{board['id']}/lists"))
    assert [lst["name"] for lst in lists] == ["To Do", "Doing", "Done"]
    assert [lst["pos"] for lst in lists] == [16384, 32768, 49152]


def test_create_board_without_default_lists_in_a_workspace(api: httpx.Client) -> None:
    org = ok(api.post("/organizations", params={"displayName": "Team"}))
    board = ok(
        api.post(
            "/boards",
            json={
                "name": "Bare",
                "idOrganization": org["id"],
                "defaultLists": False,
                "prefs_permissionLevel": "org",
            },
        )
    )
    assert board["idOrganization"] == org["id"]
    assert board["prefs"]["permissionLevel"] == "org"
    assert ok(api.get(f"/boards/{board['id']}/lists")) == []


def test_create_board_checks_its_values(api: httpx.Client) -> None:
    for params, param in [
        ({"name": ""}, "name"),
        ({"name": "x" * 16385}, "name"),
        ({"name": "ok", "desc": "x" * 16385}, "desc"),
        ({"name": "ok", "idOrganization": "5f0000000000000000000000"}, "idOrganization"),
        ({"name": "ok", "prefs_permissionLevel": "secret"}, "prefs_permissionLevel"),
        ({"name": "ok", "defaultLists": "perhaps"}, "defaultLists"),
    ]:
        reply = api.post("/boards", params=params)
        assert (reply.status_code, reply.text) == (400, f"invalid value for {param}"), params
    assert ok(api.post("/boards", params={"name": "x" * 16384}))["name"] == "x" * 16384


def test_get_board_by_id_or_short_link_with_fields(api: httpx.Client, board: dict) -> None:
    by_id = ok(api.get(f"/boards/{board['id']}"))
    assert set(by_id) == {
        "id", "name", "desc", "descData", "closed", "idOrganization", "pinned", "url",
        "shortUrl", "prefs", "labelNames",
    }  # fmt: skip
    assert ok(api.get(f"/boards/{board['shortLink']}")) == by_id
    assert ok(api.get(f"/boards/{board['id']}", params={"fields": "name,shortLink"})) == {
        "id": board["id"],
        "name": "Project X",
        "shortLink": board["shortLink"],
    }
    assert ok(api.get(f"/boards/{board['id']}/name")) == {"id": board["id"], "name": "Project X"}


def test_get_board_with_nested_lists_and_cards(api: httpx.Client, board: dict) -> None:
    todo = board["lists"][0]["id"]
    card = ok(api.post("/cards", params={"idList": todo, "name": "nested"}))
    nested = ok(
        api.get(
            f"/boards/{board['id']}",
            params={"lists": "open", "cards": "open", "card_fields": "name", "fields": "name"},
        )
    )
    assert [lst["name"] for lst in nested["lists"]] == ["To Do", "Doing", "Done"]
    assert nested["cards"] == [{"id": card["id"], "name": "nested"}]


def test_update_board_records_old_values(api: httpx.Client, board: dict, sandbox_app) -> None:
    updated = ok(api.put(f"/boards/{board['id']}", data={"name": "Project Y", "desc": "new"}))
    assert (updated["name"], updated["desc"]) == ("Project Y", "new")
    closed = ok(api.put(f"/boards/{board['id']}", params={"closed": "true"}))
    assert closed["closed"] is True
    actions = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "updateBoard"}))
    assert [a["data"]["old"] for a in actions] == [
        {"closed": False},
        {"name": "Project X", "desc": ""},
    ]
    assert actions[1]["data"]["board"]["name"] == "Project Y"
    assert actions[0]["data"]["board"]["closed"] is True
    assert actions[0]["data"]["organization"]["id"] == board["organization"]["id"]
    ok(api.put(f"/boards/{board['id']}", params={"name": "Project Y"}))  # no change, no action
    again = ok(api.get(f"/boards/{board['id']}/actions", params={"filter": "updateBoard"}))
    assert len(again) == 2


def test_move_board_out_of_its_workspace(api: httpx.Client, board: dict) -> None:
    moved = ok(api.put(f"/boards/{board['id']}", params={"idOrganization": "null"}))
    assert moved["idOrganization"] is None
    org = ok(api.get(f"/organizations/{board['organization']['id']}"))
    assert org["idBoards"] == []
    reply = api.put(f"/boards/{board['id']}", params={"idOrganization": "5f0000000000000000000000"})
    assert (reply.status_code, reply.text) == (400, "invalid value for idOrganization")


def test_delete_board(api: httpx.Client, board: dict) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "c"}))
    assert ok(api.delete(f"/boards/{board['id']}")) == {}
    for path in (
        f"/boards/{board['id']}",
        f"/cards/{card['id']}",
        f"/lists/{board['lists'][0]['id']}",
    ):
        reply = api.get(path)
        assert (reply.status_code, reply.text) == (404, "The requested resource was not found.")


def test_board_lists_filters_and_creating_lists(api: httpx.Client, board: dict) -> None:
    first = ok(api.post(f"/boards/{board['id']}/lists", params={"name": "Backlog"}))
    # POST /boards/{id}/lists defaults to the top (the spec's default).
    assert first["pos"] < 16384
    last = ok(api.post(f"/boards/{board['id']}/lists", params={"name": "Later", "pos": "bottom"}))
    assert last["pos"] == 49152 + 16384
    ok(api.put(f"/lists/{board['lists'][1]['id']}/closed", params={"value": "true"}))
    names = [lst["name"] for lst in ok(api.get(f"/boards/{board['id']}/lists"))]
    assert names == ["Backlog", "To Do", "Done", "Later"]
    closed = ok(api.get(f"/boards/{board['id']}/lists", params={"filter": "closed"}))
    assert [lst["name"] for lst in closed] == ["Doing"]
    assert len(ok(api.get(f"/boards/{board['id']}/lists", params={"filter": "all"}))) == 5
    assert ok(api.get(f"/boards/{board['id']}/lists", params={"filter": "none"})) == []
    with_cards = ok(api.get(f"/boards/{board['id']}/lists", params={"cards": "open"}))
    assert all(lst["cards"] == [] for lst in with_cards)


def test_board_cards_filters(api: httpx.Client, board: dict) -> None:
    todo, doing = board["lists"][0]["id"], board["lists"][1]["id"]
    a = ok(api.post("/cards", params={"idList": todo, "name": "a"}))
    b = ok(api.post("/cards", params={"idList": doing, "name": "b"}))
    c = ok(api.post("/cards", params={"idList": todo, "name": "c", "closed": "true"}))
    ok(api.put(f"/lists/{doing}", params={"closed": "true"}))

    def ids(path: str, **params: str) -> list[str]:
        return [card["id"] for card in ok(api.get(path, params=params))]

    base = f"/boards/{board['id']}/cards"
    assert ids(base) == [a["id"]]  # visible: open cards on open lists
    assert ids(base + "/open") == [a["id"], b["id"]]
    assert ids(base + "/closed") == [c["id"]]
    assert sorted(ids(base + "/all")) == sorted([a["id"], b["id"], c["id"]])
    assert ids(base + "/none") == []
    assert ids(base, filter="all", fields="name") and ok(
        api.get(base, params={"filter": "open", "fields": "name"})
    ) == [{"id": a["id"], "name": "a"}, {"id": b["id"], "name": "b"}]
    reply = api.get(base + "/weird")
    assert reply.status_code == 404
