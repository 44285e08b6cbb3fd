"""``/search``, ``GET /boards/{id}/cards/{idCard}``, and paging a board's cards by id."""

from __future__ import annotations

import httpx

from tests.sandbox_trello.conftest import ok


def _card(api: httpx.Client, board: dict, name: str, **extra: str) -> dict:
    params = {"idList": board["lists"][0]["id"], "name": name, **extra}
    return ok(api.post("/cards", params=params))


def test_search_finds_cards_and_boards_by_words(api: httpx.Client, board: dict) -> None:
    invoice = _card(api, board, "Send the invoice", desc="to ACME")
    _card(api, board, "Call the bank")
    found = ok(api.get("/search", params={"query": "invoice"}))
    assert set(found) == {"options", "boards", "cards", "members", "organizations", "actions"}
    assert [c["id"] for c in found["cards"]] == [invoice["id"]]
    assert found["cards"][0]["name"] == "Send the invoice"
    assert ok(api.get("/search", params={"query": "acme send"}))["cards"][0]["id"] == invoice["id"]
    assert ok(api.get("/search", params={"query": "invo"}))["cards"] == []
    partial = ok(api.get("/search", params={"query": "invo", "partial": "true"}))
    assert [c["id"] for c in partial["cards"]] == [invoice["id"]]

    boards_only = ok(api.get("/search", params={"query": "project", "modelTypes": "boards"}))
    assert boards_only["boards"] == [
        {"id": board["id"], "name": "Project X", "idOrganization": board["organization"]["id"]}
    ]
    assert boards_only["cards"] == [] and boards_only["options"]["modelTypes"] == ["boards"]
    for params, text in (
        ({}, "invalid value for query"),
        ({"query": "x", "modelTypes": "spells"}, "invalid value for modelTypes"),
    ):
        reply = api.get("/search", params=params)
        assert (reply.status_code, reply.text) == (400, text)


def test_one_card_of_a_board(api: httpx.Client, board: dict) -> None:
    card = _card(api, board, "One")
    assert ok(api.get(f"/boards/{board['id']}/cards/{card['id']}"))["id"] == card["id"]
    short = ok(
        api.get(f"/boards/{board['id']}/cards/{card['shortLink']}", params={"fields": "name"})
    )
    assert short == {"id": card["id"], "name": "One"}
    other = ok(api.post("/boards", params={"name": "Other"}))
    elsewhere = api.get(f"/boards/{other['id']}/cards/{card['id']}")
    assert (elsewhere.status_code, elsewhere.text) == (404, "The requested resource was not found.")
    assert api.get(f"/boards/{board['id']}/cards/{'0' * 24}").status_code == 404


def test_paging_cards_reads_each_once(api: httpx.Client, board: dict) -> None:
    made = [_card(api, board, f"card {n}", pos="top")["id"] for n in range(7)]
    url = f"/boards/{board['id']}/cards"

    # Backwards with before=<oldest so far>: newest first.
    seen: list[str] = []
    page = ok(api.get(url, params={"limit": 3}))
    before_pages = ok(api.get(url, params={"limit": 3, "before": "f" * 24}))
    assert [c["id"] for c in before_pages] == sorted(made, reverse=True)[:3]
    while before_pages:
        seen += [c["id"] for c in before_pages]
        before_pages = ok(api.get(url, params={"limit": 3, "before": seen[-1]}))
    assert seen == sorted(made, reverse=True)

    # Forwards with since=<newest so far>: oldest first.
    seen = []
    while page:
        seen += [c["id"] for c in page]
        page = ok(api.get(url, params={"limit": 3, "since": seen[-1]}))
    assert seen == sorted(made)
