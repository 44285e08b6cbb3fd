"""Trello webhooks for the sandbox: the ``/1/webhooks`` routes and signed, retried deliveries.

Plugging in (done by ``app.py``):

    app.include_router(webhooks.router, prefix="/1")
    await webhooks.start(app.state)    # in the lifespan, on the server's event loop
    await webhooks.stop(app.state)     # on shutdown: cancels pending deliveries

``state`` is the FastAPI ``app.state`` with ``.world`` and ``.config`` (a ``SandboxConfig``:
``secret`` signs deliveries, ``webhooks`` is the ``WebhookConfig``). ``start`` puts the
``Webhooks`` registry on ``state.webhooks``; the routes also create it on first use, so an
app driven through ``httpx.ASGITransport`` (no lifespan) works as well.

Routes (relative to ``/1``): ``POST /webhooks``, ``GET/PUT/DELETE /webhooks/{id}``,
``GET /webhooks/{id}/{field}``, ``GET/POST /tokens/{token}/webhooks``,
``GET/PUT/DELETE /tokens/{token}/webhooks/{id}``. A webhook belongs to the token that made
it; another token gets 401 ``unauthorized token``. Creating one (or pointing it at a new
callbackURL) first sends ``HEAD`` to the callback; anything but 200 refuses it with Trello's
JSON body and nothing is created.

Delivery: every action the world records goes, as ``{"action", "model", "webhook"}``, to each
active webhook whose ``idModel`` the action involves, POSTed with ``X-Trello-Webhook`` =
base64(HMAC-SHA1(app secret, raw body + callbackURL)) — ``sign`` and ``verify``, from
``pmbridge.signatures``. Each webhook has its own queue and worker task on the server's
loop, so deliveries never block an API request and reach a receiver in the order the
actions happened. A non-2xx answer, a
timeout or a refused connection is retried after each of ``retry_delays_s`` (Trello: 3
retries; its timings are unpublished). Each failed POST adds one to ``consecutiveFailures``
(and sets ``firstConsecutiveFailDate`` on the first); a 2xx resets both. A 410 answer deletes
the webhook. Our choice, since Trello publishes no threshold: after
``disable_after_failures`` consecutive failed POSTs (default 100) the webhook is set
``active: false`` and its queued deliveries are dropped. Webhooks live in memory only; they
are not part of the saved sandbox state.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hmac
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from pmbridge.sandbox.trello.answers import (
    TrelloHTTPError,
    TrelloJSON,
    invalid_id,
    invalid_value,
    json_bytes,
    not_found,
)
from pmbridge.sandbox.trello.auth import AuthContext, AuthDep
from pmbridge.sandbox.trello.ids import format_timestamp, is_object_id
from pmbridge.sandbox.trello.params import MAX_TEXT, Params, ParamsDep
from pmbridge.sandbox.trello.world import World
from pmbridge.signatures import TRELLO_SIGNATURE_HEADER as SIGNATURE_HEADER
from pmbridge.signatures import trello_signature as sign
from pmbridge.signatures import verify_trello_signature as verify

__all__ = [
    "Webhook",
    "WebhookConfig",
    "Webhooks",
    "registry",
    "router",
    "sign",
    "start",
    "stop",
    "verify",
]

log = logging.getLogger(__name__)

DUPLICATE = "A webhook with that callback, model, and token already exists"
WRONG_TOKEN = "unauthorized token"
FIELDS = (
    "id",
    "description",
    "idModel",
    "callbackURL",
    "active",
    "consecutiveFailures",
    "firstConsecutiveFailDate",
)


class WebhookConfig(BaseModel):
    """How the sandbox delivers webhooks; tests shrink the delays and the threshold."""

    retry_delays_s: list[float] = Field(
        default_factory=lambda: [1.0, 5.0, 25.0],
        description="wait before each retry of a failed delivery (Trello retries 3 times)",
    )
    disable_after_failures: int = Field(
        100, ge=1, description="consecutive failed POSTs that set a webhook inactive (our choice)"
    )
    delivery_timeout_s: float = Field(30.0, gt=0, description="Trello waits 30 s for a reply")
    check_timeout_s: float = Field(5.0, gt=0, description="timeout of the HEAD check on create")


@dataclass
class Webhook:
    """A registered webhook; ``token`` is its owner and never leaves the sandbox."""

    id: str
    token: str
    id_model: str
    callback_url: str
    description: str = ""
    active: bool = True
    consecutive_failures: int = 0
    first_consecutive_fail_date: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "idModel": self.id_model,
            "callbackURL": self.callback_url,
            "active": self.active,
            "consecutiveFailures": self.consecutive_failures,
            "firstConsecutiveFailDate": self.first_consecutive_fail_date,
        }


@dataclass(frozen=True)
class _Delivery:
    action: dict
    model: dict | None


class Webhooks:
    """The webhooks of one sandbox and their delivery workers.

    :param world: the sandbox state; its action listener feeds the deliveries
    :param config: delivery settings
    :param secret: the app secret that signs deliveries
    """

    def __init__(self, world: World, config: WebhookConfig, secret: str):
        self.world = world
        self.config = config
        self._secret = secret
        self._lock = threading.Lock()
        self._hooks: dict[str, Webhook] = {}
        self._queues: dict[str, asyncio.Queue[_Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._listening = False

    # --- lifecycle -----------------------------------------------------------------------

    def bind_loop(self) -> None:
        """Deliver on the running event loop (the server's); called from async code."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._client = None
            self._queues.clear()
            self._workers.clear()
        if not self._listening:
            self.world.add_action_listener(self.on_action)
            self._listening = True

    async def aclose(self) -> None:
        """Stop delivering: cancel the workers (queued deliveries are lost) and the client."""
        self.world.remove_action_listener(self.on_action)
        self._listening = False
        workers = list(self._workers.values())
        self._workers.clear()
        self._queues.clear()
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # trust_env=False: callbacks are reached directly, never through a proxy.
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        return self._client

    # --- the registry --------------------------------------------------------------------

    def of_token(self, token: str) -> list[Webhook]:
        with self._lock:
            return [h for h in self._hooks.values() if h.token == token]

    def get(self, token: str, webhook_id: str) -> Webhook:
        """The webhook, if ``token`` owns it; else Trello's 400/404/401."""
        if not is_object_id(webhook_id):
            raise invalid_id()
        with self._lock:
            hook = self._hooks.get(webhook_id.lower())
        if hook is None:
            raise not_found()
        if not hmac.compare_digest(hook.token.encode(), token.encode()):
            raise TrelloHTTPError(401, WRONG_TOKEN)
        return hook

    async def create(self, token: str, params: Params) -> Webhook | TrelloJSON:
        """A new webhook, or the JSON 400 answer of a failed callback check."""
        callback_url = _callback_url(params, required=True)
        assert callback_url is not None
        id_model = self._model_id(params, required=True)
        assert id_model is not None
        description = params.text("description", max_len=MAX_TEXT) or ""
        active = params.flag("active", True)
        with self._lock:
            self._refuse_duplicate(token, callback_url, id_model, None)
        refusal = await self.check_callback(callback_url)
        if refusal is not None:
            return refusal
        with self._lock:
            # Checked again: another create may have won while we waited for the HEAD.
            self._refuse_duplicate(token, callback_url, id_model, None)
            hook = Webhook(
                id=self.world.ids.new_id(self.world.now()),
                token=token,
                id_model=id_model,
                callback_url=callback_url,
                description=description,
                active=active,
            )
            self._hooks[hook.id] = hook
        return hook

    async def update(self, token: str, webhook_id: str, params: Params) -> Webhook | TrelloJSON:
        """Change description, callbackURL, idModel or active; a new callback is checked."""
        hook = self.get(token, webhook_id)
        callback_url = _callback_url(params, required=False) or hook.callback_url
        id_model = self._model_id(params, required=False) or hook.id_model
        description = params.text("description", max_len=MAX_TEXT)
        active = params.boolean("active")
        with self._lock:
            self._refuse_duplicate(token, callback_url, id_model, hook.id)
        if callback_url != hook.callback_url:
            refusal = await self.check_callback(callback_url)
            if refusal is not None:
                return refusal
        with self._lock:
            self._refuse_duplicate(token, callback_url, id_model, hook.id)
            hook.callback_url = callback_url
            hook.id_model = id_model
            if description is not None:
                hook.description = description
            if active and not hook.active:
                # Switched back on by a person: counting failures starts afresh.
                hook.consecutive_failures = 0
                hook.first_consecutive_fail_date = None
            if active is not None:
                hook.active = active
        return hook

    def delete(self, token: str, webhook_id: str) -> None:
        hook = self.get(token, webhook_id)
        self._forget(hook.id)

    def _forget(self, webhook_id: str) -> None:
        with self._lock:
            self._hooks.pop(webhook_id, None)
        self._queues.pop(webhook_id, None)
        worker = self._workers.pop(webhook_id, None)
        if worker is not None and worker is not _current_task():
            worker.cancel()

    def _model_id(self, params: Params, *, required: bool) -> str | None:
        value = params.raw("idModel")
        if value is None or value == "":
            if required:
                raise invalid_value("idModel")
            return None
        model = self.world.model_json(str(value).lower()) if isinstance(value, str) else None
        if model is None:
            raise invalid_value("idModel")
        return str(model["id"])

    def _refuse_duplicate(
        self, token: str, callback_url: str, id_model: str, except_id: str | None
    ) -> None:
        for hook in self._hooks.values():
            if (
                hook.id != except_id
                and hook.token == token
                and hook.callback_url == callback_url
                and hook.id_model == id_model
            ):
                raise TrelloHTTPError(400, DUPLICATE)

    async def check_callback(self, callback_url: str) -> TrelloJSON | None:
        """None when ``HEAD callback_url`` answers 200; else Trello's JSON 400 answer."""
        self.bind_loop()
        try:
            response = await self._http().head(callback_url, timeout=self.config.check_timeout_s)
            got = str(response.status_code)
            if response.status_code == 200:
                return None
        except httpx.TimeoutException:
            got = "no answer (timed out)"
        except httpx.HTTPError:
            got = "no answer (connection failed)"
        message = f"URL ({callback_url}) did not return 200 status code, got {got}"
        return TrelloJSON({"message": message, "error": "ERROR"}, status_code=400)

    # --- delivery ------------------------------------------------------------------------

    def on_action(self, action: dict) -> None:
        """World listener: queue this action for every active webhook on a model it involves."""
        with self._lock:
            hooks = [h for h in self._hooks.values() if h.active]
        loop = self._loop
        if not hooks or loop is None or loop.is_closed():
            return
        involved = set(self.world.model_ids_of_action(action))
        targets = [h for h in hooks if h.id_model in involved]
        if not targets:
            return
        # Copied now: a later edit (e.g. of a comment) must not change what was sent.
        frozen = copy.deepcopy(action)
        for hook in targets:
            delivery = _Delivery(frozen, copy.deepcopy(self.world.model_json(hook.id_model)))
            try:
                loop.call_soon_threadsafe(self._enqueue, hook.id, delivery)
            except RuntimeError:  # the loop closed meanwhile: the server is stopping
                return

    def _enqueue(self, webhook_id: str, delivery: _Delivery) -> None:
        if webhook_id not in self._hooks:
            return
        queue = self._queues.get(webhook_id)
        if queue is None:
            queue = self._queues[webhook_id] = asyncio.Queue()
            self._workers[webhook_id] = asyncio.get_running_loop().create_task(
                self._work(webhook_id, queue), name=f"webhook {webhook_id}"
            )
        queue.put_nowait(delivery)

    async def _work(self, webhook_id: str, queue: asyncio.Queue[_Delivery]) -> None:
        while webhook_id in self._hooks:
            delivery = await queue.get()
            with self._lock:
                hook = self._hooks.get(webhook_id)
            if hook is None:
                return
            if hook.active:
                await self._deliver(hook, delivery)

    async def _deliver(self, hook: Webhook, delivery: _Delivery) -> None:
        """One delivery with its retries; updates the webhook's failure counters."""
        for delay in (0.0, *self.config.retry_delays_s):
            if delay:
                await asyncio.sleep(delay)
            with self._lock:
                if not hook.active or hook.id not in self._hooks:
                    return
                callback_url = hook.callback_url
                body = json_bytes(
                    {"action": delivery.action, "model": delivery.model, "webhook": hook.to_json()}
                )
            status = await self._post(callback_url, body)
            if status == 410:
                self._forget(hook.id)
                return
            with self._lock:
                if status is not None and 200 <= status < 300:
                    hook.consecutive_failures = 0
                    hook.first_consecutive_fail_date = None
                    return
                hook.consecutive_failures += 1
                if hook.first_consecutive_fail_date is None:
                    hook.first_consecutive_fail_date = format_timestamp(self.world.now())
                if hook.consecutive_failures >= self.config.disable_after_failures:
                    hook.active = False
                    return

    async def _post(self, callback_url: str, body: bytes) -> int | None:
        """The callback's status, or None when it could not be reached in time."""
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body, callback_url),
        }
        try:
            response = await self._http().post(
                callback_url, content=body, headers=headers, timeout=self.config.delivery_timeout_s
            )
        except httpx.HTTPError as err:
            log.info(
                "webhook delivery to %s failed: %s", _safe_url(callback_url), type(err).__name__
            )
            return None
        return response.status_code


