"""Trello's rate limits for the sandbox: per token, per key, and on ``/1/members/{id}``.

``RateLimitMiddleware(app, config)`` is a pure ASGI middleware. It finds the key and token of
each request (query string, ``Authorization: OAuth ...`` header, or a form/JSON body, which
it then replays to the app), counts the request in fixed windows and answers Trello's 429
when a limit is passed:

    per token   100 requests / 10 s      {"error":"API_TOKEN_LIMIT_EXCEEDED", ...}
    per key     300 requests / 10 s      {"error":"API_KEY_LIMIT_EXCEEDED", ...}
    members     100 requests / 900 s     {"error":"MEMBER_LIMIT_EXCEEDED", ...}
                per token, on GET/PUT/... ``/1/members/{idOrUsername}`` only: Trello's guide
                says nested routes such as ``/1/members/me/boards`` do not count
    escalation  more than 200 429s for one key in its window: every request of that key
                is refused until the window ends

A window opens with the first request of its token (or key) and lasts ``window_s``; this
makes "until the window ends" exact. Only admitted requests use up a budget; refused ones
count toward escalation. Normal answers carry ``x-rate-limit-api-token-*``,
``x-rate-limit-api-key-*`` (and on member routes ``x-rate-limit-member-*``) headers with
``-interval-ms``, ``-max`` and ``-remaining``. Time is monotonic seconds from an injectable
clock (the middleware's default: the clock of its event loop, so a test on a virtual-time
loop runs it on fake time). No ``Retry-After`` is sent: Trello does not
document one, so clients must cope without it (forced 429s from ``SandboxControl`` do carry
one). Requests without key and token pass uncounted (auth answers them 401). With
``config=None`` or ``enabled=False`` the middleware passes everything through untouched.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from pydantic import BaseModel, Field, field_validator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_LIMIT_ERROR = "API_TOKEN_LIMIT_EXCEEDED"
KEY_LIMIT_ERROR = "API_KEY_LIMIT_EXCEEDED"
MEMBER_LIMIT_ERROR = "MEMBER_LIMIT_EXCEEDED"

_OAUTH_PARAM = re.compile(r'(oauth_consumer_key|oauth_token)\s*=\s*"([^"]*)"')
_BODY_TYPES = ("application/x-www-form-urlencoded", "application/json")


class RateLimitConfig(BaseModel):
    """Trello's published limits; shrink them in tests, switch them off for benchmarks."""

    enabled: bool = True
    per_token: int = Field(100, ge=1, description="requests per token per window")
    per_key: int = Field(300, ge=1, description="requests per key (all its tokens) per window")
    window_s: float = Field(10.0, gt=0, description="length of the token and key windows")
    members_per_token: int = Field(100, ge=1, description="member-route requests per token")
    members_window_s: float = Field(900.0, gt=0, description="length of the members window")
    members_path_pattern: str = Field(
        r"^/1/members/[^/]+/?$",
        description="paths under the members limit (Trello: the member itself, not nested)",
    )
    escalation_429s: int = Field(
        200, ge=0, description="more 429s than this for one key in a window block the key"
    )

    @field_validator("members_path_pattern")
    @classmethod
    def _check_pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(f"not a valid regular expression: {err}") from None
        return value


@dataclass
class _Window:
    """A fixed window that opens at its first request."""

    length_s: float
    started: float = 0.0
    used: int = 0
    refused: int = 0
    blocked: bool = False

    def roll(self, now: float) -> None:
        if now - self.started >= self.length_s:
            self.started = now
            self.used = 0
            self.refused = 0
            self.blocked = False

    def reset_ms(self, now: float) -> int:
        return max(0, int((self.started + self.length_s - now) * 1000))


