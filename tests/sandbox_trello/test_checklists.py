"""Checklists and check items: CRUD on cards and boards, state, position, rename, and the
actions Trello records for them."""

from __future__ import annotations

import httpx

from tests.sandbox_trello.conftest import ok

NOT_FOUND = "The requested resource was not found."


def _card(api: httpx.Client, board: dict) -> dict:
    return ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "C"}))


def _actions(api: httpx.Client, board: dict, types: str) -> list[dict]:
    return ok(api.get(f"/boards/{board['id']}/actions", params={"filter": types}))


def test_checklist_create_read_update_delete(api: httpx.Client, board: dict) -> None:
    card = _card(api, board)
    first = ok(api.post(f"/cards/{card['id']}/checklists", params={"name": "Checklist"}))
    assert {k: first[k] for k in ("name", "idBoard", "idCard", "pos", "checkItems")} == {
        "name": "Checklist", "idBoard": board["id"], "idCard": card["id"], "pos": 16384,
        "checkItems": [],
    }  # fmt: skip
    second = ok(api.post("/checklists", params={"idCard": card["id"], "name": "Second"}))
    assert second["pos"] == 32768
    assert [c["id"] for c in ok(api.get(f"/cards/{card['id']}/checklists"))] == [
        first["id"], second["id"],
    ]  # fmt: skip
    assert ok(api.get(f"/cards/{card['id']}"))["idChecklists"] == [first["id"], second["id"]]
    assert len(ok(api.get(f"/boards/{board['id']}/checklists"))) == 2
    assert ok(api.get(f"/checklists/{first['id']}")) == first

    renamed = ok(api.put(f"/checklists/{first['id']}", params={"name": "Tasks", "pos": "bottom"}))
    assert renamed["name"] == "Tasks" and renamed["pos"] > second["pos"]
    (update,) = _actions(api, board, "updateChecklist")
    assert update["data"]["old"]["name"] == "Checklist"
    assert update["data"]["checklist"]["name"] == "Tasks"
    assert update["data"]["card"]["id"] == card["id"]
    assert ok(api.put(f"/checklists/{first['id']}/name", params={"value": "T"}))["name"] == "T"

    added = _actions(api, board, "addChecklistToCard")
    assert [a["data"]["checklist"]["id"] for a in added] == [second["id"], first["id"]]
    assert ok(api.delete(f"/checklists/{second['id']}")) == {}
    assert ok(api.delete(f"/cards/{card['id']}/checklists/{first['id']}")) == {}
    removed = _actions(api, board, "removeChecklistFromCard")
    assert [a["data"]["checklist"]["id"] for a in removed] == [first["id"], second["id"]]
    gone = api.get(f"/checklists/{first['id']}")
    assert (gone.status_code, gone.text) == (404, NOT_FOUND)
    assert ok(api.get(f"/cards/{card['id']}/checklists")) == []


def test_bad_checklist_requests_are_refused(api: httpx.Client, board: dict) -> None:
    card = _card(api, board)
    cases = [
        (api.post("/checklists", params={"name": "x"}), 400, "invalid value for idCard"),
        (api.post("/checklists", params={"idCard": "0" * 24}), 400, "invalid value for idCard"),
        (api.get("/checklists/bad"), 400, "invalid id"),
        (api.get(f"/checklists/{'0' * 24}"), 404, NOT_FOUND),
        (api.put(f"/cards/{card['id']}/checkItem/{'0' * 24}", params={"state": "complete"}),
         404, NOT_FOUND),
    ]  # fmt: skip
    for reply, status, text in cases:
        assert (reply.status_code, reply.text) == (status, text)
    checklist = ok(api.post(f"/cards/{card['id']}/checklists", params={"name": "L"}))
    no_name = api.post(f"/checklists/{checklist['id']}/checkItems")
    assert (no_name.status_code, no_name.text) == (400, "invalid value for name")
    item = ok(api.post(f"/checklists/{checklist['id']}/checkItems", params={"name": "a"}))
    bad_state = api.put(f"/cards/{card['id']}/checkItem/{item['id']}", params={"state": "done"})
    assert (bad_state.status_code, bad_state.text) == (400, "invalid value for state")


