"""The hooks webhooks use: action listeners, ``model_json``, ``model_ids_of_action``."""

from __future__ import annotations

import httpx

from tests.sandbox_trello.conftest import ok


def test_listener_gets_each_action_as_get_action_answers_it(
    api: httpx.Client, board: dict, sandbox_app
) -> None:
    seen: list[dict] = []
    sandbox_app.state.world.add_action_listener(seen.append)
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "watched"}))
    ok(api.put(f"/cards/{card['id']}", params={"name": "watched twice"}))
    assert [a["type"] for a in seen] == ["createCard", "updateCard"]
    for action in seen:
        assert action == ok(api.get(f"/actions/{action['id']}"))
        assert action["memberCreator"]["username"] == "testuser"


def test_a_failing_listener_does_not_fail_the_request(
    api: httpx.Client, board: dict, sandbox_app
) -> None:
    def broken(action: dict) -> None:
        raise RuntimeError("listener bug")

    seen: list[dict] = []
    sandbox_app.state.world.add_action_listener(broken)
    sandbox_app.state.world.add_action_listener(seen.append)
    ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "still fine"}))
    assert [a["type"] for a in seen] == ["createCard"]


def test_listener_sees_a_snapshot_not_later_edits(
    api: httpx.Client, board: dict, sandbox_app
) -> None:
    seen: list[dict] = []
    sandbox_app.state.world.add_action_listener(seen.append)
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "c"}))
    ok(api.post(f"/cards/{card['id']}/actions/comments", params={"text": "before"}))
    ok(api.put(f"/actions/{seen[-1]['id']}", params={"text": "after"}))
    assert seen[1]["data"]["text"] == "before"


def test_model_json_matches_get(api: httpx.Client, board: dict, sandbox_app) -> None:
    world = sandbox_app.state.world
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "m"}))
    assert world.model_json(board["id"]) == ok(api.get(f"/boards/{board['id']}"))
    assert world.model_json(card["id"]) == ok(api.get(f"/cards/{card['id']}"))
    org_id = board["organization"]["id"]
    assert world.model_json(org_id) == ok(api.get(f"/organizations/{org_id}"))
    member = world.model_json("5f0000000000000000000b01")
    assert member == ok(api.get("/members/me"))
    assert world.model_json(board["lists"][0]["id"])["name"] == "To Do"
    assert world.model_json("5f0000000000000000000000") is None


def test_model_ids_of_action_cover_every_involved_model(
    api: httpx.Client, board: dict, sandbox_app
) -> None:
    world = sandbox_app.state.world
    seen: list[dict] = []
    world.add_action_listener(seen.append)
    todo, doing = board["lists"][0]["id"], board["lists"][1]["id"]
    card = ok(api.post("/cards", params={"idList": todo, "name": "routed"}))
    ok(api.put(f"/cards/{card['id']}", params={"idList": doing}))
    other = ok(api.post("/boards", params={"name": "Other"}))
    ok(api.put(f"/cards/{card['id']}", params={"idBoard": other["id"]}))
    member = "5f0000000000000000000b01"
    org = board["organization"]["id"]
    create, move = seen[0], seen[1]
    assert set(world.model_ids_of_action(create)) == {board["id"], todo, card["id"], org, member}
    assert set(world.model_ids_of_action(move)) == {
        board["id"], todo, doing, card["id"], org, member,
    }  # fmt: skip
    from_board = next(a for a in seen if a["type"] == "moveCardFromBoard")
    assert {board["id"], other["id"], card["id"]} <= set(world.model_ids_of_action(from_board))
