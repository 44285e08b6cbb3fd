"""URL attachments on cards, and the actions Trello records for them."""

from __future__ import annotations

import httpx

from tests.sandbox_trello.conftest import ok


def test_url_attachments(api: httpx.Client, board: dict) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "C"}))
    base = f"/cards/{card['id']}/attachments"
    spec = ok(api.post(base, params={"url": "https://example.com/spec", "name": "Spec"}))
    assert {k: spec[k] for k in ("name", "url", "isUpload", "bytes", "mimeType")} == {
        "name": "Spec", "url": "https://example.com/spec", "isUpload": False, "bytes": None,
        "mimeType": "",
    }  # fmt: skip
    assert len(spec["id"]) == 24 and spec["date"].endswith("Z")
    unnamed = ok(api.post(base, params={"url": "http://example.org/x"}))
    assert unnamed["name"] == "http://example.org/x"
    assert [a["id"] for a in ok(api.get(base))] == [spec["id"], unnamed["id"]]
    assert ok(api.get(f"{base}/{spec['id']}")) == spec
    assert ok(api.get(f"/cards/{card['id']}"))["badges"]["attachments"] == 2

    (added, _) = ok(
        api.get(f"/boards/{board['id']}/actions", params={"filter": "addAttachmentToCard"})
    )
    assert added["data"]["attachment"] == {
        "id": unnamed["id"], "name": "http://example.org/x", "url": "http://example.org/x",
    }  # fmt: skip
    assert added["data"]["card"]["id"] == card["id"]

    assert ok(api.delete(f"{base}/{spec['id']}")) == {}
    gone = api.get(f"{base}/{spec['id']}")
    assert (gone.status_code, gone.text) == (404, "The requested resource was not found.")
    (deleted,) = ok(
        api.get(f"/boards/{board['id']}/actions", params={"filter": "deleteAttachmentFromCard"})
    )
    assert deleted["data"]["attachment"] == {"id": spec["id"], "name": "Spec"}


def test_bad_attachments_are_refused(api: httpx.Client, board: dict) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "C"}))
    base = f"/cards/{card['id']}/attachments"
    for params in ({}, {"url": "ftp://example.com/x"}, {"url": "not a url"}):
        reply = api.post(base, params=params)
        assert (reply.status_code, reply.text) == (400, "invalid value for url")
    malformed = api.get(f"{base}/nope")
    assert (malformed.status_code, malformed.text) == (400, "invalid value for idAttachment")


def test_card_and_board_reads_nest_their_parts(api: httpx.Client, board: dict) -> None:
    card = ok(api.post("/cards", params={"idList": board["lists"][0]["id"], "name": "C"}))
    ok(api.post(f"/cards/{card['id']}/attachments", params={"url": "https://example.com"}))
    ok(api.post(f"/cards/{card['id']}/checklists", params={"name": "L"}))
    ok(api.post(f"/cards/{card['id']}/idMembers", params={"value": board["idMemberCreator"]}))
    nested = ok(
        api.get(
            f"/cards/{card['id']}",
            params={"checklists": "all", "attachments": "true", "members": "true"},
        )
    )
    assert [c["name"] for c in nested["checklists"]] == ["L"]
    assert [a["url"] for a in nested["attachments"]] == ["https://example.com"]
    assert [m["id"] for m in nested["members"]] == [board["idMemberCreator"]]
    plain = ok(api.get(f"/cards/{card['id']}"))
    assert not {"checklists", "attachments", "members"} & set(plain)

    whole = ok(api.get(f"/boards/{board['id']}", params={"labels": "all", "members": "all"}))
    assert len(whole["labels"]) == 6
    assert [m["id"] for m in whole["members"]] == [board["idMemberCreator"]]
