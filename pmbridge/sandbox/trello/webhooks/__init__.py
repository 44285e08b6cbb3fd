"""Trello webhooks for the sandbox: registration, signed and retried deliveries.

Plugging in (done by ``app.py``; the routes are ``routes/webhooks.py`` and
``routes/tokens.py``):

    await webhooks.start(app.state)    # in the lifespan, on the server's event loop
    await webhooks.stop(app.state)     # on shutdown: cancels pending deliveries

``state`` is the FastAPI ``app.state`` with ``.world`` and ``.config`` (a ``SandboxConfig``:
``secret`` signs deliveries, ``webhooks`` is the ``WebhookConfig``). ``start`` puts the
``Webhooks`` registry on ``state.webhooks``; the routes also create it on first use, so an
app driven through ``httpx.ASGITransport`` (no lifespan) works as well.

Modules, one job each: ``model`` (the webhook and its JSON), ``registry`` (create, read,
change, delete; the HEAD check), ``delivery`` (queues, workers, signed POSTs, retries,
failure counting), ``signing`` (the ``X-Trello-Webhook`` signature).
"""

from __future__ import annotations

from pmbridge.sandbox.trello.config import WebhookConfig
from pmbridge.sandbox.trello.webhooks.model import Webhook
from pmbridge.sandbox.trello.webhooks.registry import Webhooks, registry, start, stop
from pmbridge.sandbox.trello.webhooks.signing import SIGNATURE_HEADER, sign, verify

__all__ = [
    "SIGNATURE_HEADER",
    "Webhook",
    "WebhookConfig",
    "Webhooks",
    "registry",
    "sign",
    "start",
    "stop",
    "verify",
]