@dataclass(frozen=True)
class Decision:
    """The verdict on one request.

    :param refused: the 429 error code (e.g. ``API_TOKEN_LIMIT_EXCEEDED``), or None to admit
    :param headers: the ``x-rate-limit-*`` headers to add to the answer
    """

    refused: str | None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class RateLimiter:
    """The counting half of the middleware, usable on its own.

    :param config: the limits
    :param clock: monotonic seconds (injectable so callers can reason about windows)
    """

    def __init__(self, config: RateLimitConfig, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self._clock = clock
        self._members_path = re.compile(config.members_path_pattern)
        self._lock = threading.Lock()
        self._tokens: dict[str, _Window] = {}
        self._keys: dict[str, _Window] = {}
        self._members: dict[str, _Window] = {}
        self._last_sweep: float | None = None

    def reset(self) -> None:
        """Forget all counts (every window starts afresh)."""
        with self._lock:
            self._tokens.clear()
            self._keys.clear()
            self._members.clear()

    def is_member_route(self, path: str) -> bool:
        return bool(self._members_path.match(path))

    def check(self, key: str | None, token: str | None, path: str) -> Decision:
        """Count one request and decide whether it may pass."""
        cfg = self.config
        now = self._clock()
        with self._lock:
            self._sweep(now)
            key_w = self._window(self._keys, key, cfg.window_s, now)
            token_w = self._window(self._tokens, token, cfg.window_s, now)
            member_w = None
            if token is not None and self.is_member_route(path):
                member_w = self._window(self._members, token, cfg.members_window_s, now)

            refused: str | None = None
            if key_w is not None and (key_w.blocked or key_w.used >= cfg.per_key):
                refused = KEY_LIMIT_ERROR
            elif token_w is not None and token_w.used >= cfg.per_token:
                refused = TOKEN_LIMIT_ERROR
            elif member_w is not None and member_w.used >= cfg.members_per_token:
                refused = MEMBER_LIMIT_ERROR

            if refused is None:
                for window in (key_w, token_w, member_w):
                    if window is not None:
                        window.used += 1
            elif key_w is not None:
                key_w.refused += 1
                if key_w.refused > cfg.escalation_429s:
                    key_w.blocked = True

            headers: list[tuple[bytes, bytes]] = []
            if token_w is not None:
                headers += _headers("api-token", token_w, cfg.per_token)
            if key_w is not None:
                headers += _headers("api-key", key_w, cfg.per_key)
            if member_w is not None:
                headers += _headers("member", member_w, cfg.members_per_token)
            return Decision(refused, headers)

    def _window(
        self, table: dict[str, _Window], name: str | None, length_s: float, now: float
    ) -> _Window | None:
        if name is None:
            return None
        window = table.get(name)
        if window is None:
            window = table[name] = _Window(length_s, started=now)
        window.roll(now)
        return window

    def _sweep(self, now: float) -> None:
        # Drop expired windows now and then, so random tokens cannot grow memory forever.
        if self._last_sweep is None:
            self._last_sweep = now
        if now - self._last_sweep < max(self.config.window_s, 60.0):
            return
        self._last_sweep = now
        for table in (self._tokens, self._keys, self._members):
            for name in [n for n, w in table.items() if now - w.started >= w.length_s]:
                del table[name]


def _headers(kind: str, window: _Window, limit: int) -> list[tuple[bytes, bytes]]:
    prefix = f"x-rate-limit-{kind}-"
    return [
        ((prefix + "interval-ms").encode(), str(int(window.length_s * 1000)).encode()),
        ((prefix + "max").encode(), str(limit).encode()),
        ((prefix + "remaining").encode(), str(max(0, limit - window.used)).encode()),
    ]


def limit_body(error: str) -> bytes:
    """Trello's JSON body for a 429 with the given error code."""
    message = "Exceeded rate limit to /1/member" if error == MEMBER_LIMIT_ERROR else None
    return json.dumps({"error": error, "message": message or "Rate limit exceeded"}).encode()


class RateLimitMiddleware:
    """ASGI middleware applying ``RateLimiter`` to every credentialed HTTP request.

    :param app: the sandbox's ASGI app
    :param config: the limits; None (or ``enabled=False``) passes everything through
    :param clock: monotonic seconds; default: the clock of the event loop serving requests
    """

    def __init__(
        self,
        app: ASGIApp,
        config: RateLimitConfig | None = None,
        clock: Callable[[], float] | None = None,
    ):
        self.app = app
        self.config = config
        self.limiter = (
            RateLimiter(config, clock or _loop_time)
            if config is not None and config.enabled
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limiter is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key, token = credentials_in_scope(scope)
        if key is None and token is None and _may_carry_body_credentials(scope):
            body = await _read_body(receive)
            if body is None:
                return  # the client left mid-request; nobody is there to answer
            key, token = credentials_in_body(body, _content_type(scope))
            receive = _replay(body, receive)
        if key is None and token is None:
            await self.app(scope, receive, send)
            return

        decision = self.limiter.check(key, token, scope["path"])
        if decision.refused is not None:
            await _send_429(send, decision)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *decision.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def credentials_in_scope(scope: Scope) -> tuple[str | None, str | None]:
    """Key and token from the query string, else from the ``Authorization: OAuth`` header."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    key = _first(query.get("key"))
    token = _first(query.get("token"))
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            text = value.decode("latin-1")
            if text[:6].lower() == "oauth ":
                found = dict(_OAUTH_PARAM.findall(text))
                key = key or found.get("oauth_consumer_key") or None
                token = token or found.get("oauth_token") or None
    return key, token


def credentials_in_body(body: bytes, content_type: str) -> tuple[str | None, str | None]:
    """Key and token from a form-urlencoded or JSON body; (None, None) if not there."""
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return None, None
        if not isinstance(data, dict):
            return None, None
        key, token = data.get("key"), data.get("token")
        return (key if isinstance(key, str) and key else None), (
            token if isinstance(token, str) and token else None
        )
    form = parse_qs(body.decode("utf-8", errors="replace"))
    return _first(form.get("key")), _first(form.get("token"))


def _first(values: list[str] | None) -> str | None:
    return values[0] if values and values[0] else None


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-type":
            return value.decode("latin-1").lower()
    return ""


def _may_carry_body_credentials(scope: Scope) -> bool:
    if scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return False
    return _content_type(scope).startswith(_BODY_TYPES)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body; None when the client went away while sending it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the already-read body, then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_429(send: Send, decision: Decision) -> None:
    assert decision.refused is not None
    body = limit_body(decision.refused)
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *decision.headers,
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
