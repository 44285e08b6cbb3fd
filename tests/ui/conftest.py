"""The dashboard's test bench: both sandboxes and a store (the engine's ``bridge``), the
dashboard served over HTTP on 127.0.0.1 as ``pmbridge ui`` serves it, and one Chromium
for the whole session (Playwright's own, else the system's ``chromium``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr

from pmbridge.config import Settings
from pmbridge.sandbox.server import ServerThread
from pmbridge.serve.ui import build_dashboard, create_ui_app
from pmbridge.store import open_store
from pmbridge.wiring import load_flow_file
from tests.fixtures.bridge import Bridge
from tests.fixtures.database import empty_database_url

T = TypeVar("T")
PASSWORD = "correct horse battery staple"
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with empty_database_url("sqlite", tmp_path) as url:
        yield url


@dataclass
class Site:
    url: str
    bridge: Bridge
    password: str | None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False)

    @contextmanager
    def signed_in(self) -> Iterator[httpx.Client]:
        """An HTTP client with a session, as a browser has after signing in."""
        with self.client() as client:
            answer = client.post("/ui/login", data={"password": self.password or ""})
            assert answer.status_code == 303, answer.text
            yield client


def serve_dashboard(bridge: Bridge, password: str | None) -> Iterator[Site]:
    settings = bridge.settings.model_copy(
        update={"ui_password": SecretStr(password) if password else None}
    )
    yield from serve_dashboard_with(bridge, settings)


def serve_dashboard_with(bridge: Bridge, settings: Settings) -> Iterator[Site]:
    """The dashboard of ``settings``' store, served on 127.0.0.1 as ``pmbridge ui`` does."""
    password = settings.ui_password.get_secret_value() if settings.ui_password else None
    store = open_store(settings.database_url)
    dashboard = build_dashboard(settings, store, load_flow_file(settings))
    try:
        with ServerThread(create_ui_app(dashboard)) as server:
            yield Site(server.url, bridge, password)
    finally:
        store.close()


@pytest.fixture
def site(bridge: Bridge) -> Iterator[Site]:
    """The dashboard of ``bridge``'s store, with a password."""
    yield from serve_dashboard(bridge, PASSWORD)


def _chromium_path(playwright: Any) -> str | None:
    """Playwright's own Chromium when installed, else the system's (Debian's ``chromium``)."""
    chosen = os.environ.get("PMBRIDGE_CHROMIUM")
    if chosen:
        return chosen
    if Path(playwright.chromium.executable_path).exists():
        return None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Module, not session: Playwright's sync API keeps an
    event loop running in the main thread while it is open, which other modules'
    ``asyncio.run`` would trip over."""
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        path = _chromium_path(playwright)
        try:
            chromium = playwright.chromium.launch(executable_path=path)
        except Error as err:
            pytest.fail(
                "no Chromium for the browser tests: run `.venv/bin/python -m playwright "
                f"install --with-deps chromium` or install Debian's chromium ({err})"
            )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``function`` in a worker thread (Playwright's loop holds the main one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def screenshot(tab: Any, name: str) -> None:
    """Save the page into docs/ for the README when PMBRIDGE_SCREENSHOTS=1."""
    if os.environ.get("PMBRIDGE_SCREENSHOTS") == "1":
        tab.screenshot(path=str(DOCS / f"dashboard-{name}.png"), full_page=True)
