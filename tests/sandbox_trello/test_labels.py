"""Labels: board labels CRUD, labels on cards, and the actions Trello records for them."""

from __future__ import annotations

import httpx

from tests.sandbox_trello.conftest import ok

NOT_FOUND = "The requested resource was not found."


def _actions(api: httpx.Client, board: dict, types: str) -> list[dict]:
    return ok(api.get(f"/boards/{board['id']}/actions", params={"filter": types}))


def _card(api: httpx.Client, board: dict, name: str = "Card") -> dict:
    return ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": name}))


def test_a_new_board_has_the_six_default_labels(api: httpx.Client, board: dict) -> None:
    found = ok(api.get(f"/boards/{board['id']}/labels"))
    assert [x["color"] for x in found] == ["green", "yellow", "orange", "red", "purple", "blue"]
    assert all(x["name"] == "" and x["uses"] == 0 and len(x["id"]) == 24 for x in found)
    bare = ok(api.post("/boards", params={"name": "Bare", "defaultLabels": "false"}))
    assert ok(api.get(f"/boards/{bare['id']}/labels")) == []
    assert ok(api.get(f"/boards/{board['id']}/labels", params={"limit": 2, "fields": "name"})) == [
        {"id": found[0]["id"], "name": ""},
        {"id": found[1]["id"], "name": ""},
    ]


def test_label_create_read_update_delete(api: httpx.Client, board: dict) -> None:
    bug = ok(api.post(f"/boards/{board['id']}/labels", params={"name": "bug", "color": "red"}))
    assert {k: bug[k] for k in ("idBoard", "name", "color", "uses")} == {
        "idBoard": board["id"], "name": "bug", "color": "red", "uses": 0,
    }  # fmt: skip
    plain = ok(
        api.post("/labels", params={"name": "plain", "color": "null", "idBoard": board["id"]})
    )
    assert plain["color"] is None
    assert ok(api.get(f"/labels/{bug['id']}")) == bug
    changed = ok(api.put(f"/labels/{bug['id']}", params={"name": "defect", "color": "sky"}))
    assert (changed["name"], changed["color"]) == ("defect", "sky")
    assert ok(api.put(f"/labels/{bug['id']}/name", params={"value": "bug"}))["name"] == "bug"

    (update, _) = _actions(api, board, "updateLabel")
    assert update["data"]["label"] == {"id": bug["id"], "name": "bug", "color": "sky"}
    assert update["data"]["old"] == {"name": "defect"}
    assert update["data"]["board"]["id"] == board["id"]
    (create, _) = _actions(api, board, "createLabel")
    assert create["data"]["label"] == {"id": plain["id"], "name": "plain", "color": None}

    assert ok(api.delete(f"/labels/{bug['id']}")) == {}
    gone = api.get(f"/labels/{bug['id']}")
    assert (gone.status_code, gone.text) == (404, NOT_FOUND)
    (delete,) = _actions(api, board, "deleteLabel")
    assert delete["data"]["label"] == {"id": bug["id"]}


def test_bad_label_values_are_refused(api: httpx.Client, board: dict) -> None:
    cases = [
        (api.post(f"/boards/{board['id']}/labels", params={"name": "x", "color": "mauve"}),
         "invalid value for color"),
        (api.post(f"/boards/{board['id']}/labels", params={"color": "red"}),
         "invalid value for name"),
        (api.post("/labels", params={"name": "x", "color": "red"}), "invalid value for idBoard"),
        (api.post("/labels", params={"name": "x", "color": "red", "idBoard": "0" * 24}),
         "invalid value for idBoard"),
        (api.get("/labels/nope"), "invalid id"),
    ]  # fmt: skip
    for reply, text in cases:
        assert (reply.status_code, reply.text) == (400, text)
    missing = api.get(f"/labels/{'0' * 24}")
    assert (missing.status_code, missing.text) == (404, NOT_FOUND)


def test_labels_on_a_card(api: httpx.Client, board: dict) -> None:
    card = _card(api, board)
    green, yellow = ok(api.get(f"/boards/{board['id']}/labels"))[:2]
    assert ok(api.post(f"/cards/{card['id']}/idLabels", params={"value": green["id"]})) == [
        green["id"]
    ]
    again = api.post(f"/cards/{card['id']}/idLabels", params={"value": green["id"]})
    assert (again.status_code, again.text) == (400, "that label is already on the card")
    other = ok(api.post("/boards", params={"name": "Other"}))
    foreign = ok(api.get(f"/boards/{other['id']}/labels"))[0]
    refused = api.post(f"/cards/{card['id']}/idLabels", params={"value": foreign["id"]})
    assert (refused.status_code, refused.text) == (400, "invalid value for idLabel")

    body = ok(api.get(f"/cards/{card['id']}"))
    assert body["idLabels"] == [green["id"]]
    assert body["labels"] == [
        {"id": green["id"], "idBoard": board["id"], "name": "", "color": "green"}
    ]
    assert ok(api.get(f"/labels/{green['id']}"))["uses"] == 1

    (added,) = _actions(api, board, "addLabelToCard")
    assert added["data"]["label"] == {"id": green["id"], "name": "", "color": "green"}
    assert added["data"]["card"]["id"] == card["id"]
    assert added["data"]["board"]["id"] == board["id"]
    assert (added["data"]["text"], added["data"]["value"]) == ("", "green")

    assert ok(api.delete(f"/cards/{card['id']}/idLabels/{green['id']}")) == {}
    not_on = api.delete(f"/cards/{card['id']}/idLabels/{green['id']}")
    assert (not_on.status_code, not_on.text) == (400, "invalid value for idLabel")
    (removed,) = _actions(api, board, "removeLabelFromCard")
    assert removed["data"]["label"]["id"] == green["id"]

    # PUT /cards/{id} with idLabels: each label added or removed is its own action.
    put = ok(api.put(f"/cards/{card['id']}", params={"idLabels": f"{green['id']},{yellow['id']}"}))
    assert put["idLabels"] == [green["id"], yellow["id"]]
    ok(api.put(f"/cards/{card['id']}", params={"idLabels": yellow["id"]}))
    assert len(_actions(api, board, "addLabelToCard")) == 3
    assert len(_actions(api, board, "removeLabelFromCard")) == 2
    bad = api.put(f"/cards/{card['id']}", params={"idLabels": foreign["id"]})
    assert (bad.status_code, bad.text) == (400, "invalid value for idLabel")

    # Deleting a label takes it off the cards.
    ok(api.delete(f"/labels/{yellow['id']}"))
    assert ok(api.get(f"/cards/{card['id']}"))["idLabels"] == []


def test_a_card_created_with_labels(api: httpx.Client, board: dict) -> None:
    red = ok(api.get(f"/boards/{board['id']}/labels"))[3]
    card = ok(
        api.post(
            "/cards",
            params={"idList": board["lists"][0]["id"], "name": "L", "idLabels": red["id"]},
        )
    )
    assert card["idLabels"] == [red["id"]] and card["labels"][0]["color"] == "red"
    bad = api.post("/cards", params={"idList": board["lists"][0]["id"], "idLabels": "0" * 24})
    assert (bad.status_code, bad.text) == (400, "invalid value for idLabels")
    made = ok(api.post(f"/cards/{card['id']}/labels", params={"name": "new", "color": "lime"}))
    assert len(made) == 2
    assert ok(api.get(f"/labels/{made[1]}"))["name"] == "new"
