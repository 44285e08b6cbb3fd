"""Each board's lists kept between runs in the connector's memo (the state store's
``memos``), trusted only as far as the board's feed vouches for them; and a list id Trello
refuses is read again once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pmbridge.store import Store, SystemMemo, open_store
from pmbridge.systems.base import Scope
from pmbridge.systems.trello import TrelloClient, TrelloSystem
from tests.systems_trello.conftest import FAST_RETRY, NO_LIMITS, Sandbox

LIST_READS = "GET /1/boards/{id}/lists"
Run = Callable[[], TrelloSystem]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'pmbridge.db'}") as opened:
        yield opened


@pytest.fixture
def run(api_root: str, trello_auth: dict[str, str], http: httpx.AsyncClient, store: Store) -> Run:
    """A connector as one ``pmbridge sync`` run builds it: a client of its own, the memo."""

    def new() -> TrelloSystem:
        client = TrelloClient(
            api_root,
            trello_auth["key"],
            trello_auth["token"],
            http=http,
            limits=NO_LIMITS,
            retry=FAST_RETRY,
        )
        return TrelloSystem(client, memo=SystemMemo(store, "trello"))

    return new


async def board_with_a_card(client: TrelloClient, workspace: dict[str, Any], run: Run) -> Any:
    """A board read once and given a card in "To Do" by one run; (board id, cursor)."""
    board = await client.create_board("Site", idOrganization=workspace["id"], defaultLists=False)
    first = run()
    await first.begin_cycle()
    feed = await first.read("card", None, Scope((board["id"],)))
    await first.create(
        "card", {"idBoard": board["id"], "list": "To Do", "name": "a"}, idempotency_key="a"
    )
    await first.aclose()  # the run ends: its lists are kept
    return board["id"], feed.cursor


async def card_in(run: Run, board_id: str, cursor: str | None, name: str, list_name: str) -> Any:
    """A later run: reads the board's feed from ``cursor``, then makes a card in a list."""
    later = run()
    await later.begin_cycle()
    feed = await later.read("card", cursor, Scope((board_id,)))
    card = await later.create(
        "card", {"idBoard": board_id, "list": list_name, "name": name}, idempotency_key=name
    )
    await later.aclose()
    return card, feed.cursor


async def open_list_named(client: TrelloClient, board_id: str, name: str) -> list[str]:
    lists = await client.get_board_lists(board_id, filter="open")
    return [lst["id"] for lst in lists if lst["name"] == name]


async def test_a_later_run_uses_the_lists_an_earlier_one_read(
    run: Run, client: TrelloClient, sandbox: Sandbox, workspace: dict[str, Any]
) -> None:
    board_id, cursor = await board_with_a_card(client, workspace, run)
    sandbox.reset()
    card, _ = await card_in(run, board_id, cursor, "b", "To Do")
    assert sandbox.count(LIST_READS) == 0
    assert card.fields["idList"] in await open_list_named(client, board_id, "To Do")


@pytest.mark.parametrize("change", ["renamed", "archived", "moved away"])
async def test_a_list_changed_since_is_read_again(
    change: str,
    run: Run,
    client: TrelloClient,
    sandbox: Sandbox,
    workspace: dict[str, Any],
) -> None:
    board_id, cursor = await board_with_a_card(client, workspace, run)
    [todo] = await open_list_named(client, board_id, "To Do")
    other = await client.create_board("Other", idOrganization=workspace["id"])
    await client.update_list(
        todo,
        **{
            "renamed": {"name": "Backlog"},
            "archived": {"closed": "true"},
            "moved away": {"idBoard": other["id"]},
        }[change],
    )
    sandbox.reset()
    card, _ = await card_in(run, board_id, cursor, "b", "To Do")
    assert sandbox.count(LIST_READS) >= 1  # the kept lists were dropped
    [new_todo] = await open_list_named(client, board_id, "To Do")
    assert new_todo != todo and card.fields["idList"] == new_todo