def _callback_url(params: Params, *, required: bool) -> str | None:
    value = params.text("callbackURL", max_len=MAX_TEXT, required=required)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port out of range
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL):
        raise invalid_value("callbackURL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid_value("callbackURL")
    return value


def _safe_url(url: str) -> str:
    """The URL without user info and query string (either may carry a secret), for logs."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


_registry_lock = threading.Lock()


def registry(state: Any) -> Webhooks:
    """The ``Webhooks`` of an app (``app.state``), created on first use."""
    with _registry_lock:
        found = getattr(state, "webhooks", None)
        if not isinstance(found, Webhooks):
            found = Webhooks(state.world, state.config.webhooks, state.config.secret)
            state.webhooks = found
        return found


async def start(state: Any) -> None:
    """Create the registry and bind deliveries to the running (server) loop."""
    registry(state).bind_loop()


async def stop(state: Any) -> None:
    """Cancel pending deliveries and close the delivery client."""
    found = getattr(state, "webhooks", None)
    if isinstance(found, Webhooks):
        await found.aclose()


# --- routes --------------------------------------------------------------------------------

router = APIRouter(tags=["webhooks"])


def _hooks_of(request: Request) -> Webhooks:
    hooks = registry(request.app.state)
    hooks.bind_loop()
    return hooks


def _answer(result: Webhook | TrelloJSON) -> TrelloJSON:
    return result if isinstance(result, TrelloJSON) else TrelloJSON(result.to_json())


def _owner(auth: AuthContext, world: World, token: str) -> str:
    """The token in ``/tokens/{token}/...``: it must be the caller's own."""
    if world.member_by_token(token) is None:
        raise TrelloHTTPError(401, "invalid token")
    if not hmac.compare_digest(token.encode(), auth.token.encode()):
        raise TrelloHTTPError(401, WRONG_TOKEN)
    return token


@router.post("/webhooks")
@router.post("/webhooks/", include_in_schema=False)
async def create_webhook(request: Request, auth: AuthDep, params: ParamsDep) -> TrelloJSON:
    return _answer(await _hooks_of(request).create(auth.token, params))


@router.get("/webhooks/{webhook_id}")
async def get_webhook(request: Request, webhook_id: str, auth: AuthDep) -> TrelloJSON:
    return _answer(_hooks_of(request).get(auth.token, webhook_id))


@router.put("/webhooks/{webhook_id}")
async def update_webhook(
    request: Request, webhook_id: str, auth: AuthDep, params: ParamsDep
) -> TrelloJSON:
    return _answer(await _hooks_of(request).update(auth.token, webhook_id, params))


@router.delete("/webhooks/{webhook_id}")
async def delete_webhook(request: Request, webhook_id: str, auth: AuthDep) -> TrelloJSON:
    _hooks_of(request).delete(auth.token, webhook_id)
    return TrelloJSON({"_value": None})


@router.get("/webhooks/{webhook_id}/{field}")
async def get_webhook_field(
    request: Request, webhook_id: str, field: str, auth: AuthDep
) -> TrelloJSON:
    hook = _hooks_of(request).get(auth.token, webhook_id)
    if field not in FIELDS:
        raise not_found()
    return TrelloJSON({"_value": hook.to_json()[field]})


@router.get("/tokens/{token}/webhooks")
async def list_token_webhooks(request: Request, token: str, auth: AuthDep) -> TrelloJSON:
    owner = _owner(auth, request.app.state.world, token)
    return TrelloJSON([h.to_json() for h in _hooks_of(request).of_token(owner)])


@router.post("/tokens/{token}/webhooks")
async def create_token_webhook(
    request: Request, token: str, auth: AuthDep, params: ParamsDep
) -> TrelloJSON:
    owner = _owner(auth, request.app.state.world, token)
    return _answer(await _hooks_of(request).create(owner, params))


@router.get("/tokens/{token}/webhooks/{webhook_id}")
async def get_token_webhook(
    request: Request, token: str, webhook_id: str, auth: AuthDep
) -> TrelloJSON:
    owner = _owner(auth, request.app.state.world, token)
    return _answer(_hooks_of(request).get(owner, webhook_id))


@router.put("/tokens/{token}/webhooks/{webhook_id}")
async def update_token_webhook(
    request: Request, token: str, webhook_id: str, auth: AuthDep, params: ParamsDep
) -> TrelloJSON:
    owner = _owner(auth, request.app.state.world, token)
    return _answer(await _hooks_of(request).update(owner, webhook_id, params))


@router.delete("/tokens/{token}/webhooks/{webhook_id}")
async def delete_token_webhook(
    request: Request, token: str, webhook_id: str, auth: AuthDep
) -> TrelloJSON:
    owner = _owner(auth, request.app.state.world, token)
    _hooks_of(request).delete(owner, webhook_id)
    return TrelloJSON({"_value": None})
