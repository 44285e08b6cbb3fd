"""``GET /capabilities``: the contract version this server speaks and its optional parts.

A client reads it once; a server that answers 404 here speaks version 1.0 and has none of
the optional parts (see docs/custompms-api.yaml, "Versions and optional parts"). The parts
named are those the app was made with (``create_app(features=...)``); with none, this
server plays a 1.0 one and answers 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from pmbridge.sandbox.custompms.problems import NotFound
from pmbridge.sandbox.custompms.wire import StoreDep, require_token

CONTRACT_VERSION = "1.1.0"

router = APIRouter(tags=["capabilities"], dependencies=[Depends(require_token)])


@router.get("/capabilities")
async def capabilities(request: Request, store: StoreDep) -> Response:
    features: tuple[str, ...] = request.app.state.features
    if not features:
        raise NotFound(f"There is nothing at {request.url.path}.")
    return JSONResponse(
        {"contract": CONTRACT_VERSION, "features": list(features), "statuses": list(store.statuses)}
    )
