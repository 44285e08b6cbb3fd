"""TrelloClient against the sandbox over HTTP: every operation the engine uses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from pmbridge.errors import InvalidValueError, NotFoundError, UnavailableError
from pmbridge.sandbox.server import ServerThread
from pmbridge.systems.trello import ActionsQuery, TrelloClient, batch_url
from tests.systems_trello.conftest import Sandbox


async def test_member_and_its_workspaces(client: TrelloClient, workspace: dict[str, Any]) -> None:
    me = await client.get_me()
    assert me["username"] == "testuser"
    assert me["fullName"] == "Test User"
    orgs = await client.get_my_organizations(fields="id,displayName")
    assert workspace["id"] in {org["id"] for org in orgs}
    assert {org["displayName"] for org in orgs if org["id"] == workspace["id"]} == {"Acme Inc"}


async def test_organization_lifecycle_and_its_boards(client: TrelloClient) -> None:
    org = await client.create_organization("Globex", desc="Hello", website="https://globex.example")
    assert (org["displayName"], org["desc"], org["website"]) == (
        "Globex",
        "Hello",
        "https://globex.example",
    )
    changed = await client.update_organization(org["id"], desc="Changed", website=None)
    assert (changed["desc"], changed["website"]) == ("Changed", None)
    fetched = await client.get_organization(org["id"], fields="displayName,desc")
    assert (fetched["displayName"], fetched["desc"]) == ("Globex", "Changed")

    open_board = await client.create_board("Open", idOrganization=org["id"], defaultLists=False)
    closed_board = await client.create_board("Old", idOrganization=org["id"], defaultLists=False)
    await client.update_board(closed_board["id"], closed=True)
    boards = await client.request(
        "GET", f"/organizations/{org['id']}/boards", {"fields": "name,closed"}
    )
    assert {(b["id"], b["closed"]) for b in boards} == {
        (open_board["id"], False),
        (closed_board["id"], True),
    }
    only_open = await client.request(
        "GET", f"/organizations/{org['id']}/boards", {"filter": "open", "fields": "name"}
    )
    assert [b["id"] for b in only_open] == [open_board["id"]]

    await client.delete_organization(org["id"])
    with pytest.raises(NotFoundError):
        await client.get_organization(org["id"])


async def test_board_lifecycle_lists_and_cards(
    client: TrelloClient, workspace: dict[str, Any]
) -> None:
    board = await client.create_board(
        "Site", desc="The web site", idOrganization=workspace["id"], defaultLists=False
    )
    assert (board["name"], board["desc"], board["idOrganization"]) == (
        "Site",
        "The web site",
        workspace["id"],
    )
    assert await client.get_board_lists(board["id"]) == []
    todo = await client.create_list(board["id"], "To Do", pos=100)
    later = await client.create_list(board["id"], "Later", pos=50)
    renamed = await client.update_list(later["id"], name="Someday")
    assert renamed["name"] == "Someday"
    assert (await client.request("GET", f"/lists/{later['id']}"))["name"] == "Someday"
    await client.update_list(later["id"], closed=True)
    assert [lst["name"] for lst in await client.get_board_lists(board["id"], filter="open")] == [
        "To Do"
    ]
    assert [lst["name"] for lst in await client.get_board_lists(board["id"])] == [
        "Someday",
        "To Do",
    ]

    kept = await client.create_card(todo["id"], name="Kept")
    archived = await client.create_card(todo["id"], name="Archived")
    await client.update_card(archived["id"], closed=True)
    all_cards = await client.get_board_cards(board["id"], fields="name,closed")
    assert {(c["id"], c["closed"]) for c in all_cards} == {
        (kept["id"], False),
        (archived["id"], True),
    }
    open_cards = await client.get_board_cards(board["id"], filter="open", fields="name")
    assert [c["id"] for c in open_cards] == [kept["id"]]

    updated = await client.update_board(board["id"], name="Site 2", closed=True)
    assert (updated["name"], updated["closed"]) == ("Site 2", True)
    assert (await client.get_board(board["id"], fields="name"))["name"] == "Site 2"
    await client.delete_board(board["id"])
    with pytest.raises(NotFoundError):
        await client.get_board(board["id"])


async def test_card_lifecycle_and_moves(
    client: TrelloClient, board: dict[str, Any], workspace: dict[str, Any]
) -> None:
    todo, doing = board["lists"]["To Do"], board["lists"]["Doing"]
    due = datetime(2030, 5, 17, 9, 30, 15, 250000, tzinfo=UTC)
    card = await client.create_card(
        todo["id"], name="Write", desc="**Markdown**", pos=1234.5, due=due, dueComplete=False
    )
    assert (card["name"], card["desc"], card["pos"], card["due"]) == (
        "Write",
        "**Markdown**",
        1234.5,
        "2030-05-17T09:30:15.250Z",
    )
    moved = await client.update_card(card["id"], idList=doing["id"], due=None)
    assert (moved["idList"], moved["due"]) == (doing["id"], None)

    other = await client.create_board("Other", idOrganization=workspace["id"], defaultLists=False)
    there = await client.create_list(other["id"], "Inbox")
    across = await client.update_card(card["id"], idBoard=other["id"], idList=there["id"])
    assert (across["idBoard"], across["idList"]) == (other["id"], there["id"])
    fetched = await client.get_card(card["id"], fields="idBoard,idList,name")
    assert (fetched["idBoard"], fetched["name"]) == (other["id"], "Write")

    await client.delete_card(card["id"])
    with pytest.raises(NotFoundError):
        await client.get_card(card["id"])


async def test_comments_and_actions(client: TrelloClient, board: dict[str, Any]) -> None:
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Discuss")
    comment = await client.add_comment(card["id"], "First thought")
    assert comment["type"] == "commentCard"
    assert comment["data"]["text"] == "First thought"
    assert comment["data"]["card"]["id"] == card["id"]

    edited = await client.edit_comment(comment["id"], "Second thought")
    assert edited["data"]["text"] == "Second thought"
    fetched = await client.get_action(comment["id"])
    assert (fetched["type"], fetched["data"]["text"]) == ("commentCard", "Second thought")
    assert fetched["memberCreator"]["fullName"] == "Test User"

    comments_of_card = (f"/cards/{card['id']}/actions", {"filter": "commentCard"})
    on_card = await client.request("GET", *comments_of_card)
    assert [a["id"] for a in on_card] == [comment["id"]]

    await client.delete_comment(comment["id"])
    with pytest.raises(NotFoundError):
        await client.get_action(comment["id"])
    assert await client.request("GET", *comments_of_card) == []


async def test_board_actions_are_paged_back_with_before(
    client: TrelloClient, board: dict[str, Any], sandbox: Sandbox
) -> None:
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Chatty")
    comments = [await client.add_comment(card["id"], f"comment {n}") for n in range(7)]
    sandbox.reset()

    actions = await client.list_board_actions(board["id"], filter="commentCard", page_size=3)

    assert [a["id"] for a in actions] == [c["id"] for c in reversed(comments)]  # newest first
    assert sandbox.count("GET /1/boards/{id}/actions") == 3  # pages of 3, 3 and 1

    newer = await client.list_board_actions(board["id"], since=comments[4]["id"])
    assert [a["id"] for a in newer] == [comments[6]["id"], comments[5]["id"]]
    page = await client.get_board_actions(board["id"], limit=1)
    assert [a["id"] for a in page] == [comments[6]["id"]]


async def test_the_actions_of_many_boards_come_ten_boards_to_a_batch_call(
    client: TrelloClient, workspace: dict[str, Any], board: dict[str, Any], sandbox: Sandbox
) -> None:
    others = [
        await client.create_board(f"Board {n}", idOrganization=workspace["id"]) for n in range(11)
    ]
    gone = await client.create_board("Gone", idOrganization=workspace["id"])
    await client.delete_board(gone["id"])
    card = await client.create_card(board["lists"]["To Do"]["id"], name="Chatty")
    comments = [await client.add_comment(card["id"], f"comment {n}") for n in range(7)]
    sandbox.reset()

    queries = [ActionsQuery(b["id"], filter="commentCard", limit=3) for b in [board, *others]]
    found = await client.boards_actions([*queries, ActionsQuery(gone["id"])])

    assert [a["id"] for a in found[0] or []] == [c["id"] for c in reversed(comments)]
    assert found[1:12] == [[]] * 11 and found[12] is None  # the deleted board: None
    # Thirteen first pages in two /batch calls; the chatty board's next two pages alone, each
    # on its own route.
    assert sandbox.count("GET /1/batch") == 2
    assert sandbox.count("GET /1/boards/{id}/actions") == 2
    assert sandbox.stats()["requests"] == 4


async def test_a_board_answer_failed_inside_a_batch_is_asked_again_never_taken_as_empty(
    client: TrelloClient, workspace: dict[str, Any], sandbox: Sandbox
) -> None:
    boards = [
        await client.create_board(f"Board {n}", idOrganization=workspace["id"]) for n in range(10)
    ]
    queries = [ActionsQuery(b["id"]) for b in boards]
    truth = await client.boards_actions(queries)
    assert all(truth)  # every board has its createBoard and createList actions
    sandbox.reset()

    # Some answers inside the batch fail; each is asked again on its own route (retried
    # there), and the result is the truth.
    sandbox.faults(error_rate=0.3, path_prefix="/1/boards/", methods=["GET"], seed=3)
    assert await client.boards_actions(queries) == truth
    assert sandbox.count("GET /1/batch") == 1
    assert sandbox.count("GET /1/boards/{id}/actions") >= 1

    # A board that cannot be read at all stops the read with an error: an empty answer
    # would let the feed position pass actions nobody read.
    sandbox.faults(error_rate=1.0, seed=None)
    with pytest.raises(UnavailableError):
        await client.boards_actions(queries)


async def test_batch_splits_into_groups_of_ten(
    client: TrelloClient, workspace: dict[str, Any], sandbox: Sandbox
) -> None:
    orgs = [workspace] + [await client.create_organization(f"Org {n}") for n in range(11)]
    missing = "5f0000000000000000000fff"
    urls = [batch_url(f"/organizations/{o['id']}", {"fields": "id,displayName"}) for o in orgs]
    urls.insert(5, batch_url(f"/organizations/{missing}"))
    sandbox.reset()

    items = await client.batch(urls)

    assert sandbox.count("GET /1/batch") == 2  # 13 routes: 10 + 3
    assert [item.url for item in items] == urls
    assert [item.status for item in items] == [200] * 5 + [404] + [200] * 7
    found = [item.body for item in items if item.ok]
    assert [o["id"] for o in found] == [o["id"] for o in orgs]
    assert set(found[0]) == {"id", "displayName"}  # the comma inside fields= survived
    assert items[5].ok is False
    assert await client.batch([]) == []


@pytest.fixture
def callback_server() -> Iterator[ServerThread]:
    """A webhook receiver that answers 200 to everything (Trello HEADs it on create)."""

    async def receiver(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with ServerThread(receiver) as server:
        yield server


async def test_webhook_lifecycle(
    client: TrelloClient, board: dict[str, Any], callback_server: ServerThread
) -> None:
    url = callback_server.url + "/trello"
    hook = await client.create_webhook(url, board["id"], description="pmbridge")
    assert (hook["callbackURL"], hook["idModel"], hook["active"]) == (url, board["id"], True)
    path = f"/webhooks/{hook['id']}"
    assert (await client.request("GET", path))["description"] == "pmbridge"
    paused = await client.request("PUT", path, {"active": False, "description": "paused"})
    assert (paused["active"], paused["description"]) == (False, "paused")

    with pytest.raises(InvalidValueError) as refused:
        await client.create_webhook(url, board["id"], active=False)  # same callback and model
    assert "already exists" in str(refused.value)

    await client.delete_webhook(hook["id"])
    with pytest.raises(NotFoundError):
        await client.request("GET", path)


async def test_requests_run_concurrently(
    client: TrelloClient, board: dict[str, Any], sandbox: Sandbox
) -> None:
    sandbox.faults(latency_ms=300)
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(client.get_board(board["id"], fields="name") for _ in range(10)))
    elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < 1.5  # ten requests one after another would take 3 s
