"""Registering webhooks: create, read, change and delete them, each owned by its token.

A webhook belongs to the token that made it; another token gets 401 ``unauthorized token``.
Creating one (or pointing it at a new callbackURL) first sends ``HEAD`` to the callback;
anything but 200 refuses it with Trello's JSON body and nothing is created. Webhooks live in
memory only; they are not part of the saved sandbox state.
"""

from __future__ import annotations

import hmac
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx

from pmbridge.sandbox.trello.answers import (
    TrelloHTTPError,
    TrelloJSON,
    invalid_id,
    invalid_value,
    not_found,
)
from pmbridge.sandbox.trello.config import WebhookConfig
from pmbridge.sandbox.trello.ids import is_object_id
from pmbridge.sandbox.trello.params import MAX_TEXT, Params
from pmbridge.sandbox.trello.webhooks.delivery import Deliveries
from pmbridge.sandbox.trello.webhooks.model import DUPLICATE, WRONG_TOKEN, Webhook
from pmbridge.sandbox.trello.world import World


class Webhooks:
    """The webhooks of one sandbox, and (in ``deliveries``) their delivery workers.

    :param world: the sandbox state; its action listener feeds the deliveries
    :param config: delivery settings
    :param secret: the app secret that signs deliveries
    """

    def __init__(self, world: World, config: WebhookConfig, secret: str):
        self.world = world
        self.config = config
        self._lock = threading.Lock()
        self._hooks: dict[str, Webhook] = {}
        self.deliveries = Deliveries(world, config, secret, self._hooks, self._lock)

    def bind_loop(self) -> None:
        """Deliver on the running event loop (the server's); called from async code."""
        self.deliveries.bind_loop()

    async def aclose(self) -> None:
        """Stop delivering: cancel the workers (queued deliveries are lost)."""
        await self.deliveries.aclose()

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

    def delete_all_of(self, token: str) -> None:
        """A revoked token's webhooks go with it (TRELLO_API.md §9)."""
        for hook in self.of_token(token):
            self._forget(hook.id)

    def _forget(self, webhook_id: str) -> None:
        with self._lock:
            self._hooks.pop(webhook_id, None)
        self.deliveries.drop(webhook_id)

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
            response = await self.deliveries.http().head(
                callback_url, timeout=self.config.check_timeout_s
            )
            got = str(response.status_code)
            if response.status_code == 200:
                return None
        except httpx.TimeoutException:
            got = "no answer (timed out)"
        except httpx.HTTPError:
            got = "no answer (connection failed)"
        message = f"URL ({callback_url}) did not return 200 status code, got {got}"
        return TrelloJSON({"message": message, "error": "ERROR"}, status_code=400)


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
