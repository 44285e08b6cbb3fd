"""The sandbox's fault knobs answer the way Trello does: plain-text 5xx, JSON 429."""

from __future__ import annotations

import httpx

from tests.fixtures.trello import oauth_header


def test_forced_429_is_trellos_json(api: httpx.Client, sandbox_app) -> None:
    sandbox_app.state.control.set_faults(force_429=1)
    reply = api.get("/members/me")
    assert reply.status_code == 429
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    assert reply.json() == {"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}
    assert api.get("/members/me").status_code == 200


def test_injected_errors_are_plain_text(api: httpx.Client, sandbox_app) -> None:
    sandbox_app.state.control.set_faults(error_rate=1.0, error_status=503)
    reply = api.get("/members/me")
    assert reply.status_code == 503
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    sandbox_app.state.control.clear_faults()
    assert api.get("/members/me").status_code == 200


def test_requests_are_counted(
    api: httpx.Client, sandbox_server, sandbox_app, trello_auth: dict[str, str]
) -> None:
    api.get("/members/me")
    api.post("/organizations", params={"displayName": "Counted"})
    auth = {"Authorization": trello_auth["authorization"]}
    stats = httpx.get(sandbox_server.url + "/_sandbox/stats", headers=auth).json()
    assert stats["reads"] == 1 and stats["writes"] == 1
    assert sandbox_app.state.world is sandbox_app.api.state.world


NEEDS_CREDENTIALS = (
    "the sandbox's control routes (/_sandbox/...) need its credentials: send its API key and "
    "a member's token as Trello takes them: "
    'Authorization: OAuth oauth_consumer_key="KEY", oauth_token="TOKEN" '
    "(or ?key=KEY&token=TOKEN)"
)


def test_control_routes_need_the_sandboxs_key_and_token(
    sandbox_server, sandbox_app, trello_auth: dict[str, str]
) -> None:
    control = sandbox_server.url + "/_sandbox"
    wrong_token = oauth_header(trello_auth["key"], "ATTA" + "0" * 60)
    for headers in ({}, {"Authorization": wrong_token}):
        for method, path in (("GET", "/stats"), ("PUT", "/faults"), ("DELETE", "/stats")):
            refused = httpx.request(method, control + path, headers=headers, json={"drop_rate": 1})
            assert refused.status_code == 401
            assert refused.json() == {"error": NEEDS_CREDENTIALS}
    assert sandbox_app.state.control.faults.drop_rate == 0  # nothing changed

    auth = {"Authorization": trello_auth["authorization"]}
    changed = httpx.put(control + "/faults", headers=auth, json={"latency_ms": 5})
    assert changed.status_code == 200 and changed.json()["latency_ms"] == 5
    assert sandbox_app.state.control.faults.latency_ms == 5
    # The query string works as on Trello's API.
    by_query = httpx.get(
        control + "/faults", params={"key": trello_auth["key"], "token": trello_auth["token"]}
    )
    assert by_query.status_code == 200 and by_query.json()["latency_ms"] == 5
