"""Workspaces: Trello's rules for name, displayName and website; membership lists; boards."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox_trello.conftest import ok


def _error(reply: httpx.Response) -> tuple[int, str]:
    assert reply.headers["content-type"].startswith("text/plain")
    return reply.status_code, reply.text


def test_create_makes_the_short_name_from_the_display_name(api: httpx.Client) -> None:
    org = ok(api.post("/organizations", data={"displayName": "Acme Corp!", "desc": "d"}))
    assert org["name"] == "acmecorp"
    assert org["displayName"] == "Acme Corp!"
    assert org["desc"] == "d"
    assert org["url"] == "https://trello.com/w/acmecorp"
    assert org["website"] is None
    assert ok(api.get(f"/organizations/{org['id']}")) == org
    assert ok(api.get("/organizations/acmecorp"))["id"] == org["id"]


def test_create_strips_invalid_characters_and_replaces_a_taken_name(api: httpx.Client) -> None:
    first = ok(api.post("/organizations", params={"displayName": "One", "name": "Team-A 1"}))
    assert first["name"] == "teama1"
    second = ok(api.post("/organizations", params={"displayName": "Two", "name": "teama1"}))
    assert second["name"] != "teama1"
    assert second["name"].startswith("teama1")
    short = ok(api.post("/organizations", params={"displayName": "Xy", "name": "a"}))
    assert len(short["name"]) >= 3
    assert all(c.isalnum() or c == "_" for c in short["name"])


@pytest.mark.parametrize("display_name", ["", " Leading", "Trailing "])
def test_display_name_is_required_without_edge_spaces(api: httpx.Client, display_name: str) -> None:
    reply = api.post("/organizations", params={"displayName": display_name})
    assert _error(reply) == (400, "invalid value for displayName")
    assert _error(api.post("/organizations", params={"desc": "x"})) == (
        400,
        "invalid value for displayName",
    )


def test_website_must_be_http_or_https(api: httpx.Client) -> None:
    org = ok(
        api.post("/organizations", params={"displayName": "W", "website": "https://acme.test"})
    )
    assert org["website"] == "https://acme.test"
    for bad in ("ftp://acme.test", "acme.test", "javascript:alert(1)"):
        reply = api.put(f"/organizations/{org['id']}", params={"website": bad})
        assert _error(reply) == (400, "invalid value for website")
    assert _error(api.post("/organizations", params={"displayName": "V", "website": "x"})) == (
        400,
        "invalid value for website",
    )
    cleared = ok(api.put(f"/organizations/{org['id']}", params={"website": "null"}))
    assert cleared["website"] is None
    again = ok(api.put(f"/organizations/{org['id']}", json={"website": "http://a.test"}))
    assert again["website"] == "http://a.test"
    assert ok(api.put(f"/organizations/{org['id']}", json={"website": None}))["website"] is None


def test_update_name_must_be_valid_and_free(api: httpx.Client) -> None:
    taken = ok(api.post("/organizations", params={"displayName": "Taken"}))
    org = ok(api.post("/organizations", params={"displayName": "Mine"}))
    renamed = ok(api.put(f"/organizations/{org['id']}", params={"name": "mine_2"}))
    assert renamed["name"] == "mine_2"
    assert _error(api.put(f"/organizations/{org['id']}", params={"name": "No Way"})) == (
        400,
        "invalid value for name",
    )
    assert _error(api.put(f"/organizations/{org['id']}", params={"name": "ab"})) == (
        400,
        "invalid value for name",
    )
    status, _ = _error(api.put(f"/organizations/{org['id']}", params={"name": taken["name"]}))
    assert status == 400
    assert ok(api.get(f"/organizations/{org['id']}"))["name"] == "mine_2"


def test_update_records_old_values(api: httpx.Client) -> None:
    org = ok(api.post("/organizations", params={"displayName": "Before", "desc": "one"}))
    updated = ok(
        api.put(f"/organizations/{org['id']}", json={"displayName": "After", "desc": "two"})
    )
    assert (updated["displayName"], updated["desc"]) == ("After", "two")
    assert updated["dateLastActivity"] is not None


def test_member_organizations_and_fields(api: httpx.Client) -> None:
    one = ok(api.post("/organizations", params={"displayName": "One"}))
    two = ok(api.post("/organizations", params={"displayName": "Two"}))
    mine = ok(api.get("/members/me/organizations"))
    assert [o["id"] for o in mine] == [one["id"], two["id"]]
    by_name = ok(api.get("/members/testuser/organizations", params={"fields": "displayName"}))
    assert by_name == [
        {"id": one["id"], "displayName": "One"},
        {"id": two["id"], "displayName": "Two"},
    ]
    assert ok(api.get("/members/me/organizations", params={"filter": "none"})) == []
    me = ok(api.get("/members/me", params={"fields": "username,idOrganizations"}))
    assert me == {
        "id": "5f0000000000000000000b01",
        "username": "testuser",
        "idOrganizations": [one["id"], two["id"]],
    }


def test_organization_boards_filter_and_fields(api: httpx.Client) -> None:
    org = ok(api.post("/organizations", params={"displayName": "Boards"}))
    open_board = ok(api.post("/boards", params={"name": "Open", "idOrganization": org["id"]}))
    closed = ok(api.post("/boards", params={"name": "Closed", "idOrganization": org["name"]}))
    ok(api.put(f"/boards/{closed['id']}", params={"closed": "true"}))
    ok(api.post("/boards", params={"name": "Elsewhere"}))
    every = ok(api.get(f"/organizations/{org['id']}/boards", params={"fields": "name,closed"}))
    assert every == [
        {"id": open_board["id"], "name": "Open", "closed": False},
        {"id": closed["id"], "name": "Closed", "closed": True},
    ]
    only_open = ok(api.get(f"/organizations/{org['id']}/boards", params={"filter": "open"}))
    assert [b["id"] for b in only_open] == [open_board["id"]]
    assert ok(api.get(f"/organizations/{org['id']}"))["idBoards"] == [
        open_board["id"],
        closed["id"],
    ]
    reply = api.get(f"/organizations/{org['id']}/boards", params={"filter": "weird"})
    assert _error(reply) == (400, "invalid value for filter")


def test_delete_organization_keeps_its_boards(api: httpx.Client) -> None:
    org = ok(api.post("/organizations", params={"displayName": "Gone"}))
    board = ok(api.post("/boards", params={"name": "Stays", "idOrganization": org["id"]}))
    assert ok(api.delete(f"/organizations/{org['id']}")) == {}
    assert _error(api.get(f"/organizations/{org['id']}"))[0] == 404
    assert ok(api.get(f"/boards/{board['id']}"))["idOrganization"] is None


def test_organization_actions_are_recorded(api: httpx.Client, sandbox_app) -> None:
    seen: list[dict] = []
    sandbox_app.state.world.add_action_listener(seen.append)
    org = ok(api.post("/organizations", params={"displayName": "Log"}))
    ok(api.put(f"/organizations/{org['id']}", params={"desc": "new"}))
    assert [a["type"] for a in seen] == ["createOrganization", "updateOrganization"]
    assert seen[0]["data"]["organization"] == {"id": org["id"], "name": "Log"}
    assert seen[1]["data"]["organization"]["desc"] == "new"
    assert seen[1]["data"]["old"] == {"desc": ""}


def test_organization_feed_has_its_boards_actions(api: httpx.Client) -> None:
    org = ok(api.post("/organizations", params={"displayName": "Feed"}))
    board = ok(api.post("/boards", params={"name": "In it", "idOrganization": org["id"]}))
    ok(api.post("/boards", params={"name": "Not in it"}))
    feed = ok(api.get(f"/organizations/{org['id']}/actions", params={"filter": "createBoard"}))
    assert [a["data"]["board"]["id"] for a in feed] == [board["id"]]
    everything = ok(api.get(f"/organizations/{org['id']}/actions"))
    assert everything[-1]["type"] == "createOrganization"
