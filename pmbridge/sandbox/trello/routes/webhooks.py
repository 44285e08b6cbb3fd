"""``/1/webhooks``: create, read, change and delete webhooks (see ``webhooks/``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from pmbridge.sandbox.trello.answers import TrelloJSON, not_found
from pmbridge.sandbox.trello.auth import AuthDep
from pmbridge.sandbox.trello.params import ParamsDep
from pmbridge.sandbox.trello.routes.common import DELETED, answer
from pmbridge.sandbox.trello.webhooks.model import FIELDS, Webhook
from pmbridge.sandbox.trello.webhooks.registry import Webhooks, registry

router = APIRouter(tags=["webhooks"])


def hooks_of(request: Request) -> Webhooks:
    """The app's webhook registry, delivering on the running loop."""
    hooks = registry(request.app.state)
    hooks.bind_loop()
    return hooks


def webhook_answer(result: Webhook | TrelloJSON) -> TrelloJSON:
    return result if isinstance(result, TrelloJSON) else TrelloJSON(result.to_json())


@router.post("/webhooks")
async def create_webhook(request: Request, auth: AuthDep, params: ParamsDep) -> TrelloJSON:
    return webhook_answer(await hooks_of(request).create(auth.token, params))


@router.get("/webhooks/{webhook_id}")
async def get_webhook(request: Request, webhook_id: str, auth: AuthDep) -> TrelloJSON:
    return webhook_answer(hooks_of(request).get(auth.token, webhook_id))


@router.put("/webhooks/{webhook_id}")
async def update_webhook(
    request: Request, webhook_id: str, auth: AuthDep, params: ParamsDep
) -> TrelloJSON:
    return webhook_answer(await hooks_of(request).update(auth.token, webhook_id, params))


@router.delete("/webhooks/{webhook_id}")
async def delete_webhook(request: Request, webhook_id: str, auth: AuthDep) -> TrelloJSON:
    hooks_of(request).delete(auth.token, webhook_id)
    return answer(DELETED)


@router.get("/webhooks/{webhook_id}/{field}")
async def get_webhook_field(
    request: Request, webhook_id: str, field: str, auth: AuthDep
) -> TrelloJSON:
    hook = hooks_of(request).get(auth.token, webhook_id)
    if field not in FIELDS:
        raise not_found()
    body = hook.to_json()
    return answer({"id": body["id"], field: body[field]})
