"""Who may use the dashboard: the password check, sessions, and their cookie.

The password (``PMBRIDGE_UI_PASSWORD``) is kept only as a salted scrypt hash and compared in
constant time. A login makes a session: a random id in an ``HttpOnly``, ``SameSite=Strict``
cookie (``Secure`` when the request came over HTTPS), with its own CSRF token. Without a
password the dashboard is open, but only on a loopback address and only to requests naming a
loopback host (so another site cannot reach it through DNS rebinding); a session is still
made on the first visit, so every action form carries a CSRF token all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

COOKIE = "pmbridge_session"
SESSION_S = 12 * 3600
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Password:
    """A password kept as a salted scrypt hash; ``matches`` compares in constant time."""

    def __init__(self, password: str):
        if not password:
            raise ValueError("the dashboard password is empty")
        self._salt = secrets.token_bytes(16)
        self._hash = self._derive(password)

    def _derive(self, password: str) -> bytes:
        return hashlib.scrypt(password.encode(), salt=self._salt, n=2**14, r=8, p=1, dklen=32)

    def matches(self, attempt: str) -> bool:
        return hmac.compare_digest(self._hash, self._derive(attempt))

    def __repr__(self) -> str:
        return "Password(***)"


@dataclass
class Session:
    """A signed-in browser: its CSRF token and when it expires (monotonic seconds)."""

    csrf_token: str
    expires: float


class Access:
    """The dashboard's gate: the password (None: loopback only) and the open sessions.

    :param password: the login password, or None for an open, loopback-only dashboard
    :param clock: monotonic seconds (tests pass a fake one)
    """

    def __init__(self, password: str | None, *, clock: Callable[[], float] = time.monotonic):
        self.password = Password(password) if password else None
        self._sessions: dict[str, Session] = {}
        self._clock = clock

    @property
    def open(self) -> bool:
        """No password: anyone on this machine may use the dashboard."""
        return self.password is None

    def check_password(self, attempt: str) -> bool:
        return self.password is not None and self.password.matches(attempt)

    def start_session(self) -> tuple[str, Session]:
        self._forget_expired()
        session_id = secrets.token_urlsafe(32)
        session = Session(secrets.token_urlsafe(32), self._clock() + SESSION_S)
        self._sessions[session_id] = session
        return session_id, session

    def session_of(self, request: Request) -> Session | None:
        """The request's live session, or None."""
        session_id = request.cookies.get(COOKIE)
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None or session.expires < self._clock():
            self._sessions.pop(session_id, None)
            return None
        return session

    def end_session(self, request: Request) -> None:
        self._sessions.pop(request.cookies.get(COOKIE, ""), None)

    def refusal(self, request: Request) -> str | None:
        """Why this request may not see an open dashboard at all (None: it may)."""
        if not self.open:
            return None
        client = request.client.host if request.client else ""
        if not is_loopback(client) or not is_loopback(request.url.hostname or ""):
            return (
                "no dashboard password is set (PMBRIDGE_UI_PASSWORD), so the dashboard "
                "answers only on a loopback address, to requests for localhost"
            )
        return None

    def _forget_expired(self) -> None:
        now = self._clock()
        for session_id in [k for k, s in self._sessions.items() if s.expires < now]:
            del self._sessions[session_id]


def cookie_is_secure(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (directly or through a proxy)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"
