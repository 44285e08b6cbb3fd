"""``/1/tokens/{token}``: the token in the path is the credential, only the key goes with it."""

from __future__ import annotations

import httpx

from pmbridge.sandbox.server import ServerThread
from tests.fixtures.trello import TRELLO_TEST_MEMBER_ID
from tests.sandbox_trello.conftest import ok


def test_token_routes_need_only_the_key(
    sandbox_server: ServerThread, trello_auth: dict[str, str], board: dict
) -> None:
    key, token = trello_auth["key"], trello_auth["token"]
    with httpx.Client(base_url=sandbox_server.url + "/1", params={"key": key}) as keyed:
        about = ok(keyed.get(f"/tokens/{token}"))
        assert about["idMember"] == TRELLO_TEST_MEMBER_ID
        assert len(about["id"]) == 24 and about["dateCreated"].endswith("Z")
        assert about["dateExpires"] is None
        assert ok(keyed.get(f"/tokens/{token}/member"))["id"] == TRELLO_TEST_MEMBER_ID
        assert ok(keyed.get(f"/tokens/{token}/webhooks")) == []
        missing = keyed.get(f"/tokens/{token}/webhooks/{'0' * 24}")
        assert (missing.status_code, missing.text) == (404, "The requested resource was not found.")
        bad = keyed.get("/tokens/ATTAnotatoken/member")
        assert (bad.status_code, bad.text) == (401, "invalid token")
    with httpx.Client(base_url=sandbox_server.url + "/1") as keyless:
        refused = keyless.get(f"/tokens/{token}")
        assert (refused.status_code, refused.text) == (401, "invalid key")


def test_deleting_the_token_revokes_it(
    api: httpx.Client, sandbox_server: ServerThread, trello_auth: dict[str, str]
) -> None:
    token = trello_auth["token"]
    assert ok(api.delete(f"/tokens/{token}")) == {}
    gone = api.get("/members/me")
    assert (gone.status_code, gone.text) == (401, "invalid token")
