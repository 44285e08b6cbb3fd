"""TrelloSystem against the sandbox: records of every kind, incremental reads, the per-cycle
cache and lists made in ``list_order``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pmbridge.errors import ConfigError, InvalidValueError
from pmbridge.records import Record
from pmbridge.systems.base import Feed, Scope, System
from pmbridge.systems.trello import TrelloClient, TrelloSystem
from pmbridge.systems.trello.values import parse_datetime
from tests.systems_trello.conftest import Sandbox

ACTIONS = "GET /1/boards/{id}/actions"


def by_id(feed: Feed) -> dict[str, Record]:
    records = {r.id: r for r in feed.records}
    assert len(records) == len(feed.records), "a record came twice"
    return records


async def test_it_is_a_system_and_check_reads_the_member_once(
    system: TrelloSystem, sandbox: Sandbox
) -> None:
    assert isinstance(system, System)
    assert system.name == "trello"
    sandbox.reset()
    await system.check()
    await system.check()
    assert system.member is not None
    assert system.member["fullName"] == "Test User"
    assert sandbox.count("GET /1/members/me") == 1


async def test_organizations_discovered_then_read_by_id_in_batches(
    system: TrelloSystem, client: TrelloClient, sandbox: Sandbox
) -> None:
    orgs = [
        await client.create_organization(f"Customer {n}", desc=f"d{n}", website=None)
        for n in range(12)
    ]
    await client.update_organization(orgs[0]["id"], website="https://zero.example")
    sandbox.reset()

    found = await system.read("organization", None, Scope())

    assert found.listed == frozenset({"*"})
    assert sandbox.count("GET /1/members/me/organizations") == 1
    first = by_id(found)[orgs[0]["id"]]
    assert first.fields == {
        "displayName": "Customer 0",
        "desc": "d0",
        "website": "https://zero.example",
        "name": orgs[0]["name"],
    }
    assert first.version is None
    assert {o["id"] for o in orgs} <= set(by_id(found))

    await client.delete_organization(orgs[3]["id"])
    sandbox.reset()
    again = await system.read("organization", found.cursor, Scope([o["id"] for o in orgs]))

    # 12 workspaces and their 12 board listings ride in one series of /batch calls: 10+10+4.
    assert sandbox.count("GET /1/batch") == 3
    assert sandbox.stats()["requests"] == 3  # and no /1/members/ call
    records = by_id(again)
    assert records[orgs[3]["id"]].deleted is True
    assert records[orgs[5]["id"]].fields["displayName"] == "Customer 5"
    assert again.complete and again.listed is None
    # The board read of the same workspaces in this cycle needs no call of its own.
    live = [o["id"] for o in orgs if o["id"] != orgs[3]["id"]]
    boards = await system.read("board", None, Scope(live))
    assert sandbox.stats()["requests"] == 3
    assert boards.listed == frozenset(live)


async def test_boards_of_workspaces(
    system: TrelloSystem, client: TrelloClient, sandbox: Sandbox
) -> None:
    acme = await client.create_organization("Acme")
    globex = await client.create_organization("Globex")
    site = await client.create_board("Site", desc="web", idOrganization=acme["id"])
    old = await client.create_board("Old", idOrganization=globex["id"])
    await client.update_board(old["id"], closed=True)
    sandbox.reset()

    feed = await system.read("board", None, Scope([acme["id"], globex["id"]]))

    assert sandbox.stats()["requests"] == 1  # one /batch call
    assert feed.listed == frozenset({acme["id"], globex["id"]})
    records = by_id(feed)
    assert records[site["id"]].fields == {
        "name": "Site",
        "desc": "web",
        "closed": False,
        "idOrganization": acme["id"],
    }
    assert records[old["id"]].fields["closed"] is True
    touched = records[site["id"]].updated_at
    assert touched is None or touched.utcoffset() == timedelta(0)


async def test_cards_listed_in_full_then_read_from_the_action_feed(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any], sandbox: Sandbox
) -> None:
    todo, doing = board["lists"]["To Do"], board["lists"]["Doing"]
    due = datetime(2031, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    renamed = await client.create_card(todo["id"], name="Old name", desc="old", due=due)
    moved = await client.create_card(todo["id"], name="Move me", pos=100)
    doomed = await client.create_card(todo["id"], name="Doomed")
    await client.add_comment(renamed["id"], "comments change no card field")

    first = await system.read("card", None, Scope([board["id"]]))

    assert first.listed == frozenset({board["id"]})
    full = by_id(first)[renamed["id"]]
    assert full.partial is False
    assert full.fields == {
        "idBoard": board["id"],
        "idList": todo["id"],
        "list": "To Do",
        "name": "Old name",
        "desc": "old",
        "due": due,
        "start": None,
        "dueComplete": False,
        "closed": False,
        "pos": full.fields["pos"],
        # read along with the listing: no labels, members, checklist or links yet
        "labels": (),
        "members": (),
        "checklist": (),
        "attachments": (),
    }
    assert isinstance(full.fields["pos"], float)
    assert full.updated_at is not None and full.updated_at.tzinfo is not None

    await client.update_card(renamed["id"], name="New name", desc="new **desc**")
    await client.update_card(renamed["id"], dueComplete=True)
    await client.update_card(moved["id"], idList=doing["id"])
    await client.update_card(moved["id"], closed=True)
    await client.delete_card(doomed["id"])
    added = await client.create_card(doing["id"], name="Brand new")
    await system.begin_cycle()
    sandbox.reset()

    second = await system.read("card", first.cursor, Scope([board["id"]]))

    records = by_id(second)
    assert set(records) == {renamed["id"], moved["id"], doomed["id"], added["id"]}
    changed = records[renamed["id"]]
    assert changed.partial is True
    assert changed.fields == {"name": "New name", "desc": "new **desc**", "dueComplete": True}
    assert set(changed.changed_at) == {"name", "desc", "dueComplete"}
    assert changed.changed_at["dueComplete"] >= changed.changed_at["name"]
    assert records[moved["id"]].partial is True
    assert records[moved["id"]].fields == {"idList": doing["id"], "list": "Doing", "closed": True}
    assert records[doomed["id"]].deleted is True
    created = records[added["id"]]
    assert created.partial is False
    assert (created.fields["name"], created.fields["list"]) == ("Brand new", "Doing")
    assert second.listed is None
    # One feed call, one batch for the new card; the updated cards were not fetched.
    assert sandbox.count(ACTIONS) == 1
    assert sandbox.count("GET /1/batch") == 1
    assert sandbox.count("GET /1/cards/{id}") == 0
    assert sandbox.count("GET /1/boards/{id}/cards/all") == 0

    await system.begin_cycle()
    sandbox.reset()
    third = await system.read("card", second.cursor, Scope([board["id"]]))
    assert third.records == []
    assert third.cursor == second.cursor
    assert sandbox.stats()["requests"] == 1


async def test_cards_moved_between_boards_are_fetched_in_full(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any], workspace: dict[str, Any]
) -> None:
    other = await client.create_board("Other", idOrganization=workspace["id"], defaultLists=False)
    inbox = await client.create_list(other["id"], "Inbox")
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Traveller")
    scope = Scope([board["id"], other["id"]])
    first = await system.read("card", None, scope)

    await client.update_card(card["id"], idBoard=other["id"], idList=inbox["id"])
    second = await system.read("card", first.cursor, scope)

    [record] = second.records
    assert record.partial is False
    assert (record.fields["idBoard"], record.fields["list"]) == (other["id"], "Inbox")


async def test_renaming_a_list_lists_its_board_again(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any]
) -> None:
    card = await client.create_card(board["lists"]["Doing"]["id"], name="In progress")
    first = await system.read("card", None, Scope([board["id"]]))
    await client.update_list(board["lists"]["Doing"]["id"], name="In Progress")
    await system.begin_cycle()

    second = await system.read("card", first.cursor, Scope([board["id"]]))

    assert second.listed == frozenset({board["id"]})
    assert by_id(second)[card["id"]].fields["list"] == "In Progress"


async def test_a_board_that_vanished_makes_the_read_incomplete(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any], workspace: dict[str, Any]
) -> None:
    other = await client.create_board("Other", idOrganization=workspace["id"])
    scope = Scope([board["id"], other["id"]])
    first = await system.read("card", None, scope)
    await client.delete_board(other["id"])

    second = await system.read("card", first.cursor, scope)

    assert second.complete is False
    assert other["id"] not in second.cursor  # listed in full should it come back
    assert board["id"] in second.cursor


async def test_an_idle_read_of_twelve_boards_costs_two_calls(
    system: TrelloSystem, client: TrelloClient, workspace: dict[str, Any], sandbox: Sandbox
) -> None:
    boards = [
        await client.create_board(f"Board {n}", idOrganization=workspace["id"]) for n in range(12)
    ]
    scope = Scope([b["id"] for b in boards])
    first = await system.read("card", None, scope)
    await system.begin_cycle()
    sandbox.reset()

    cards = await system.read("card", first.cursor, scope)
    comments = await system.read("comment", first.cursor, scope)

    assert cards.records == [] and comments.records == [] and cards.complete
    # Twelve board feeds, ten to a /batch call, shared by the card and the comment read.
    assert sandbox.stats()["by_route"] == {"GET /1/batch": 2}


async def test_the_feed_is_read_once_per_cycle_for_cards_and_comments(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any], sandbox: Sandbox
) -> None:
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Talked about")
    scope = Scope([board["id"]])
    sandbox.reset()
    cards = await system.read("card", None, scope)
    comments = await system.read("comment", None, scope)
    # The newest action (for the cursor) is read once; the comments are then listed.
    assert sandbox.count(ACTIONS) == 2
    assert comments.cursor == cards.cursor

    await client.add_comment(card["id"], "new")
    await client.update_card(card["id"], name="Renamed")
    await system.begin_cycle()
    sandbox.reset()
    cards = await system.read("card", cards.cursor, scope)
    comments = await system.read("comment", comments.cursor, scope)
    assert sandbox.count(ACTIONS) == 1  # the comment read reused the card read's actions
    assert [r.fields["text"] for r in comments.records] == ["new"]
    assert [r.fields["name"] for r in cards.records] == ["Renamed"]

    await system.begin_cycle()
    sandbox.reset()
    await system.read("comment", comments.cursor, scope)
    assert sandbox.count(ACTIONS) == 1  # a new cycle reads again

    sandbox.reset()
    await system.read("comment", None, scope)  # another cursor: the cache is dropped
    await system.read("comment", comments.cursor, scope)
    assert sandbox.count(ACTIONS) == 3


async def test_comments_in_full_and_since_the_cursor(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any]
) -> None:
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Chat")
    first = await client.add_comment(card["id"], "first")
    scope = Scope([board["id"]])
    full = await system.read("comment", None, scope)

    assert full.listed == frozenset({board["id"]})
    record = by_id(full)[first["id"]]
    assert record.fields == {
        "idCard": card["id"],
        "idBoard": board["id"],
        "text": "first",
        "author": "Test User",
        "date": record.updated_at,
    }
    assert record.updated_at is not None and record.updated_at.tzinfo is not None

    second = await client.add_comment(card["id"], "second")
    await client.edit_comment(first["id"], "first, edited")
    await system.begin_cycle()
    since = await system.read("comment", full.cursor, scope)
    # Edits do not show in board feeds (TRELLO_API.md §6); the new comment does.
    assert [r.id for r in since.records] == [second["id"]]
    assert since.listed is None

    again = await system.read("comment", None, scope)
    edited = by_id(again)[first["id"]]
    assert edited.fields["text"] == "first, edited"
    stored = await client.get_action(first["id"])
    assert edited.updated_at == parse_datetime(stored["data"]["dateLastEdited"])
    assert edited.fields["date"] == record.fields["date"]  # the creation date stays


async def test_get_each_kind(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any], workspace: dict[str, Any]
) -> None:
    card = await client.create_card(board["lists"]["Done"]["id"], name="Got", dueComplete=True)
    comment = await client.add_comment(card["id"], "said")

    org = await system.get("organization", workspace["id"])
    assert org is not None and org.fields["displayName"] == "Acme Inc"
    got_board = await system.get("board", board["id"])
    assert got_board is not None and got_board.fields["idOrganization"] == workspace["id"]
    got_card = await system.get("card", card["id"])
    assert got_card is not None
    assert (got_card.fields["list"], got_card.fields["dueComplete"]) == ("Done", True)
    got_comment = await system.get("comment", comment["id"])
    assert got_comment is not None and got_comment.fields["text"] == "said"
    assert await system.get("comment", board["id"]) is None  # not an action at all

    await client.delete_card(card["id"])
    assert await system.get("card", card["id"]) is None


async def test_create_each_kind_and_lists_follow_list_order(
    system: TrelloSystem, client: TrelloClient, sandbox: Sandbox
) -> None:
    org = await system.create(
        "organization",
        {"displayName": "Initech", "desc": "TPS", "website": "https://initech.example"},
        idempotency_key="o1",
    )
    assert org.fields["website"] == "https://initech.example"
    board = await system.create(
        "board",
        {"name": "Archive", "desc": "", "idOrganization": org.id, "closed": True},
        idempotency_key="b1",
    )
    assert (board.fields["closed"], board.fields["idOrganization"]) == (True, org.id)
    assert await client.get_board_lists(board.id) == []  # no default lists

    due = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    made = {}
    for name in ("Done", "To Do", "Custom", "Doing"):
        made[name] = await system.create(
            "card",
            {"idBoard": board.id, "list": name, "name": f"in {name}", "due": due, "closed": True},
            idempotency_key=name,
        )
    # Two cards wanting the same new list at once make one list.
    await asyncio.gather(
        *(
            system.create(
                "card", {"idBoard": board.id, "list": "Later", "name": n}, idempotency_key=n
            )
            for n in ("a", "b")
        )
    )
    lists = await client.get_board_lists(board.id, filter="open")
    assert [lst["name"] for lst in sorted(lists, key=lambda x: x["pos"])] == [
        "To Do",
        "Doing",
        "Done",
        "Custom",
        "Later",
    ]
    card = made["Doing"]
    assert (card.fields["list"], card.fields["due"], card.fields["closed"]) == ("Doing", due, True)
    assert card.partial is False and card.version is None

    comment = await system.create(
        "comment", {"idCard": card.id, "text": "hello", "author": "ignored"}, idempotency_key="c"
    )
    assert (comment.fields["text"], comment.fields["idCard"]) == ("hello", card.id)
    assert comment.fields["author"] == "Test User"


async def test_a_card_without_a_list_goes_to_the_first_of_list_order(
    system: TrelloSystem, board: dict[str, Any]
) -> None:
    card = await system.create(
        "card", {"idBoard": board["id"], "name": "Loose"}, idempotency_key="l"
    )
    assert card.fields["list"] == "To Do"


async def test_update_each_kind(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any], workspace: dict[str, Any]
) -> None:
    org = await system.update(
        "organization", workspace["id"], {"website": "https://acme.example", "desc": None}
    )
    assert (org.fields["website"], org.fields["desc"]) == ("https://acme.example", "")
    org = await system.update("organization", workspace["id"], {"website": None})
    assert org.fields["website"] is None

    updated_board = await system.update("board", board["id"], {"closed": True, "name": "B2"})
    assert (updated_board.fields["closed"], updated_board.fields["name"]) == (True, "B2")

    card = await client.create_card(board["lists"]["To Do"]["id"], name="Task")
    start = datetime(2030, 2, 3, 4, 5, 6, tzinfo=UTC)
    record = await system.update("card", card["id"], {"list": "Done", "start": start, "pos": 5.5})
    assert record.partial is False
    assert (record.fields["list"], record.fields["idList"]) == (
        "Done",
        board["lists"]["Done"]["id"],
    )
    assert (record.fields["start"], record.fields["pos"]) == (start, 5.5)
    record = await system.update("card", card["id"], {"start": None, "list": "Review"})
    assert (record.fields["start"], record.fields["list"]) == (None, "Review")

    other = await client.create_board("Other", idOrganization=workspace["id"], defaultLists=False)
    record = await system.update("card", card["id"], {"idBoard": other["id"]})
    assert (record.fields["idBoard"], record.fields["list"]) == (other["id"], "Review")
    record = await system.update("card", card["id"], {"idBoard": board["id"], "list": "To Do"})
    assert (record.fields["idBoard"], record.fields["list"]) == (board["id"], "To Do")

    comment = await client.add_comment(card["id"], "v1")
    edited = await system.update("comment", comment["id"], {"text": "v2", "idCard": card["id"]})
    assert (edited.id, edited.fields["text"]) == (comment["id"], "v2")


async def test_delete_each_kind_and_again(
    system: TrelloSystem, client: TrelloClient, board: dict[str, Any], workspace: dict[str, Any]
) -> None:
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Gone soon")
    comment = await client.add_comment(card["id"], "bye")
    for kind, id in (
        ("comment", comment["id"]),
        ("card", card["id"]),
        ("board", board["id"]),
        ("organization", workspace["id"]),
    ):
        await system.delete(kind, id)
        assert await system.get(kind, id) is None
        await system.delete(kind, id)  # already gone: not an error


async def test_bad_writes_are_refused_with_clear_errors(
    system: TrelloSystem, board: dict[str, Any], sandbox: Sandbox
) -> None:
    sandbox.reset()
    with pytest.raises(InvalidValueError) as unknown:
        await system.create("card", {"idBoard": board["id"], "titel": "x"}, idempotency_key="x")
    assert unknown.value.field == "titel"
    assert "a Trello card has no writable field 'titel'" in str(unknown.value)
    with pytest.raises(InvalidValueError) as naive:
        await system.update("card", "5f0000000000000000000fff", {"due": datetime(2030, 1, 1)})
    assert "'due' must be a timezone-aware date-time" in str(naive.value)
    with pytest.raises(InvalidValueError) as nameless:
        await system.create("organization", {"desc": "no name"}, idempotency_key="y")
    assert "needs 'displayName'" in str(nameless.value)
    with pytest.raises(ConfigError) as kind:
        await system.read("label", None)
    assert "use one of organization, board, card, comment" in str(kind.value)
    with pytest.raises(ConfigError):
        await system.read("card", '{"v": 99}', Scope([board["id"]]))
    assert sandbox.stats()["requests"] == 0  # all refused before asking Trello
