"""Key and token in the query, the OAuth header or the body; 401s as Trello words them."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.trello import oauth_header
from tests.sandbox_trello.conftest import ok


def test_query_string_credentials(anonymous: httpx.Client, trello_auth: dict) -> None:
    me = ok(
        anonymous.get(
            "/members/me", params={"key": trello_auth["key"], "token": trello_auth["token"]}
        )
    )
    assert me["username"] == "testuser"
    assert me["fullName"] == "Test User"


def test_oauth_header_credentials(anonymous: httpx.Client, trello_auth: dict) -> None:
    me = ok(anonymous.get("/members/me", headers={"Authorization": trello_auth["authorization"]}))
    assert me["id"] == "5f0000000000000000000b01"


def test_form_body_credentials(anonymous: httpx.Client, trello_auth: dict) -> None:
    org = ok(
        anonymous.post(
            "/organizations",
            data={"displayName": "Form", "key": trello_auth["key"], "token": trello_auth["token"]},
        )
    )
    assert org["displayName"] == "Form"


def test_json_body_credentials(anonymous: httpx.Client, trello_auth: dict) -> None:
    org = ok(
        anonymous.post(
            "/organizations",
            json={"displayName": "Json", "key": trello_auth["key"], "token": trello_auth["token"]},
        )
    )
    assert org["displayName"] == "Json"


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({}, "invalid key"),
        ({"token": "whatever"}, "invalid key"),
        ({"key": "ffffffffffffffffffffffffffffffff", "token": "x"}, "invalid key"),
        ({"key": "0123456789abcdef0123456789abcdef"}, "invalid token"),
        ({"key": "0123456789abcdef0123456789abcdef", "token": "ATTAnope"}, "invalid token"),
    ],
)
def test_bad_credentials_answer_401_in_plain_text(
    anonymous: httpx.Client, params: dict, body: str
) -> None:
    reply = anonymous.get("/members/me", params=params)
    assert reply.status_code == 401
    assert reply.headers["content-type"].startswith("text/plain")
    assert reply.text == body


def test_wrong_token_in_header(anonymous: httpx.Client, trello_auth: dict) -> None:
    reply = anonymous.get(
        "/boards/5f0000000000000000000000",
        headers={"Authorization": oauth_header(trello_auth["key"], "ATTAwrong")},
    )
    assert (reply.status_code, reply.text) == (401, "invalid token")


def test_writes_need_credentials_too(anonymous: httpx.Client) -> None:
    reply = anonymous.post("/organizations", data={"displayName": "Nobody"})
    assert (reply.status_code, reply.text) == (401, "invalid key")


def test_the_token_acts_as_its_member(sandbox_server, sandbox_app, trello_config) -> None:
    """A second member's token creates actions in that member's name."""
    world = sandbox_app.state.world
    world.add_member("ann", "Ann Lee", "ann-token")
    with httpx.Client(
        base_url=sandbox_server.url + "/1",
        headers={"Authorization": oauth_header(trello_config.key, "ann-token")},
    ) as ann:
        assert ok(ann.get("/members/me"))["username"] == "ann"
        org = ok(ann.post("/organizations", params={"displayName": "Ann's"}))
        board = ok(ann.post("/boards", params={"name": "B", "idOrganization": org["id"]}))
        actions = ok(ann.get(f"/boards/{board['id']}/actions", params={"filter": "createBoard"}))
    assert actions[0]["memberCreator"]["username"] == "ann"
    assert actions[0]["memberCreator"]["fullName"] == "Ann Lee"
    assert actions[0]["idMemberCreator"] == actions[0]["memberCreator"]["id"]
