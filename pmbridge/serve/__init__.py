"""``pmbridge serve``: sync continuously, with Trello webhooks and Custompms notifications as
hints (DESIGN.md §4).

A ``Service`` keeps one engine (one client and rate budget per system) for its whole life and
runs a cycle every ``interval_s`` seconds. Given a public URL it also serves a receiver
(``create_receiver``) at ``/hooks/trello`` and ``/hooks/custompms``, registers a Trello
webhook per linked board and a Custompms subscription pointing there, and runs a prompt
cycle after valid deliveries: the deliveries of ``once_per_s`` seconds after the first one
make one cycle, and cycles never overlap. Deliveries can be missed, so the periodic cycle
always runs as well. Listening (with a public URL, or ``http=True``: ``serve --listen``) it
also serves the dashboard under ``/ui`` (``pmbridge.serve.ui``), ``/healthz``, ``/readyz``
(``health``) and ``/metrics`` (``metrics``). A cycle stopped by an unreachable or
rate-limiting system is tried again with exponential backoff; one stopped by refused
credentials ends the service (``Service.failure``). Stopping finishes the current cycle,
deletes the webhooks and the subscription, and closes everything. What is registered is
recorded in the state store, and what a serve that is gone left there is deleted when the
next one starts. Each cycle holds the store's sync lease (``pmbridge.store.guard``); a
replayed delivery starts none.

Signatures: Trello's ``X-Trello-Webhook`` is base64(HMAC-SHA1(app secret, raw body +
callback URL)); Custompms' ``X-Custompms-Signature`` is ``sha256=<hex HMAC-SHA256(secret, raw
body)>`` with a secret made at random for each run. Both are compared in constant time; a
delivery that does not verify is answered 401 and changes nothing. A delivered Trello comment
edit or deletion makes the next cycle a full one, since board feeds never show those.
"""

from __future__ import annotations

from pmbridge.serve.hooks import BoardWebhooks, CustompmsSubscription, public_url_of
from pmbridge.serve.lines import summary_line
from pmbridge.serve.receiver import CUSTOMPMS_PATH, TRELLO_PATH, Hint, create_receiver
from pmbridge.serve.service import DEFAULT_LISTEN, Service
from pmbridge.signatures import (
    CUSTOMPMS_SIGNATURE_HEADER,
    TRELLO_SIGNATURE_HEADER,
    custompms_signature,
    trello_signature,
    verify_custompms_signature,
    verify_trello_signature,
)

__all__ = [
    "CUSTOMPMS_PATH",
    "CUSTOMPMS_SIGNATURE_HEADER",
    "DEFAULT_LISTEN",
    "TRELLO_PATH",
    "TRELLO_SIGNATURE_HEADER",
    "BoardWebhooks",
    "CustompmsSubscription",
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