def test_check_items_tick_move_rename_delete(api: httpx.Client, board: dict) -> None:
    card = _card(api, board)
    checklist = ok(api.post(f"/cards/{card['id']}/checklists", params={"name": "Checklist"}))
    base = f"/checklists/{checklist['id']}/checkItems"
    one = ok(api.post(base, params={"name": "one"}))
    two = ok(api.post(base, params={"name": "two", "checked": "true"}))
    assert (one["state"], two["state"]) == ("incomplete", "complete")
    assert one["idChecklist"] == checklist["id"] and two["pos"] > one["pos"]
    assert [i["name"] for i in ok(api.get(base))] == ["one", "two"]
    assert ok(api.get(f"{base}/{one['id']}")) == one

    body = ok(api.get(f"/cards/{card['id']}"))
    assert (body["badges"]["checkItems"], body["badges"]["checkItemsChecked"]) == (2, 1)
    assert body["checkItemStates"] == [{"idCheckItem": two["id"], "state": "complete"}]
    assert ok(api.get(f"/cards/{card['id']}/checkItemStates")) == body["checkItemStates"]

    ticked = ok(api.put(f"/cards/{card['id']}/checkItem/{one['id']}", params={"state": "complete"}))
    assert ticked["state"] == "complete"
    (state,) = _actions(api, board, "updateCheckItemStateOnCard")
    assert state["data"]["checkItem"]["id"] == one["id"]
    assert state["data"]["checkItem"]["state"] == "complete"
    assert state["data"]["checklist"] == {"id": checklist["id"], "name": "Checklist"}
    assert state["data"]["card"]["id"] == card["id"]

    moved = ok(
        api.put(f"/cards/{card['id']}/checkItem/{two['id']}", params={"pos": "top", "name": "zwei"})
    )
    assert moved["name"] == "zwei" and moved["pos"] < one["pos"]
    assert [i["name"] for i in ok(api.get(base))] == ["zwei", "one"]
    # updateCheckItem reaches webhooks and GET /actions/{id} only (TRELLO_API.md §7).
    assert _actions(api, board, "updateCheckItem") == []

    assert ok(api.delete(f"{base}/{one['id']}")) == {}
    assert [i["name"] for i in ok(api.get(base))] == ["zwei"]
    (deleted,) = _actions(api, board, "deleteCheckItem")
    assert deleted["data"]["checkItem"]["id"] == one["id"]
    created = _actions(api, board, "createCheckItem")
    assert [a["data"]["checkItem"]["name"] for a in created] == ["two", "one"]


def test_a_checklist_copied_from_another(api: httpx.Client, board: dict) -> None:
    card = _card(api, board)
    source = ok(api.post(f"/cards/{card['id']}/checklists", params={"name": "Template"}))
    ok(api.post(f"/checklists/{source['id']}/checkItems", params={"name": "step"}))
    copy = ok(
        api.post("/checklists", params={"idCard": card["id"], "idChecklistSource": source["id"]})
    )
    assert copy["name"] == "Template"
    assert [i["name"] for i in copy["checkItems"]] == ["step"]
    assert copy["checkItems"][0]["idChecklist"] == copy["id"]


def test_deleting_a_card_deletes_its_checklists(api: httpx.Client, board: dict) -> None:
    card = _card(api, board)
    checklist = ok(api.post(f"/cards/{card['id']}/checklists", params={"name": "L"}))
    ok(api.delete(f"/cards/{card['id']}"))
    assert api.get(f"/checklists/{checklist['id']}").status_code == 404


def test_a_card_moved_to_another_board_keeps_its_checklists_not_its_labels(
    api: httpx.Client, board: dict
) -> None:
    card = _card(api, board)
    checklist = ok(api.post(f"/cards/{card['id']}/checklists", params={"name": "L"}))
    label = ok(api.get(f"/boards/{board['id']}/labels"))[0]
    ok(api.post(f"/cards/{card['id']}/idLabels", params={"value": label["id"]}))
    other = ok(api.post("/boards", params={"name": "Other"}))
    moved = ok(api.put(f"/cards/{card['id']}", params={"idBoard": other["id"]}))
    assert moved["idLabels"] == [] and moved["idChecklists"] == [checklist["id"]]
    assert ok(api.get(f"/checklists/{checklist['id']}"))["idBoard"] == other["id"]
    assert [c["id"] for c in ok(api.get(f"/boards/{other['id']}/checklists"))] == [checklist["id"]]


def test_checklist_fields_and_check_item_fields_apply_apart(api: httpx.Client, board: dict) -> None:
    card = _card(api, board)
    checklist = ok(api.post(f"/cards/{card['id']}/checklists", params={"name": "L"}))
    item = ok(api.post(f"/checklists/{checklist['id']}/checkItems", params={"name": "i"}))
    body = ok(
        api.get(
            f"/checklists/{checklist['id']}",
            params={"fields": "name,checkItems", "checkItem_fields": "state"},
        )
    )
    items = [{"id": item["id"], "state": "incomplete"}]
    assert body == {"id": checklist["id"], "name": "L", "checkItems": items}
    bare = ok(api.get(f"/checklists/{checklist['id']}", params={"checkItems": "none"}))
    assert "checkItems" not in bare
