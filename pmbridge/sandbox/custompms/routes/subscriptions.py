"""The HTTP routes of subscriptions: register, list and remove notification URLs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from pmbridge.sandbox.custompms.models import SubscriptionCreate
from pmbridge.sandbox.custompms.wire import StoreDep, read_json_object, require_token, validate

router = APIRouter(
    prefix="/subscriptions", tags=["subscriptions"], dependencies=[Depends(require_token)]
)


@router.get("")
async def list_subscriptions(store: StoreDep) -> Response:
    return JSONResponse({"items": await run_in_threadpool(store.subscriptions)})


@router.post("")
async def create_subscription(request: Request, store: StoreDep) -> Response:
    values = validate(
        SubscriptionCreate, await read_json_object(request), what="subscription", partial=False
    )
    created = await run_in_threadpool(store.add_subscription, values["url"], values["secret"])
    return JSONResponse(created, status_code=201)


@router.delete("/{subscription_id}")
async def delete_subscription(subscription_id: str, store: StoreDep) -> Response:
    await run_in_threadpool(store.remove_subscription, subscription_id)
    return Response(status_code=204)
