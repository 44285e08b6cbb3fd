"""The sandbox's fault knobs answer the way Trello does: plain-text 5xx, JSON 429."""

from __future__ import annotations

import httpx


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


def test_requests_are_counted(api: httpx.Client, sandbox_server, sandbox_app) -> None:
    api.get("/members/me")
    api.post("/organizations", params={"displayName": "Counted"})
    stats = httpx.get(sandbox_server.url + "/_sandbox/stats").json()
    assert stats["reads"] == 1 and stats["writes"] == 1
    assert sandbox_app.state.world is sandbox_app.api.state.world
