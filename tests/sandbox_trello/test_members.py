"""Board members and memberships, members on cards, a member's cards, workspace members.

Extra people are seeded through the sandbox's configuration (``SandboxConfig.members``); a
person without a token is on boards and cards but never calls the API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.app import create_app
from pmbridge.sandbox.trello.config import MemberConfig
from tests.fixtures.trello import TRELLO_TEST_MEMBER_ID, make_test_config, oauth_header
from tests.sandbox_trello.conftest import ok

ALICE = "5f0000000000000000000a11"
BOB_TOKEN = "ATTAbob" + "b0b0b0b0" * 8 + "B0B0B0B0"


@pytest.fixture(scope="module")
def people_api() -> Iterator[httpx.Client]:
    config = make_test_config()
    config.members += [
        MemberConfig(id=ALICE, username="alice", full_name="Alice Smith"),
        MemberConfig(username="bob", full_name="Bob Jones", token=BOB_TOKEN),
    ]
    with (
        ServerThread(create_app(config)) as server,
        httpx.Client(
            base_url=server.url + "/1",
            headers={"Authorization": oauth_header(config.key, config.members[0].token or "")},
        ) as client,
    ):
        yield client


@pytest.fixture
def people_board(people_api: httpx.Client) -> dict:
    board = ok(people_api.post("/boards", params={"name": "People"}))
    lists = ok(people_api.get(f"/boards/{board['id']}/lists"))
    card = ok(people_api.post("/cards", params={"idList": lists[0]["id"], "name": "Task"}))
    return {**board, "card": card}


def _actions(api: httpx.Client, board: dict, types: str) -> list[dict]:
    return ok(api.get(f"/boards/{board['id']}/actions", params={"filter": types}))


def test_board_members_and_memberships(people_api: httpx.Client, people_board: dict) -> None:
    api, board = people_api, people_board
    assert ok(api.get(f"/boards/{board['id']}/members")) == [
        {"id": TRELLO_TEST_MEMBER_ID, "fullName": "Test User", "username": "testuser"}
    ]
    added = ok(api.put(f"/boards/{board['id']}/members/{ALICE}", params={"type": "normal"}))
    assert [m["username"] for m in added["members"]] == ["testuser", "alice"]
    memberships = ok(api.get(f"/boards/{board['id']}/memberships"))
    assert isinstance(memberships, list)
    assert [(m["idMember"], m["memberType"]) for m in memberships] == [
        (TRELLO_TEST_MEMBER_ID, "admin"), (ALICE, "normal"),
    ]  # fmt: skip
    assert all(len(m["id"]) == 24 and m["unconfirmed"] is False for m in memberships)
    with_member = ok(api.get(f"/boards/{board['id']}/memberships", params={"member": "true"}))
    assert with_member[1]["member"]["fullName"] == "Alice Smith"
    assert [
        m["username"]
        for m in ok(api.get(f"/boards/{board['id']}/members", params={"filter": "normal"}))
    ] == ["alice"]
    (action,) = _actions(api, board, "addMemberToBoard")
    assert action["data"]["idMemberAdded"] == ALICE and action["data"]["memberType"] == "normal"
    bad_type = api.put(f"/boards/{board['id']}/members/{ALICE}", params={"type": "boss"})
    assert (bad_type.status_code, bad_type.text) == (400, "invalid value for type")
    alone = api.delete(f"/boards/{board['id']}/members/{TRELLO_TEST_MEMBER_ID}")
    assert alone.status_code == 403
    removed = ok(api.delete(f"/boards/{board['id']}/members/{ALICE}"))
    assert [m["username"] for m in removed["members"]] == ["testuser"]


def test_members_on_cards(people_api: httpx.Client, people_board: dict) -> None:
    api, board, card = people_api, people_board, people_board["card"]
    not_on_board = api.post(f"/cards/{card['id']}/idMembers", params={"value": ALICE})
    assert (not_on_board.status_code, not_on_board.text) == (400, "invalid value for idMember")
    unknown = api.post(f"/cards/{card['id']}/idMembers", params={"value": "0" * 24})
    assert (unknown.status_code, unknown.text) == (400, "invalid value for value")
    ok(api.put(f"/boards/{board['id']}/members/{ALICE}", params={"type": "normal"}))

    assert ok(api.post(f"/cards/{card['id']}/idMembers", params={"value": ALICE})) == [
        {"id": ALICE, "fullName": "Alice Smith", "username": "alice"}
    ]
    twice = api.post(f"/cards/{card['id']}/idMembers", params={"value": ALICE})
    assert (twice.status_code, twice.text) == (400, "that member is already on the card")
    assert ok(api.get(f"/cards/{card['id']}"))["idMembers"] == [ALICE]
    assert [m["id"] for m in ok(api.get(f"/cards/{card['id']}/members"))] == [ALICE]
    (added,) = _actions(api, board, "addMemberToCard")
    assert added["data"]["idMember"] == ALICE
    assert added["data"]["member"] == {"id": ALICE, "name": "Alice Smith"}
    assert added["data"]["card"]["id"] == card["id"]

    assert [c["id"] for c in ok(api.get(f"/members/{ALICE}/cards"))] == [card["id"]]
    assert ok(api.get("/members/alice/cards", params={"filter": "closed"})) == []

    assert ok(api.delete(f"/cards/{card['id']}/idMembers/{ALICE}")) == []
    again = api.delete(f"/cards/{card['id']}/idMembers/{ALICE}")
    assert (again.status_code, again.text) == (400, "invalid value for idMember")
    (removed,) = _actions(api, board, "removeMemberFromCard")
    assert removed["data"]["idMember"] == ALICE

    # PUT /cards/{id} with idMembers: one action per member added or removed.
    both = f"{ALICE},{TRELLO_TEST_MEMBER_ID}"
    assert ok(api.put(f"/cards/{card['id']}", params={"idMembers": both}))["idMembers"] == [
        ALICE, TRELLO_TEST_MEMBER_ID,
    ]  # fmt: skip
    ok(api.put(f"/cards/{card['id']}", params={"idMembers": TRELLO_TEST_MEMBER_ID}))
    assert len(_actions(api, board, "addMemberToCard")) == 3
    assert len(_actions(api, board, "removeMemberFromCard")) == 2
    # Leaving the board takes a person off its cards.
    ok(api.put(f"/cards/{card['id']}", params={"idMembers": both}))
    ok(api.delete(f"/boards/{board['id']}/members/{ALICE}"))
    assert ok(api.get(f"/cards/{card['id']}"))["idMembers"] == [TRELLO_TEST_MEMBER_ID]


def test_workspace_members_and_notifications(people_api: httpx.Client) -> None:
    org = ok(people_api.post("/organizations", params={"displayName": "Team"}))
    assert [m["username"] for m in ok(people_api.get(f"/organizations/{org['id']}/members"))] == [
        "testuser"
    ]
    assert ok(people_api.get("/members/me/notifications")) == []


def test_seeded_people_exist_and_one_with_a_token_can_call(people_api: httpx.Client) -> None:
    key = make_test_config().key
    bob = people_api.get("/members/me", headers={"Authorization": oauth_header(key, BOB_TOKEN)})
    assert ok(bob)["username"] == "bob"
    assert ok(people_api.get("/members/alice"))["fullName"] == "Alice Smith"


def test_the_first_member_needs_a_token() -> None:
    with pytest.raises(ValueError, match="needs a token"):
        type(make_test_config())(members=[MemberConfig(username="nobody", full_name="No Body")])
