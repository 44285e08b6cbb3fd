"""Custom fields: board definitions, card values (``customFieldItems``), their actions."""

from __future__ import annotations

import httpx

from tests.sandbox_trello.conftest import ok


def _field(api: httpx.Client, board: dict, name: str, kind: str, **extra: object) -> dict:
    body = {"idModel": board["id"], "modelType": "board", "name": name, "type": kind, **extra}
    return ok(api.post("/customFields", json=body))


def test_custom_fields_and_card_values(api: httpx.Client, board: dict) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "C"}))
    ref = _field(api, board, "Reference", "text", pos="top")
    size = _field(api, board, "Size", "list", options=["S", "M", "L"])
    assert (ref["type"], ref["modelType"], ref["idModel"]) == ("text", "board", board["id"])
    assert [o["value"]["text"] for o in size["options"]] == ["S", "M", "L"]
    assert [f["id"] for f in ok(api.get(f"/boards/{board['id']}/customFields"))] == [
        ref["id"], size["id"],
    ]  # fmt: skip
    assert ok(api.get(f"/customFields/{ref['id']}")) == ref

    item_url = f"/cards/{card['id']}/customField/{ref['id']}/item"
    item = ok(api.put(item_url, json={"value": {"text": "PO-7"}}))
    assert {k: item[k] for k in ("idCustomField", "idModel", "modelType", "value")} == {
        "idCustomField": ref["id"], "idModel": card["id"], "modelType": "card",
        "value": {"text": "PO-7"},
    }  # fmt: skip
    medium = size["options"][1]["id"]
    ok(api.put(f"/cards/{card['id']}/customField/{size['id']}/item", json={"idValue": medium}))

    items = ok(api.get(f"/cards/{card['id']}/customFieldItems"))
    assert [(i["idCustomField"], i.get("value"), i.get("idValue")) for i in items] == [
        (ref["id"], {"text": "PO-7"}, None), (size["id"], None, medium),
    ]  # fmt: skip
    assert "customFieldItems" not in ok(api.get(f"/cards/{card['id']}"))
    with_items = ok(api.get(f"/cards/{card['id']}", params={"customFieldItems": "true"}))
    assert with_items["customFieldItems"] == items
    listed = ok(api.get(f"/boards/{board['id']}/cards", params={"customFieldItems": "true"}))
    assert listed[0]["customFieldItems"] == items

    ok(api.put(item_url, json={"value": ""}))
    assert [i["idCustomField"] for i in ok(api.get(f"/cards/{card['id']}/customFieldItems"))] == [
        size["id"]
    ]
    updates = ok(
        api.get(f"/boards/{board['id']}/actions", params={"filter": "updateCustomFieldItem"})
    )
    assert [a["data"]["customField"]["id"] for a in updates] == [ref["id"], size["id"], ref["id"]]
    assert updates[0]["data"]["old"] == {"value": {"text": "PO-7"}}
    assert updates[2]["data"]["customFieldItem"]["value"] == {"text": "PO-7"}


def test_bad_custom_field_values_are_refused(api: httpx.Client, board: dict) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "C"}))
    number = _field(api, board, "Points", "number")
    url = f"/cards/{card['id']}/customField/{number['id']}/item"
    assert ok(api.put(url, json={"value": {"number": "3.5"}}))["value"] == {"number": "3.5"}
    for body in ({"value": {"number": "many"}}, {"value": {"text": "3"}}, {"value": "3"}):
        reply = api.put(url, json=body)
        assert (reply.status_code, reply.text) == (400, "invalid value for value"), body
    bad_type = api.post(
        "/customFields",
        json={"idModel": board["id"], "modelType": "board", "name": "X", "type": "colour"},
    )
    assert (bad_type.status_code, bad_type.text) == (400, "invalid value for type")
    no_board = api.post("/customFields", json={"modelType": "board", "name": "X", "type": "text"})
    assert (no_board.status_code, no_board.text) == (400, "invalid value for idModel")
