"""A card's parts through the connector: read along with the cards (no call per card), and
written as a difference (labels found by name before one is made)."""

from __future__ import annotations

from typing import Any

import pytest

from pmbridge.errors import UnavailableError
from pmbridge.systems.base import Scope
from pmbridge.systems.trello import TrelloClient, TrelloSystem
from tests.systems_trello.conftest import Sandbox


async def test_parts_ride_along_with_the_board_listing_and_the_action_feed(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any], sandbox: Sandbox
) -> None:
    todo = board["lists"]["To Do"]["id"]
    cards = [await client.create_card(todo, name=f"Card {i}") for i in range(3)]
    for card in cards:
        await client.request("POST", f"/cards/{card['id']}/labels", {"name": "ops", "color": "sky"})
        await client.request(
            "POST", f"/cards/{card['id']}/attachments", {"url": "https://x.example/a", "name": "A"}
        )
    sandbox.reset()
    first = await system.read("card", None, Scope([board["id"]]))
    assert sandbox.count("GET /1/boards/{id}/cards/all") == 1
    assert sandbox.count("GET /1/cards/{id}") == 0  # nothing per card
    record = next(r for r in first.records if r.id == cards[0]["id"])
    assert record.fields["labels"] == ("ops",)
    assert record.fields["attachments"] == (
        {"id": record.fields["attachments"][0]["id"], "title": "A", "url": "https://x.example/a"},
    )
    assert record.fields["checklist"] == () and record.fields["members"] == ()

    # A person checks an item of a new checklist on one card: the feed says "fetch it", and
    # the fetch (one /batch) brings the checklist.
    made = await client.request(
        "POST", f"/cards/{cards[1]['id']}/checklists", {"name": "Checklist"}
    )
    item = await client.request(
        "POST", f"/checklists/{made['id']}/checkItems", {"name": "Step", "checked": True}
    )
    await system.begin_cycle()
    sandbox.reset()
    second = await system.read("card", first.cursor, Scope([board["id"]]))
    (changed,) = [r for r in second.records if r.id == cards[1]["id"]]
    assert changed.fields["checklist"] == ({"id": item["id"], "text": "Step", "done": True},)
    assert sandbox.count("GET /1/batch") == 1


async def test_a_write_applies_the_difference_and_reuses_labels_by_name(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any], sandbox: Sandbox
) -> None:
    todo = board["lists"]["To Do"]["id"]
    first = await client.create_card(todo, name="First")
    second = await client.create_card(todo, name="Second")
    wanted = {
        "labels": [{"name": "urgent", "color": "red"}],
        "checklist": [
            {"id": None, "text": "a", "done": False},
            {"id": None, "text": "b", "done": True},
        ],
        "attachments": [{"url": "https://x.example/spec", "title": "Spec"}],
    }
    one = await system.update("card", first["id"], wanted)
    two = await system.update("card", second["id"], {"labels": ["urgent"]})
    assert one.fields["labels"] == two.fields["labels"] == ("urgent",)
    labels = await client.request("GET", f"/boards/{board['id']}/labels", {"fields": "name,color"})
    assert [(x["name"], x["color"]) for x in labels if x["name"]] == [("urgent", "red")]
    items = one.fields["checklist"]
    assert [(i["text"], i["done"]) for i in items] == [("a", False), ("b", True)]

    # Reverse the items, rename one, drop the link: only what differs is written.
    sandbox.reset()
    reordered = [{**items[1], "text": "b!"}, items[0]]
    again = await system.update("card", first["id"], {"checklist": reordered, "attachments": []})
    assert [(i["id"], i["text"]) for i in again.fields["checklist"]] == [
        (items[1]["id"], "b!"),
        (items[0]["id"], "a"),
    ]
    assert again.fields["attachments"] == ()
    stats = sandbox.stats()["by_route"]
    assert stats.get("POST /1/checklists/{id}/checkItems", 0) == 0  # no item made again
    assert stats.get("POST /1/cards/{id}/checklists", 0) == 0  # the checklist is reused


async def test_an_item_added_between_two_others_lands_there(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any]
) -> None:
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Card")
    items = [{"id": None, "text": t, "done": False} for t in ("a", "b")]
    first = await system.update("card", card["id"], {"checklist": items})
    a, b = first.fields["checklist"]
    middle = [a, {"id": None, "text": "new", "done": False}, b]
    again = await system.update("card", card["id"], {"checklist": middle})
    assert [i["text"] for i in again.fields["checklist"]] == ["a", "new", "b"]
    assert [again.fields["checklist"][n]["id"] for n in (0, 2)] == [a["id"], b["id"]]


async def test_a_create_whose_parts_fail_says_so_and_that_the_card_exists(
    system: TrelloSystem, board: dict[str, Any]
) -> None:
    values = {"idBoard": board["id"], "list": "To Do", "name": "Ship", "members": ["nobody"]}
    with pytest.raises(UnavailableError) as failed:
        await system.create("card", values, idempotency_key="")
    assert failed.value.maybe_applied is True  # the card exists: repair it, never make it again
    message = str(failed.value)
    assert "could not write its labels, members, checklist or attachments" in message
    assert "@nobody" in message and "archive" not in message
