"""``GET /capabilities``: the contract version this server speaks and its optional parts.

A client reads it once; a server that answers 404 here speaks version 1.0 and has none of
the optional parts (see docs/custompms-api.yaml, "Versions and optional parts").
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse, Response

from pmbridge.sandbox.custompms.wire import StoreDep, require_token

CONTRACT_VERSION = "1.1.0"
FEATURES = ("tags", "assignees", "checklist", "links", "people")

router = APIRouter(tags=["capabilities"], dependencies=[Depends(require_token)])


@router.get("/capabilities")
async def capabilities(store: StoreDep) -> Response:
    return JSONResponse(
        {"contract": CONTRACT_VERSION, "features": list(FEATURES), "statuses": list(store.statuses)}
    )