async def test_kept_lists_the_feed_cannot_vouch_for_are_not_used(
    run: Run,
    client: TrelloClient,
    sandbox: Sandbox,
    workspace: dict[str, Any],
    store: Store,
) -> None:
    """A run read past a list action but stopped before writing its memo: the lists kept
    from before that action are older than the cursor, so they are read again."""
    board_id, cursor = await board_with_a_card(client, workspace, run)
    kept = store.memo("trello")
    [todo] = await open_list_named(client, board_id, "To Do")
    await client.update_list(todo, name="Backlog")
    crashed = run()
    await crashed.begin_cycle()
    later_cursor = (await crashed.read("card", cursor, Scope((board_id,)))).cursor
    # (no aclose: the process died; and its memo is as it was before)
    SystemMemo(store, "trello").save(kept)
    sandbox.reset()
    card, _ = await card_in(run, board_id, later_cursor, "b", "To Do")
    assert sandbox.count(LIST_READS) >= 1
    [new_todo] = await open_list_named(client, board_id, "To Do")
    assert new_todo != todo and card.fields["idList"] == new_todo


async def test_a_run_that_reads_from_an_older_cursor_still_uses_them(
    run: Run, client: TrelloClient, sandbox: Sandbox, workspace: dict[str, Any]
) -> None:
    """A cursor left behind (its run stopped before committing) reads more of the feed,
    which still vouches for the lists."""
    board = await client.create_board("Site", idOrganization=workspace["id"], defaultLists=False)
    first = run()
    await first.begin_cycle()
    start = (await first.read("card", None, Scope((board["id"],)))).cursor
    await first.read("card", start, Scope((board["id"],)))  # its cursor was never stored
    await first.create(
        "card", {"idBoard": board["id"], "list": "To Do", "name": "a"}, idempotency_key="a"
    )
    await first.aclose()
    sandbox.reset()
    await card_in(run, board["id"], start, "b", "To Do")
    assert sandbox.count(LIST_READS) == 0


async def test_a_list_id_trello_refuses_is_read_again_once(
    system: TrelloSystem, client: TrelloClient, sandbox: Sandbox, workspace: dict[str, Any]
) -> None:
    """Lists cached before a person moved one to another board (after the cycle's feed
    read): the card is not moved with it to the other board."""
    board = await client.create_board("Site", idOrganization=workspace["id"], defaultLists=False)
    card = await system.create(
        "card", {"idBoard": board["id"], "list": "To Do", "name": "a"}, idempotency_key="a"
    )
    await system.create(
        "card", {"idBoard": board["id"], "list": "Doing", "name": "b"}, idempotency_key="b"
    )
    [doing] = await open_list_named(client, board["id"], "Doing")
    other = await client.create_board("Other", idOrganization=workspace["id"])
    await client.update_list(doing, idBoard=other["id"])
    sandbox.reset()
    moved = await system.update(
        "card", card.id, {"list": "Doing"}, known={"idBoard": board["id"], "list": "To Do"}
    )
    assert sandbox.count("PUT /1/cards/{id}") == 2  # refused once, then sent again
    assert sandbox.count(LIST_READS) == 1
    [new_doing] = await open_list_named(client, board["id"], "Doing")
    assert new_doing != doing
    assert moved.fields["idBoard"] == board["id"] and moved.fields["idList"] == new_doing
    assert (await client.get_card(card.id))["idList"] == new_doing


async def test_a_card_made_in_a_list_that_moved_away_meanwhile_stays_on_its_board(
    system: TrelloSystem, client: TrelloClient, workspace: dict[str, Any]
) -> None:
    """A create names no board Trello could check the list against: the card made on the
    other board is brought back to a list of its own."""
    board = await client.create_board("Site", idOrganization=workspace["id"], defaultLists=False)
    await system.create(
        "card", {"idBoard": board["id"], "list": "Doing", "name": "a"}, idempotency_key="a"
    )
    [doing] = await open_list_named(client, board["id"], "Doing")
    other = await client.create_board("Other", idOrganization=workspace["id"])
    await client.update_list(doing, idBoard=other["id"])
    made = await system.create(
        "card", {"idBoard": board["id"], "list": "Doing", "name": "b"}, idempotency_key="b"
    )
    [new_doing] = await open_list_named(client, board["id"], "Doing")
    card = await client.get_card(made.id)
    assert (card["idBoard"], card["idList"]) == (board["id"], new_doing)
    assert made.fields["idBoard"] == board["id"] and made.fields["list"] == "Doing"
    assert [c["name"] for c in await client.get_board_cards(other["id"])] == ["a"]
