"""The shared fixtures other test directories use keep their promises."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox_trello.conftest import ok


@pytest.mark.parametrize("round_", [1, 2])
def test_trello_server_serves_a_fresh_world(trello_server, trello_app, trello_auth, round_) -> None:
    assert trello_app.state.world.organizations == {}
    headers = {"Authorization": trello_auth["authorization"]}
    me = ok(httpx.get(trello_server.url + "/1/members/me", headers=headers))
    assert me["username"] == "testuser"
    params = {"displayName": f"Round {round_}"}
    ok(httpx.post(trello_server.url + "/1/organizations", headers=headers, params=params))
    assert len(trello_app.state.world.organizations) == 1
    assert trello_app.state.config.rate_limits is None
    assert trello_auth["authorization"] == (
        f'OAuth oauth_consumer_key="{trello_auth["key"]}", oauth_token="{trello_auth["token"]}"'
    )
