"""The receiver of webhook deliveries: Trello's and Custompms' signed POSTs become hints.

Signatures (``pmbridge.signatures``): Trello's ``X-Trello-Webhook`` is base64(HMAC-SHA1(app
secret, raw body + callback URL)); Custompms' ``X-Custompms-Signature`` is ``sha256=<hex
HMAC-SHA256(secret, raw body)>``. Both are compared in constant time; a delivery that does
not verify is answered 401 and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from pmbridge.signatures import (
    CUSTOMPMS_SIGNATURE_HEADER,
    TRELLO_SIGNATURE_HEADER,
    verify_custompms_signature,
    verify_trello_signature,
)

TRELLO_PATH = "/hooks/trello"
CUSTOMPMS_PATH = "/hooks/custompms"
MAX_BODY = 1 << 20  # deliveries are a few kB; refuse anything absurd unread
# Trello actions the incremental cycle cannot see (board feeds leave them out, TRELLO_API.md
# §6-§7): a delivery of one of them makes the next cycle a full one, which re-reads comments.
FEEDLESS_ACTIONS = frozenset({"updateComment", "deleteComment"})


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
