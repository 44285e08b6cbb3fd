"""Delivering actions to webhooks: one queue and worker per webhook, signed POSTs, retries.

Every action the world records goes, as ``{"action", "model", "webhook"}``, to each active
webhook whose ``idModel`` the action involves, POSTed with the ``X-Trello-Webhook``
signature (``signing.py``). Each webhook has its own queue and worker task on the server's
loop, so deliveries never block an API request and reach a receiver in the order the
actions happened. A non-2xx answer, a timeout or a refused connection is retried after each
of ``retry_delays_s`` (Trello: 3 retries; its timings are unpublished). Each failed POST
adds one to ``consecutiveFailures`` (and sets ``firstConsecutiveFailDate`` on the first); a
2xx resets both. A 410 answer deletes the webhook. Our choice, since Trello publishes no
threshold: after ``disable_after_failures`` consecutive failed POSTs the webhook is set
``active: false`` and its queued deliveries are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from pmbridge.sandbox.trello.answers import json_bytes
from pmbridge.sandbox.trello.config import WebhookConfig
from pmbridge.sandbox.trello.ids import format_timestamp
from pmbridge.sandbox.trello.webhooks.model import Webhook
from pmbridge.sandbox.trello.webhooks.signing import SIGNATURE_HEADER, sign
from pmbridge.sandbox.trello.world import World

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Delivery:
    action: dict
    model: dict | None


class Deliveries:
    """The delivery workers of one sandbox's webhooks.

    :param world: the sandbox state; its action listener feeds the deliveries
    :param config: delivery settings
    :param secret: the app secret that signs deliveries
    :param hooks: the registered webhooks by id (shared with the registry, under ``lock``)
    :param lock: guards ``hooks``
    """

    def __init__(
        self,
        world: World,
        config: WebhookConfig,
        secret: str,
        hooks: dict[str, Webhook],
        lock: threading.Lock,
    ):
        self.world = world
        self.config = config
        self._secret = secret
        self._hooks = hooks
        self._lock = lock
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

    def http(self) -> httpx.AsyncClient:
        """The client that reaches callbacks (also used for the HEAD check on create)."""
        if self._client is None:
            # trust_env=False: callbacks are reached directly, never through a proxy.
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        return self._client

    def drop(self, webhook_id: str) -> None:
        """Forget the queue and stop the worker of a webhook that is gone."""
        self._queues.pop(webhook_id, None)
        worker = self._workers.pop(webhook_id, None)
        if worker is not None and worker is not _current_task():
            worker.cancel()

    # --- queueing ------------------------------------------------------------------------

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

    # --- sending -------------------------------------------------------------------------

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
                with self._lock:
                    self._hooks.pop(hook.id, None)
                self.drop(hook.id)
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
            response = await self.http().post(
                callback_url, content=body, headers=headers, timeout=self.config.delivery_timeout_s
            )
        except httpx.HTTPError as err:
            log.info(
                "webhook delivery to %s failed: %s", safe_url(callback_url), type(err).__name__
            )
            return None
        return response.status_code


def safe_url(url: str) -> str:
    """The URL without user info and query string (either may carry a secret), for logs."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None
