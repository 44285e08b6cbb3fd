"""Who gets in: a session for every page, a CSRF token for every action, the cookie's
flags, loopback only without a password, and no secret in any page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.bridge import Bridge, seed
from tests.ui.conftest import PASSWORD, Site, serve_dashboard

PAGES = ("/ui/", "/ui/conflicts", "/ui/dead-letters", "/ui/links", "/ui/runs/1")


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def make_conflict(bridge: Bridge) -> int:
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    card = bridge.trello.cards(bridge.only_board()["id"])[0]
    bridge.pms.update("tasks", data["tasks"][0]["id"], title="From PMS")
    time.sleep(0.05)
    bridge.trello.call("PUT", f"/cards/{card['id']}", name="From Trello")
    bridge.sync()
    with bridge.store() as store:
        [conflict] = store.conflicts()
    assert conflict.id is not None
    return conflict.id


def test_every_page_sends_a_visitor_without_a_session_to_sign_in(site: Site):
    site.bridge.sync()
    with site.client() as client:
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/ui/login?next=/ui/")


def test_actions_are_refused_without_a_session_or_without_the_csrf_token(site: Site):
    conflict_id = make_conflict(site.bridge)
    action = f"/ui/conflicts/{conflict_id}/resolve"
    with site.client() as stranger:
        answer = stranger.post(action, data={"take": "custompms", "csrf_token": "x"})
        assert answer.status_code == 401
        assert "not signed in" in answer.text
    with site.signed_in() as client:
        page = client.get("/ui/conflicts").text
        seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)
        answer = client.post(action, data={"take": "custompms", "seen": seen})
        assert answer.status_code == 403
        assert "carries no CSRF token" in answer.text
        answer = client.post(action, data={"take": "custompms", "seen": seen, "csrf_token": "x"})
        assert answer.status_code == 403
        # Nothing was written: the conflict still waits, Trello's value still stands.
        with site.bridge.store() as store:
            assert store.get_conflict(conflict_id).status == "resolved_by_policy"
        card = site.bridge.trello.cards(site.bridge.only_board()["id"])[0]
        assert card["name"] == "From Trello"
        # With the token, the same form goes through.
        answer = client.post(
            action, data={"take": "custompms", "seen": seen, "csrf_token": csrf_of(page)}
        )
        assert answer.status_code == 303 and "notice=" in answer.headers["location"]
        # A second click on the old page is refused as stale, not written again.
        answer = client.post(
            action, data={"take": "trello", "seen": seen, "csrf_token": csrf_of(page)}
        )
        assert "already resolved" in httpx.URL(answer.headers["location"]).params["error"]
    card = site.bridge.trello.cards(site.bridge.only_board()["id"])[0]
    assert card["name"] == "From PMS"


def test_the_session_cookie_is_httponly_strict_and_secure_behind_https(site: Site):
    with site.client() as client:
        answer = client.post("/ui/login", data={"password": PASSWORD})
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
        assert "Secure" not in cookie
        answer = client.post(
            "/ui/login", data={"password": PASSWORD}, headers={"X-Forwarded-Proto": "https"}
        )
        assert "Secure" in answer.headers["set-cookie"]
        answer = client.post("/ui/login", data={"password": "wrong"})
        assert answer.status_code == 401 and "set-cookie" not in answer.headers


def test_signing_in_never_sends_the_browser_to_another_site(site: Site):
    with site.client() as client:
        for target in ("https://evil.example/", "//evil.example/ui/", "/elsewhere"):
            answer = client.post("/ui/login", data={"password": PASSWORD, "next": target})
            assert answer.headers["location"] == "/ui/"


def test_signing_out_ends_the_session(site: Site):
    with site.signed_in() as client:
        token = csrf_of(client.get("/ui/").text)
        assert client.post("/ui/logout", data={"csrf_token": token}).status_code == 303
        assert client.get("/ui/").status_code == 303


def test_no_secret_appears_in_any_page(site: Site):
    make_conflict(site.bridge)
    settings = site.bridge.settings
    secrets = [
        PASSWORD,
        settings.trello_key.get_secret_value(),
        settings.trello_token.get_secret_value(),
        settings.custompms_token.get_secret_value(),
    ]
    with site.signed_in() as client:
        for path in PAGES:
            text = client.get(path).text
            for secret in secrets:
                assert secret not in text, path


@pytest.fixture
def open_site(bridge: Bridge) -> Iterator[Site]:
    """The dashboard without a password."""
    yield from serve_dashboard(bridge, None)


def test_without_a_password_it_answers_only_for_localhost_and_says_so(open_site: Site):
    with open_site.client() as client:
        answer = client.get("/ui/login?next=/ui/links")
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/links"
        page = client.get("/ui/links")
        assert page.status_code == 200
        assert "No dashboard password is set (PMBRIDGE_UI_PASSWORD)" in page.text
        # A page asked for under another name (DNS rebinding, a proxy) is refused.
        answer = client.get("/ui/links", headers={"Host": "sync.example.com"})
        assert answer.status_code == 403
        assert "answers only on a loopback address" in answer.text
        # Actions still need the session's CSRF token.
        assert client.post("/ui/dead-letters/1/dismiss").status_code == 403
