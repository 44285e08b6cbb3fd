"""The receiver of webhook deliveries: Trello's and Custompms' signed POSTs become hints.

Signatures (``pmbridge.signatures``): Trello's ``X-Trello-Webhook`` is base64(HMAC-SHA1(app
secret, raw body + callback URL)); Custompms' ``X-Custompms-Signature`` is ``sha256=<hex
HMAC-SHA256(secret, raw body)>``. Both are compared in constant time; a delivery that does
not verify is answered 401 and changes nothing.

Replays cost nothing: a delivery seen before (a Trello action by its id, a Custompms
notification by resource, id, version and deleted) within ``REPLAY_WINDOW_S`` is answered as
the first one was and makes no hint. The seen identities are kept in memory, bounded in
number and age (``ReplayFilter``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from cachetools import TTLCache
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from pmbridge.signatures import (
    CUSTOMPMS_SIGNATURE_HEADER,
    TRELLO_SIGNATURE_HEADER,
    verify_custompms_signature,
    verify_trello_signature,
)
from pmbridge.systems.custompms.values import kind_of

TRELLO_PATH = "/hooks/trello"
CUSTOMPMS_PATH = "/hooks/custompms"
MAX_BODY = 1 << 20  # deliveries are a few kB; refuse anything absurd unread
# Trello actions the incremental cycle cannot see (board feeds leave them out, TRELLO_API.md
# §6-§7): a delivery of one of them makes the next cycle a full one, which re-reads comments.
FEEDLESS_ACTIONS = frozenset({"updateComment", "deleteComment"})
REPLAY_WINDOW_S = 3600.0
REPLAY_MEMORY = 10_000


# --- replays --------------------------------------------------------------------------------


class ReplayFilter:
    """The identities of recent deliveries: at most ``size`` of them, each for ``window_s``.

    :param timer: the clock (seconds, monotonic); tests pass a fake one
    """

    def __init__(
        self,
        *,
        size: int = REPLAY_MEMORY,
        window_s: float = REPLAY_WINDOW_S,
        timer: Callable[[], float] = time.monotonic,
    ):
        self._seen: TTLCache[Hashable, bool] = TTLCache(maxsize=size, ttl=window_s, timer=timer)
        self.replays = 0

    def first_time(self, identity: Hashable) -> bool:
        """Whether ``identity`` was not seen within the window (and remember it)."""
        if identity in self._seen:
            self.replays += 1
            return False
        self._seen[identity] = True
        return True


# --- the receiver ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    """A valid delivery: something changed on ``source``.

    :param source: "trello" or "custompms"
    :param what: what changed, for the log (an action type, a resource)
    :param full: the change is one an incremental cycle cannot see
    :param board: the Trello board the change is on, when the delivery says
    :param resource: the Custompms resource that changed ("tasks"…)
    :param change: what changed, as (kind, id, stamp) — a card and its action's date, a
        comment (its action), a record and its version — to tell our own writes' echoes
    """

    source: str
    what: str
    full: bool = False
    board: str | None = None
    resource: str | None = None
    change: tuple[str, str, str] | None = None


class _TrelloAction(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    type: str


class _TrelloModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None


class _TrelloDelivery(BaseModel):
    model_config = ConfigDict(extra="allow")
    action: _TrelloAction
    model: _TrelloModel | None = None

    @property
    def change(self) -> tuple[str, str, str] | None:
        """(kind, id, date) of what the action changed: a card, or a comment (the action)."""
        action = self.action
        date = getattr(action, "date", None)
        data = getattr(action, "data", None)
        if not isinstance(date, str) or not isinstance(data, dict):
            return None
        if action.type == "commentCard" and action.id:
            return ("comment", action.id, date)
        card = data.get("card")
        if isinstance(card, dict) and isinstance(card.get("id"), str):
            return ("card", str(card["id"]), date)
        return None

    @property
    def board(self) -> str | None:
        """The board the action is on: the action's ``data.board``, else the webhook's model."""
        data = getattr(self.action, "data", None)
        board = data.get("board") if isinstance(data, dict) else None
        if isinstance(board, dict) and isinstance(board.get("id"), str):
            return str(board["id"])
        return self.model.id if self.model is not None else None


class _Notification(BaseModel):
    model_config = ConfigDict(extra="allow")
    resource: str
    id: str | int
    version: int | None = None
    deleted: bool = False


def create_receiver(
    on_hint: Callable[[Hint], None],
    *,
    trello_secret: str | None = None,
    trello_callback_url: str | None = None,
    custompms_secret: str | None = None,
    replays: ReplayFilter | None = None,
) -> FastAPI:
    """The app that takes deliveries and calls ``on_hint`` for each one that verifies and
    was not seen before (``replays``: the memory of seen ones, default a new one).

    ``/hooks/trello`` (HEAD, POST) is served when ``trello_secret`` and the registered
    ``trello_callback_url`` are given; ``/hooks/custompms`` (POST) when ``custompms_secret``
    is.
    """
    seen = replays if replays is not None else ReplayFilter()
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
            action = delivery.action.id
            if action is None or seen.first_time(("trello", action)):
                full = kind in FEEDLESS_ACTIONS
                on_hint(
                    Hint("trello", kind, full=full, board=delivery.board, change=delivery.change)
                )
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
            event = ("custompms", note.resource, str(note.id), note.version, note.deleted)
            if note.version is None or seen.first_time(event):
                kind = kind_of(note.resource)
                change = None
                if kind is not None and note.version is not None:
                    change = (kind, str(note.id), str(note.version))
                on_hint(Hint("custompms", note.resource, resource=note.resource, change=change))
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
