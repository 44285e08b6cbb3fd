"""``pmbridge serve``: sync continuously, with Trello webhooks and Custompms notifications as
hints (DESIGN.md §4).

A ``Service`` keeps one engine (one client and rate budget per system) for its whole life and
runs a cycle every ``interval_s`` seconds. Given a public URL it also serves a receiver
(``create_receiver``) at ``/hooks/trello`` and ``/hooks/custompms``, registers a Trello
webhook per linked board and a Custompms subscription pointing there, and runs a prompt
cycle after valid deliveries: the deliveries of ``once_per_s`` seconds after the first one
make one cycle, and cycles never overlap. Deliveries can be missed, so the periodic cycle
always runs as well. A cycle stopped by an unreachable or rate-limiting system is tried
again with exponential backoff; one stopped by refused credentials ends the service
(``Service.failure``). Stopping finishes the current cycle, deletes the webhooks and the
subscription, and closes everything.

Signatures: Trello's ``X-Trello-Webhook`` is base64(HMAC-SHA1(app secret, raw body +
callback URL)); Custompms' ``X-Custompms-Signature`` is ``sha256=<hex HMAC-SHA256(secret, raw
body)>`` with a secret made at random for each run. Both are compared in constant time; a
delivery that does not verify is answered 401 and changes nothing. A delivered Trello comment
edit or deletion makes the next cycle a full one, since board feeds never show those.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from pmbridge.config import Settings
from pmbridge.engine.cycle import CycleStopped, SyncOptions
from pmbridge.engine.report import CycleReport
from pmbridge.errors import (
    AuthenticationError,
    ConfigError,
    NotFoundError,
    PmbridgeError,
    RemoteSystemError,
    UnavailableError,
)
from pmbridge.systems.custompms.problems import error_for
from pmbridge.systems.trello import TrelloClient, TrelloLimits
from pmbridge.wiring import Runtime, open_engine

__all__ = [
    "CUSTOMPMS_PATH",
    "CUSTOMPMS_SIGNATURE_HEADER",
    "DEFAULT_LISTEN",
    "TRELLO_PATH",
    "TRELLO_SIGNATURE_HEADER",
    "BoardWebhooks",
    "Hint",
    "Service",
    "create_receiver",
    "custompms_signature",
    "public_url_of",
    "summary_line",
    "trello_signature",
    "verify_custompms_signature",
    "verify_trello_signature",
]

log = logging.getLogger("pmbridge.serve")

TRELLO_PATH = "/hooks/trello"
CUSTOMPMS_PATH = "/hooks/custompms"
TRELLO_SIGNATURE_HEADER = "X-Trello-Webhook"
CUSTOMPMS_SIGNATURE_HEADER = "X-Custompms-Signature"
DEFAULT_LISTEN = ("127.0.0.1", 8770)
WEBHOOK_DESCRIPTION = "pmbridge serve"
MAX_BODY = 1 << 20  # deliveries are a few kB; refuse anything absurd unread
# Trello actions the incremental cycle cannot see (board feeds leave them out, TRELLO_API.md
# §6-§7): a delivery of one of them makes the next cycle a full one, which re-reads comments.
FEEDLESS_ACTIONS = frozenset({"updateComment", "deleteComment"})


# --- signatures ------------------------------------------------------------------------------


def trello_signature(secret: str, body: bytes, callback_url: str) -> str:
    """The ``X-Trello-Webhook`` value of ``body`` delivered to ``callback_url``."""
    digest = hmac.new(secret.encode(), body + callback_url.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_trello_signature(
    secret: str, body: bytes, callback_url: str, signature: str | None
) -> bool:
    """Whether ``signature`` signs the raw ``body`` for ``callback_url`` (constant time)."""
    if not signature:
        return False
    expected = trello_signature(secret, body, callback_url).encode()
    return hmac.compare_digest(expected, signature.strip().encode())


def custompms_signature(secret: str, body: bytes) -> str:
    """The ``X-Custompms-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_custompms_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` (the header value) signs ``body`` (constant time)."""
    if not signature:
        return False
    return hmac.compare_digest(custompms_signature(secret, body).encode(), signature.encode())


# --- the receiver ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    """A valid delivery: something changed on ``source``.

    :param source: "trello" or "custompms"
    :param what: what changed, for the log (an action type, a resource)
    :param full: the change is one an incremental cycle cannot see
    """

    source: str
    what: str
    full: bool = False


class _TrelloAction(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str


class _TrelloDelivery(BaseModel):
    model_config = ConfigDict(extra="allow")
    action: _TrelloAction


class _Notification(BaseModel):
    model_config = ConfigDict(extra="allow")
    resource: str
    id: str | int
    deleted: bool = False


def create_receiver(
    on_hint: Callable[[Hint], None],
    *,
    trello_secret: str | None = None,
    trello_callback_url: str | None = None,
    custompms_secret: str | None = None,
) -> FastAPI:
    """The app that takes deliveries and calls ``on_hint`` for each one that verifies.

    ``/hooks/trello`` (HEAD, POST) is served when ``trello_secret`` and the registered
    ``trello_callback_url`` are given; ``/hooks/custompms`` (POST) when ``custompms_secret``
    is.
    """
    app = FastAPI(title="pmbridge receiver", docs_url=None, redoc_url=None, openapi_url=None)

    if trello_secret and trello_callback_url:

        @app.head(TRELLO_PATH)
        async def trello_check() -> Response:
            # Trello checks the callback with HEAD before it creates a webhook.
            return Response(status_code=200)

        @app.post(TRELLO_PATH)
        async def trello_delivery(request: Request) -> Response:
            body = await _body(request)
            if body is None:
                return _refuse(413, "the body is too large")
            signature = request.headers.get(TRELLO_SIGNATURE_HEADER)
            if not verify_trello_signature(trello_secret, body, trello_callback_url, signature):
                return _refuse(401, f"missing or wrong {TRELLO_SIGNATURE_HEADER} signature")
            try:
                delivery = _TrelloDelivery.model_validate_json(body)
            except ValidationError:
                return _refuse(400, "not a Trello webhook delivery ({action, model, webhook})")
            kind = delivery.action.type
            on_hint(Hint("trello", kind, full=kind in FEEDLESS_ACTIONS))
            return Response(status_code=200)

    if custompms_secret:

        @app.post(CUSTOMPMS_PATH)
        async def custompms_notification(request: Request) -> Response:
            body = await _body(request)
            if body is None:
                return _refuse(413, "the body is too large")
            signature = request.headers.get(CUSTOMPMS_SIGNATURE_HEADER)
            if not verify_custompms_signature(custompms_secret, body, signature):
                return _refuse(401, f"missing or wrong {CUSTOMPMS_SIGNATURE_HEADER} signature")
            try:
                note = _Notification.model_validate_json(body)
            except ValidationError:
                return _refuse(400, "not a Custompms notification ({resource, id, version})")
            on_hint(Hint("custompms", note.resource))
            return Response(status_code=204)

    return app


async def _body(request: Request) -> bytes | None:
    """The raw body, or None when it is larger than ``MAX_BODY``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def _refuse(status: int, detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status)


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handlers: the service decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({err.strerror or err}); choose another "
            "address with --listen HOST:PORT"
        ) from None
    return sock


def public_url_of(text: str) -> str:
    """``text`` checked as the public base URL of the receiver, without a trailing slash.

    The receiver serves ``/hooks/...`` at its root: a proxy in front of a public URL with a
    path (``https://example.com/pmbridge``) must strip that path.
    """
    try:
        url = httpx.URL(text.strip())
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"the public URL {text!r} is not an http(s) URL with a host, e.g. "
            "https://pmbridge.example.com (Trello and Custompms must reach it)"
        )
    if url.query or url.fragment or url.userinfo:
        raise ConfigError(
            "the public URL must not have a query, a fragment or a user name/password: "
            "pmbridge adds /hooks/trello and /hooks/custompms to it"
        )
    return str(url).rstrip("/")


# --- what points at the receiver ----------------------------------------------------------


class BoardWebhooks:
    """The Trello webhooks of this run: one per linked board, all at one callback URL.

    Trello cannot list a token's webhooks without the token in the URL, so the ids are kept
    in memory; a board whose webhook already exists (from a run that did not shut down
    cleanly) counts as registered, without an id to delete.
    """

    def __init__(self, client: TrelloClient, callback_url: str):
        self.client = client
        self.callback_url = callback_url
        self.ids: dict[str, str | None] = {}  # board id → webhook id (None: made earlier)
        self.refused: dict[str, str] = {}  # board id → why Trello refused it for good

    async def track(self, boards: set[str], warn: Callable[[str], None]) -> None:
        """Register webhooks for new ``boards`` and delete those of boards no longer given.

        Raises ``AuthenticationError``; other failures are passed to ``warn`` and the board
        is tried again next time (unless Trello refused the board itself).
        """
        for board in sorted(boards - self.ids.keys() - self.refused.keys()):
            try:
                hook = await self.client.create_webhook(
                    self.callback_url, board, description=WEBHOOK_DESCRIPTION
                )
            except AuthenticationError:
                raise
            except RemoteSystemError as err:
                if err.status == 400 and "already exists" in str(err):
                    self.ids[board] = None
                    continue
                if getattr(err, "retryable", False):
                    warn(f"no Trello webhook for board {board} yet, tried again later: {err}")
                    break  # Trello is unwell: the other boards can wait as well
                if "did not return 200" in str(err):
                    warn(
                        f"Trello cannot reach {self.callback_url} ({err}): check that the "
                        "public URL leads to this receiver; tried again after each cycle"
                    )
                    continue
                self.refused[board] = str(err)
                warn(
                    f"Trello refused a webhook for board {board}, so its changes wait for "
                    f"the periodic cycle: {err}"
                )
                continue
            self.ids[board] = str(hook["id"])
            log.info("Trello webhook %s registered for board %s", hook["id"], board)
        for board in sorted(self.ids.keys() - boards):
            await self._delete(board, warn)

    async def remove_all(self, warn: Callable[[str], None]) -> int:
        """Delete every webhook this run made; return how many were deleted."""
        made = [board for board, hook in self.ids.items() if hook is not None]
        deleted = 0
        for board in made:
            deleted += await self._delete(board, warn)
        return deleted

    async def _delete(self, board: str, warn: Callable[[str], None]) -> bool:
        hook = self.ids.pop(board)
        if hook is None:
            return False
        try:
            await self.client.delete_webhook(hook)
        except NotFoundError:
            return False  # Trello deletes the webhooks of deleted boards by itself
        except RemoteSystemError as err:
            warn(f"could not delete Trello webhook {hook} of board {board}: {err}")
            return False
        return True


class CustompmsSubscription:
    """A Custompms subscription (``POST /subscriptions``) made for this run.

    :param base_url: the Custompms API root
    :param token: its bearer token (sent only in the Authorization header)
    """

    def __init__(self, base_url: str, token: str, *, http: httpx.AsyncClient):
        self.base_url = base_url.rstrip("/")
        self.host = httpx.URL(base_url).host
        self._token = token
        self._http = http
        self.id: str | None = None

    async def subscribe(self, url: str, secret: str) -> str:
        """Register ``url`` for notifications signed with ``secret``; return the id."""
        body = await self._request("POST", "/subscriptions", {"url": url, "secret": secret})
        if not isinstance(body, dict) or body.get("id") in (None, ""):
            raise RemoteSystemError(
                f"Custompms at {self.host} answered POST /subscriptions without an id: check "
                "that the Custompms URL is the API root",
                system="custompms",
            )
        self.id = str(body["id"])
        return self.id

    async def unsubscribe(self) -> bool:
        """Remove the subscription; False when there was none (or it was gone already)."""
        if self.id is None:
            return False
        subscription, self.id = self.id, None
        path = f"/subscriptions/{quote(subscription, safe='')}"
        try:
            await self._request("DELETE", path)
        except NotFoundError:
            return False
        return True

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        action = f"{method} /subscriptions" + ("/{id}" if path.count("/") > 1 else "")
        try:
            response = await self._http.request(
                method,
                self.base_url + path,
                json=body,
                headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            )
        except httpx.TransportError as err:
            raise UnavailableError(
                f"Could not reach Custompms at {self.host} for {action} ({type(err).__name__}): "
                "check that it is running and that the Custompms URL is right",
                system="custompms",
            ) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise UnavailableError(
                f"Custompms at {self.host} answered {response.status_code} to {action}",
                system="custompms",
                status=response.status_code,
            )
        if not response.is_success:
            raise error_for(response, action=action, what="subscription", token=self._token)
        try:
            return response.json() if response.content else None
        except ValueError:
            raise RemoteSystemError(
                f"Custompms at {self.host} answered {action} with something that is not JSON: "
                "check that the Custompms URL is the API root",
                system="custompms",
            ) from None


# --- the service -----------------------------------------------------------------------------


class _Stopping(Exception):
    """Raised out of a backoff pause when the service is asked to stop."""


def _transient(err: BaseException) -> bool:
    cause = err.cause if isinstance(err, CycleStopped) else err
    return bool(getattr(cause, "retryable", False))


class Service:
    """Continuous sync between Custompms and Trello; see the module docstring.

    :param settings: the settings (``trello_secret`` is required with ``public_url``)
    :param public_url: where Trello and Custompms reach the receiver; None: only poll
    :param listen: the receiver's address (host, port)
    :param sock: an already bound socket to serve on instead of ``listen`` (tests bind port 0)
    :param interval_s: seconds between periodic cycles (default ``settings.interval_s``)
    :param once_per_s: deliveries within this many seconds of the first make one cycle
    :param backoff_s: the first wait before trying a stopped cycle again (then doubling,
        up to ``interval_s``)
    :param runtime: an open engine to use (not closed here); default: one from ``settings``
    :param trello_limits: the Trello rate budget of the engine this service opens
    """

    def __init__(
        self,
        settings: Settings,
        *,
        public_url: str | None = None,
        listen: tuple[str, int] = DEFAULT_LISTEN,
        sock: socket.socket | None = None,
        interval_s: float | None = None,
        once_per_s: float = 1.0,
        backoff_s: float = 1.0,
        runtime: Runtime | None = None,
        trello_limits: TrelloLimits | None = None,
    ):
        self.settings = settings
        self.public_url = public_url_of(public_url) if public_url is not None else None
        needed = ["trello_key", "trello_token", "custompms_url", "custompms_token"]
        settings.require(*needed, *(["trello_secret"] if self.public_url else []))
        self.interval_s = float(interval_s if interval_s is not None else settings.interval_s)
        if self.interval_s <= 0 or once_per_s < 0 or backoff_s <= 0:
            raise ConfigError("the interval and backoff must be positive, once-per not negative")
        self.listen = listen
        self.once_per_s = once_per_s
        self.backoff_s = backoff_s
        self._sock = sock
        self._given_runtime = runtime
        self._trello_limits = trello_limits
        self._custompms_secret = secrets.token_hex(32)
        self.runtime: Runtime | None = None
        self.webhooks: BoardWebhooks | None = None
        self.subscription: CustompmsSubscription | None = None
        self.cycles = 0
        self.hints = 0
        self.last_report: CycleReport | None = None
        self.last_error: PmbridgeError | None = None
        self.failure: PmbridgeError | None = None
        self._pending_since: float | None = None
        self._pending_full = False
        self._pending_count = 0
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stack = AsyncExitStack()
        self._server: _Uvicorn | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._server_sock: socket.socket | None = None
        self._subscribe_refused = False
        self._loop_task: asyncio.Task[None] | None = None
        self._warned: set[str] = set()
        self._closed = False
        self._in_cycle = False

    @property
    def trello_callback_url(self) -> str | None:
        return f"{self.public_url}{TRELLO_PATH}" if self.public_url else None

    @property
    def custompms_callback_url(self) -> str | None:
        return f"{self.public_url}{CUSTOMPMS_PATH}" if self.public_url else None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the engine, start the receiver (with a public URL) and the cycle loop."""
        if self._loop_task is not None:
            raise RuntimeError("this service was started already")
        try:
            if self._given_runtime is not None:
                self.runtime = self._given_runtime
            else:
                self.runtime = await self._stack.enter_async_context(
                    open_engine(self.settings, trello_limits=self._trello_limits)
                )
            if self.public_url is not None:
                await self._start_receiver()
        except BaseException:
            await self._stack.aclose()
            raise
        self._loop_task = asyncio.create_task(self._loop(), name="pmbridge serve")
        if self.public_url is None:
            log.info("serving: a cycle every %g s (no public URL: polling only)", self.interval_s)
        else:
            host, port = self.receiver_address()
            log.info(
                "serving: a cycle every %g s, and one after deliveries to %s/hooks/… "
                "(listening on %s:%s)",
                self.interval_s,
                self.public_url,
                host,
                port,
            )

    def request_stop(self) -> None:
        """Ask the loop to end after the current cycle (call it on the service's event loop,
        e.g. from a ``loop.add_signal_handler`` callback)."""
        self._stopping.set()
        self._wake.set()

    async def wait(self) -> None:
        """Until the loop ends; raises ``failure`` when a system refused the credentials."""
        if self._loop_task is None:
            raise RuntimeError("the service is not started")
        try:
            await asyncio.shield(self._loop_task)
        except asyncio.CancelledError:
            if not self._loop_task.cancelled():
                raise  # the waiter is cancelled, not the loop
        if self.failure is not None:
            raise self.failure

    async def stop(self) -> None:
        """Finish the current cycle, remove the webhooks and the subscription, close."""
        if self._closed:
            return
        self._closed = True
        self.request_stop()
        if self._loop_task is not None:
            try:
                await self._loop_task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # stop() itself is being cancelled
                log.warning("the running cycle was cancelled; the next run repeats its reads")
            except Exception as err:
                log.error("the cycle loop ended with an error: %r", err)
        try:
            await self._unregister()
        finally:
            await self._stop_receiver()
            await self._stack.aclose()

    def abort(self) -> None:
        """Cancel the running cycle (a second Ctrl-C); ``stop`` still cleans up."""
        self.request_stop()
        if self._loop_task is not None:
            self._loop_task.cancel()

    async def run(self) -> None:
        """Start, serve until ``request_stop`` (or a refused credential), then stop."""
        await self.start()
        try:
            await self.wait()
        finally:
            await self.stop()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Service]:
        """``async with service.running():`` started inside, stopped on the way out."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    # --- hints -----------------------------------------------------------------------------

    @property
    def pending_hints(self) -> int:
        """Hints received since the last cycle started (they are waiting for the next)."""
        return self._pending_count

    @property
    def idle(self) -> bool:
        """No cycle is running and no hint is waiting for one."""
        return not self._in_cycle and not self._pending_count

    def hint(self, hint: Hint) -> None:
        """Something changed: run a cycle once ``once_per_s`` has passed since the first hint."""
        self.hints += 1
        self._pending_count += 1
        self._pending_full = self._pending_full or hint.full
        if self._pending_since is None:
            self._pending_since = asyncio.get_running_loop().time()
            self._wake.set()
        log.debug("hint from %s: %s", hint.source, hint.what)

    # --- the loop --------------------------------------------------------------------------

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_timer = loop.time()  # the first cycle runs at once
        try:
            await self._register()
            while True:
                trigger = await self._wait_until_due(next_timer)
                if trigger is None:
                    return
                first = self.cycles == 0 and trigger == "timer"
                next_timer = loop.time() + self.interval_s
                await self._cycle_until_done("start" if first else trigger)
                await self._register()
        except _Stopping:
            return
        except PmbridgeError as err:
            self.failure = err.cause if isinstance(err, CycleStopped) else err
            log.error("stopped: %s", self.failure)

    async def _wait_until_due(self, next_timer: float) -> str | None:
        """The reason of the next cycle ("timer" or "hints") once it is due; None to stop."""
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            now = loop.time()
            hinted = self._pending_since is not None
            due = next_timer
            if hinted:
                due = min(due, self._pending_since + self.once_per_s)  # type: ignore[operator]
            if now >= due:
                return "hints" if hinted and due < next_timer else "timer"
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), due - now)
        return None

    async def _cycle_until_done(self, trigger: str) -> None:
        """One cycle, tried again with backoff while a system is unreachable."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_transient),
            wait=wait_exponential(
                multiplier=self.backoff_s, max=max(self.interval_s, self.backoff_s)
            ),
            sleep=self._pause,
            before_sleep=self._say_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                again = attempt.retry_state.attempt_number > 1
                await self._cycle("retry" if again else trigger)

    async def _cycle(self, trigger: str) -> None:
        assert self.runtime is not None
        hints, full = self._pending_count, self._pending_full
        # Hints from now on may have come after this cycle read the feeds: they make another.
        self._pending_since, self._pending_count, self._pending_full = None, 0, False
        options = SyncOptions(
            full=full,
            full_every=self.settings.full_every,
            delete_share=self.settings.allow_delete_share,
            delete_min=self.settings.allow_delete_min,
        )
        started = time.monotonic()
        why = f"{hints} hint{'s' if hints != 1 else ''}" if trigger == "hints" else trigger
        self._in_cycle = True
        try:
            report = await self.runtime.engine.run(options)
        except CycleStopped as stopped:
            self.cycles += 1
            self.last_report, self.last_error = stopped.report, stopped.cause
            raise
        finally:
            self._in_cycle = False
        self.cycles += 1
        self.last_report, self.last_error = report, None
        log.info("%s", summary_line(report, self.cycles, why, time.monotonic() - started))

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            raise _Stopping

    def _say_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("cycle %d stopped: %s; trying again in %.3g s", self.cycles, failure, wait)

    # --- webhooks, subscription, receiver ----------------------------------------------------

    async def _register(self) -> None:
        """Subscribe to Custompms (once) and give every linked board a webhook."""
        if self.public_url is None:
            return
        assert self.runtime and self.custompms_callback_url and self.trello_callback_url
        if self.subscription is None:
            token = self.settings.custompms_token
            assert self.settings.custompms_url and token
            http = await self._stack.enter_async_context(
                httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
            )
            self.subscription = CustompmsSubscription(
                self.settings.custompms_url, token.get_secret_value(), http=http
            )
        if self.subscription.id is None and not self._subscribe_refused:
            try:
                await self.subscription.subscribe(
                    self.custompms_callback_url, self._custompms_secret
                )
                log.info("Custompms notifications go to %s", self.custompms_callback_url)
            except AuthenticationError:
                raise
            except RemoteSystemError as err:
                if getattr(err, "retryable", False):
                    self._warn_once(f"no Custompms subscription yet (tried again later): {err}")
                else:
                    # An optional part of the contract: the periodic cycle still finds changes.
                    self._subscribe_refused = True
                    log.warning(
                        "Custompms refused the subscription, so its changes wait for the "
                        "periodic cycle: %s",
                        err,
                    )
        if self.webhooks is None:
            self.webhooks = BoardWebhooks(self.runtime.trello.client, self.trello_callback_url)
        await self.webhooks.track(self._linked_boards(), self._warn_once)

    def _linked_boards(self) -> set[str]:
        assert self.runtime is not None
        return {
            link.trello_id
            for flow in self.runtime.flow_file.flows
            if flow.trello == "board"
            for link in self.runtime.store.links(flow.name)
        }

    async def _unregister(self) -> None:
        removed = 0
        if self.webhooks is not None:
            removed = await self.webhooks.remove_all(log.warning)
        unsubscribed = False
        if self.subscription is not None:
            try:
                unsubscribed = await self.subscription.unsubscribe()
            except RemoteSystemError as err:
                log.warning("could not remove the Custompms subscription: %s", err)
        if self.public_url is None:
            log.info("stopped after %d cycle%s", self.cycles, "" if self.cycles == 1 else "s")
            return
        log.info(
            "stopped: %d Trello webhook%s deleted%s",
            removed,
            "" if removed == 1 else "s",
            ", Custompms subscription removed" if unsubscribed else "",
        )

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("%s", message)

    async def _start_receiver(self) -> None:
        assert self.settings.trello_secret is not None
        app = create_receiver(
            self.hint,
            trello_secret=self.settings.trello_secret.get_secret_value(),
            trello_callback_url=self.trello_callback_url,
            custompms_secret=self._custompms_secret,
        )
        sock = self._sock or _listening_socket(*self.listen)
        config = uvicorn.Config(
            app,
            log_config=None,  # leave the process's logging alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = _Uvicorn(config)
        task = asyncio.create_task(self._server.serve(sockets=[sock]), name="pmbridge receiver")
        deadline = time.monotonic() + 10
        while not self._server.started:
            if task.done() or time.monotonic() > deadline:
                self._server.should_exit = True
                sock.close()
                raise ConfigError(f"the receiver could not start on {self._address(sock)}")
            await asyncio.sleep(0.01)
        self._server_task = task
        self._server_sock = sock

    def receiver_address(self) -> tuple[str, int]:
        """The receiver's (host, port), e.g. the free port a test's socket was bound to."""
        if self._server_sock is None:
            raise RuntimeError("the receiver is not running (no public URL)")
        host, port = self._server_sock.getsockname()[:2]
        return str(host), int(port)

    @staticmethod
    def _address(sock: socket.socket) -> str:
        with contextlib.suppress(OSError):
            host, port = sock.getsockname()[:2]
            return f"{host}:{port}"
        return "its address"

    async def _stop_receiver(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._server_task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._server_task, 5)
        self._server = None


# --- output ----------------------------------------------------------------------------------


def summary_line(report: CycleReport, number: int, why: str, seconds: float) -> str:
    """One line for a finished cycle: writes per system, conflicts, errors, held deletes."""
    writes = {"to_trello": 0, "to_custompms": 0}
    for (_, direction), counts in report.counts.items():
        writes[direction] += sum(counts[what] for what in ("created", "updated", "deleted"))

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    parts = [
        f"→ Trello {n(writes['to_trello'], 'write')}",
        f"→ Custompms {n(writes['to_custompms'], 'write')}",
        n(report.count("conflicts"), "conflict"),
        n(report.errors, "error") + (" (see pmbridge dead-letters)" if report.errors else ""),
    ]
    if report.held_deletes:
        parts.append(f"{len(report.held_deletes)} deletion(s) held (pmbridge sync --allow-deletes)")
    full = ", full" if report.full else ""
    return f"cycle {number} ({why}{full}): {', '.join(parts)} in {seconds:.1f} s"
