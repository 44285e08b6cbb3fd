"""Fault injection and request counting shared by both sandboxes.

``SandboxControl`` is a pure ASGI middleware that wraps a sandbox app. It counts every
request (server side, so benchmarks and echo tests count what really arrived) and, when
told to, injects faults: added latency, a share of 5xx answers, dropped connections (before
or after the request took effect) and forced 429s. All faults are off by default. A request
answered inside another (Trello's ``/batch``) is not counted; of the faults, only the share of
5xx answers reaches it, in its own place in the answer (``inner_error``).

Knobs are set in-process (``app.state.control.faults.error_rate = 0.2``) or over HTTP:

    GET  /_sandbox/faults          the current knobs (see ``Faults``)
    PUT  /_sandbox/faults          JSON body with the knobs to change
    GET  /_sandbox/stats           request counts
    DELETE /_sandbox/stats         reset the counts

The ``/_sandbox`` paths need the sandbox's own credentials, as its API takes them (each
sandbox says how: ``authorized`` and ``credentials_hint``); without them they answer 401.
They are never counted, delayed or failed.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, Field

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A canned answer: (status, content type, body bytes).
Answer = tuple[int, str, bytes]
# Whether a request carries the sandbox's credentials: (headers, query parameters) -> bool.
Authorizer = Callable[[Mapping[str, str], Mapping[str, str]], bool]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Ids in a path (not a leading version segment like Trello's /1) become {id} in the counts.
_ID_IN_PATH = re.compile(r"(?<=.)/(?:[0-9a-fA-F]{24}|[0-9a-fA-F]{32,}|\d+|[0-9a-f-]{36})(?=/|$)")


class Faults(BaseModel):
    """Fault-injection knobs; every one is off by default."""

    latency_ms: float = Field(0.0, ge=0, description="added before a request acts")
    latency_after_ms: float = Field(
        0.0, ge=0, description="added after a request acted, before its answer is sent"
    )
    error_rate: float = Field(0.0, ge=0, le=1, description="share answered with error_status")
    error_status: int = Field(503, ge=500, le=599)
    drop_rate: float = Field(
        0.0, ge=0, le=1, description="share whose connection drops before the request acts"
    )
    drop_after_rate: float = Field(
        0.0, ge=0, le=1, description="share that acts, then loses its answer (connection drops)"
    )
    force_429: int = Field(0, ge=0, description="the next N requests are answered 429")
    methods: list[str] | None = Field(
        None, description="only requests with these methods are faulted (None: all)"
    )
    path_prefix: str | None = Field(None, description="only paths starting with this")
    seed: int | None = Field(None, description="seed for the random choices, for replays")

    def applies_to(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in {m.upper() for m in self.methods}:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


class Stats:
    """Thread-safe request counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.by_route: Counter[str] = Counter()
            self.requests = 0
            self.writes = 0
            self.status: Counter[int] = Counter()

    def count(self, method: str, path: str) -> None:
        route = f"{method} {_ID_IN_PATH.sub('/{id}', path)}"
        with self._lock:
            self.requests += 1
            if method in WRITE_METHODS:
                self.writes += 1
            self.by_route[route] += 1

    def answered(self, status: int) -> None:
        with self._lock:
            self.status[status] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "reads": self.requests - self.writes,
                "writes": self.writes,
                "by_route": dict(self.by_route),
                "by_status": {str(k): v for k, v in self.status.items()},
            }


class DroppedConnection(Exception):
    """Raised after the response started, so uvicorn closes the connection mid-answer."""


