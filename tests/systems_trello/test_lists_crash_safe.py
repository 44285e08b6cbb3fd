"""Lists join the crash-safe creates: a list whose create answer was lost is found by name,
never created a second time (issue 8.11: duplicate "To Do"/"Doing" lists in a fault storm)."""

from __future__ import annotations

from typing import Any

import pytest

from pmbridge.errors import UnavailableError
from pmbridge.systems.trello import TrelloClient, TrelloSystem
from tests.fixtures.bridge import Bridge, seed
from tests.systems_trello.conftest import Sandbox


async def open_lists(client: TrelloClient, board_id: str) -> list[str]:
    lists = await client.get_board_lists(board_id, filter="open")
    return sorted(lst["name"] for lst in lists)


async def empty_board(client: TrelloClient, workspace: dict[str, Any]) -> str:
    board = await client.create_board("Storm", idOrganization=workspace["id"], defaultLists=False)
    return str(board["id"])


async def test_a_list_whose_create_answer_was_lost_is_found_not_made_again(
    system: TrelloSystem, client: TrelloClient, sandbox: Sandbox, workspace: dict[str, Any]
) -> None:
    board_id = await empty_board(client, workspace)
    sandbox.reset()
    # Every list create acts, then loses its answer.
    sandbox.faults(drop_after_rate=1.0, methods=["POST"], path_prefix="/1/lists")
    first = await system.create(
        "card", {"idBoard": board_id, "list": "Doing", "name": "one"}, idempotency_key="1"
    )
    sandbox.clear_faults()
    second = await system.create(
        "card", {"idBoard": board_id, "list": "Doing", "name": "two"}, idempotency_key="2"
    )

    assert sandbox.count("POST /1/lists") == 1
    assert await open_lists(client, board_id) == ["Doing"]
    assert first.fields["list"] == second.fields["list"] == "Doing"
    cards = await client.get_board_cards(board_id, fields="name,idList")
    assert len({card["idList"] for card in cards}) == 1


async def test_a_new_cycle_finds_the_list_an_earlier_lost_answer_made(
    system: TrelloSystem, client: TrelloClient, sandbox: Sandbox, workspace: dict[str, Any]
) -> None:
    board_id = await empty_board(client, workspace)
    await system.lists.of(board_id)  # the cycle knows the board without lists
    sandbox.faults(drop_after_rate=1.0, methods=["POST"], path_prefix="/1/lists")
    await system.create(
        "card", {"idBoard": board_id, "list": "To Do", "name": "a"}, idempotency_key="a"
    )
    sandbox.clear_faults()
    system.lists.clear()  # the next cycle
    for name in ("b", "c"):
        await system.create(
            "card", {"idBoard": board_id, "list": "To Do", "name": name}, idempotency_key=name
        )
    assert await open_lists(client, board_id) == ["To Do"]


async def test_after_a_failed_list_create_the_next_one_reads_the_board_first(
    system: TrelloSystem, client: TrelloClient, sandbox: Sandbox, workspace: dict[str, Any]
) -> None:
    board_id = await empty_board(client, workspace)
    await system.lists.of(board_id)
    # Every list create answers 503 after all tries; meanwhile someone makes the list.
    sandbox.faults(error_rate=1.0, methods=["POST"], path_prefix="/1/lists")
    with pytest.raises(UnavailableError) as failed:
        await system.create(
            "card", {"idBoard": board_id, "list": "Done", "name": "x"}, idempotency_key="x"
        )
    assert failed.value.maybe_applied is False
    sandbox.clear_faults()
    await client.create_list(board_id, "Done")
    await system.create(
        "card", {"idBoard": board_id, "list": "Done", "name": "y"}, idempotency_key="y"
    )
    assert await open_lists(client, board_id) == ["Done"]


async def test_a_lost_list_create_that_did_not_act_does_not_count_the_card_as_made(
    system: TrelloSystem, client: TrelloClient, sandbox: Sandbox, workspace: dict[str, Any]
) -> None:
    board_id = await empty_board(client, workspace)
    # The connection drops before the request acts: no list, and the card was never sent.
    sandbox.faults(drop_rate=1.0, methods=["POST"], path_prefix="/1/lists")
    with pytest.raises(UnavailableError) as failed:
        await system.create(
            "card", {"idBoard": board_id, "list": "Doing", "name": "z"}, idempotency_key="z"
        )
    sandbox.clear_faults()
    assert failed.value.maybe_applied is False
    assert await open_lists(client, board_id) == []
    assert await client.get_board_cards(board_id, fields="name") == []


def test_a_sync_whose_list_creates_lose_their_answers_makes_each_list_once(bridge: Bridge):
    statuses = ("todo", "in_progress", "done") * 2  # two cards want each list
    data = seed(bridge.pms, tasks=len(statuses), comments=False)
    for task, status in zip(data["tasks"], statuses, strict=True):
        bridge.pms.update("tasks", task["id"], status=status)
    bridge.sync(flows=["customers", "projects"])
    bridge.trello_app.state.control.set_faults(
        drop_after_rate=1.0, methods=["POST"], path_prefix="/1/lists"
    )
    bridge.sync()
    bridge.trello_app.state.control.clear_faults()
    bridge.sync()

    board = bridge.only_board()
    lists = bridge.trello.lists(board["id"])
    assert sorted(lists.values()) == ["Doing", "Done", "To Do"]
    placed = {card["name"]: lists[card["idList"]] for card in bridge.trello.cards(board["id"])}
    assert placed == {
        f"Task {i}": {"todo": "To Do", "in_progress": "Doing", "done": "Done"}[status]
        for i, status in enumerate(statuses)
    }
