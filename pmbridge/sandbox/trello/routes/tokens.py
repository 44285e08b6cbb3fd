"""``/1/tokens/{token}``: the token, its member, its webhooks, and revoking it.

The token in the path is the credential; only the API key must accompany it
(``auth.authenticate_path_token``). Revoking a token deletes its webhooks.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from pmbridge.sandbox.trello import render
from pmbridge.sandbox.trello.answers import TrelloJSON
from pmbridge.sandbox.trello.auth import PathTokenAuthDep
from pmbridge.sandbox.trello.params import ParamsDep
from pmbridge.sandbox.trello.routes.common import DELETED, WorldDep, answer, fields_of
from pmbridge.sandbox.trello.routes.webhooks import hooks_of, webhook_answer

router = APIRouter(tags=["tokens"])

TOKEN_FIELDS = ("id", "identifier", "idMember", "dateCreated", "dateExpires", "permissions")


@router.get("/tokens/{token}")
async def get_token(
    token: str, auth: PathTokenAuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    body = world.token_json(auth.token)
    return answer(fields_of(body, params, all_fields=TOKEN_FIELDS, default=TOKEN_FIELDS))


@router.get("/tokens/{token}/member")
async def get_token_member(
    token: str, auth: PathTokenAuthDep, params: ParamsDep, world: WorldDep
) -> TrelloJSON:
    body = world.member_json(auth.member)
    return answer(
        fields_of(body, params, all_fields=render.MEMBER_FIELDS, default=render.MEMBER_FIELDS)
    )


@router.delete("/tokens/{token}")
async def delete_token(request: Request, token: str, auth: PathTokenAuthDep) -> TrelloJSON:
    hooks_of(request).delete_all_of(auth.token)
    request.app.state.world.revoke_token(auth.token)
    return answer(DELETED)


@router.get("/tokens/{token}/webhooks")
async def list_token_webhooks(request: Request, token: str, auth: PathTokenAuthDep) -> TrelloJSON:
    return answer([h.to_json() for h in hooks_of(request).of_token(auth.token)])


@router.post("/tokens/{token}/webhooks")
async def create_token_webhook(
    request: Request, token: str, auth: PathTokenAuthDep, params: ParamsDep
) -> TrelloJSON:
    return webhook_answer(await hooks_of(request).create(auth.token, params))


@router.get("/tokens/{token}/webhooks/{webhook_id}")
async def get_token_webhook(
    request: Request, token: str, webhook_id: str, auth: PathTokenAuthDep
) -> TrelloJSON:
    return webhook_answer(hooks_of(request).get(auth.token, webhook_id))


@router.put("/tokens/{token}/webhooks/{webhook_id}")
async def update_token_webhook(
    request: Request, token: str, webhook_id: str, auth: PathTokenAuthDep, params: ParamsDep
) -> TrelloJSON:
    return webhook_answer(await hooks_of(request).update(auth.token, webhook_id, params))


@router.delete("/tokens/{token}/webhooks/{webhook_id}")
async def delete_token_webhook(
    request: Request, token: str, webhook_id: str, auth: PathTokenAuthDep
) -> TrelloJSON:
    hooks_of(request).delete(auth.token, webhook_id)
    return answer(DELETED)