class SandboxControl:
    """ASGI middleware: counts requests and injects faults (see the module docstring).

    :param error_answer: builds the body of an injected 5xx in the system's own format
    :param rate_limit_answer: builds the system's own 429 answer
    :param authorized: whether a control request carries the sandbox's credentials
    :param credentials_hint: how to send them, for the 401 answer
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        error_answer: Callable[[int], Answer],
        rate_limit_answer: Callable[[], Answer],
        authorized: Authorizer,
        credentials_hint: str,
        prefix: str = "/_sandbox",
    ):
        self.app = app
        self.authorized = authorized
        self.credentials_hint = credentials_hint
        self.faults = Faults()
        self.stats = Stats()
        self.error_answer = error_answer
        self.rate_limit_answer = rate_limit_answer
        self.prefix = prefix
        self._random = random.Random()
        self._lock = threading.Lock()

    def set_faults(self, **knobs: Any) -> Faults:
        """Change some knobs (validated), keep the others; returns the new set."""
        merged = {**self.faults.model_dump(), **knobs}
        self.faults = Faults.model_validate(merged)
        if self.faults.seed is not None:
            self._random.seed(self.faults.seed)
        return self.faults

    def clear_faults(self) -> None:
        self.faults = Faults()

    def inner_error(self, method: str, path: str) -> int | None:
        """The 5xx status that a request answered inside another gets, or ``None``."""
        faults = self.faults
        if not faults.error_rate or not faults.applies_to(method, path):
            return None
        with self._lock:
            roll = self._random.random()
        return faults.error_status if roll < faults.error_rate else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(self.prefix):
            await self._control(scope, receive, send)
            return
        method: str = scope["method"]
        self.stats.count(method, path)
        faults = self.faults
        if not faults.applies_to(method, path):
            await self._call_counted(scope, receive, send)
            return
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        with self._lock:
            forced = self.faults.force_429 > 0
            if forced:
                self.faults.force_429 -= 1
            roll_drop = self._random.random()
            roll_error = self._random.random()
            roll_after = self._random.random()
        if forced:
            await self._answer(send, self.rate_limit_answer())
            return
        if roll_drop < faults.drop_rate:
            await self._drop(send)
        if roll_error < faults.error_rate:
            await self._answer(send, self.error_answer(faults.error_status))
            return
        if roll_after < faults.drop_after_rate:
            await self.app(scope, receive, _swallow)
            await self._drop(send)
        if faults.latency_after_ms:
            send = _delayed(send, faults.latency_after_ms / 1000)
        await self._call_counted(scope, receive, send)

    async def _call_counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.stats.answered(int(message["status"]))
            await send(message)

        await self.app(scope, receive, counting_send)

    async def _answer(self, send: Send, answer: Answer) -> None:
        status, content_type, body = answer
        self.stats.answered(status)
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 429:
            headers.append((b"retry-after", b"1"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _drop(self, send: Send) -> None:
        # Promise a body and never send it: uvicorn then closes the connection mid-answer,
        # which a client sees as a dropped connection.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1024")],
            }
        )
        raise DroppedConnection("sandbox fault: connection dropped")

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if not self.authorized(headers, query):
            message = (
                f"the sandbox's control routes ({self.prefix}/...) need its credentials: "
                f"{self.credentials_hint}"
            )
            await _json(send, 401, {"error": message})
            return
        sub = scope["path"][len(self.prefix) :].rstrip("/")
        method = scope["method"]
        if sub == "/faults" and method == "GET":
            body: Any = self.faults.model_dump()
        elif sub == "/faults" and method == "PUT":
            raw = await _read_body(receive)
            try:
                body = self.set_faults(**json.loads(raw or b"{}")).model_dump()
            except (ValueError, TypeError) as err:
                await _json(send, 400, {"error": f"bad fault knobs: {err}"})
                return
        elif sub == "/stats" and method == "GET":
            body = self.stats.snapshot()
        elif sub == "/stats" and method == "DELETE":
            self.stats.reset()
            body = self.stats.snapshot()
        else:
            await _json(send, 404, {"error": f"no sandbox control at {scope['path']}"})
            return
        await _json(send, 200, body)


async def _swallow(message: Message) -> None:
    return None


def _delayed(send: Send, seconds: float) -> Send:
    async def delayed_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(seconds)
        await send(message)

    return delayed_send


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _json(send: Send, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
