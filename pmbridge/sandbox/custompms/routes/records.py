"""The routes every resource has: change feed, get, create, patch, soft delete.

``records_router(spec)`` builds them for one resource; each resource module calls it once.
Each request uses the resource as this server offers it (``app.state.resources``, see
``resources.offered``): a server without some optional parts lacks those properties, and one
without the resource answers 404.
Blocking store calls run in the thread pool; a committed change is handed to the notifier.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from pmbridge.sandbox.custompms.problems import NotFound
from pmbridge.sandbox.custompms.resources import ResourceSpec
from pmbridge.sandbox.custompms.wire import (
    NotifierDep,
    StoreDep,
    check_idempotency_key,
    parse_if_match,
    read_json_object,
    record_response,
    require_token,
    validate,
)

FEED_LIMIT_MAX = 1000


def records_router(spec: ResourceSpec) -> APIRouter:
    """The router of one resource, at ``/<spec.name>``; every route needs the token."""
    router = APIRouter(
        prefix=f"/{spec.name}", tags=[spec.name], dependencies=[Depends(require_token)]
    )

    @router.get("")
    async def read_feed(
        request: Request,
        store: StoreDep,
        since: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=FEED_LIMIT_MAX)] = 100,
    ) -> Response:
        offered = _offered(request, spec)
        page = await run_in_threadpool(store.feed, offered, since, limit)
        return JSONResponse(
            {"items": page.items, "next_since": page.next_since, "has_more": page.has_more}
        )

    @router.get("/{record_id}")
    async def get_record(record_id: str, request: Request, store: StoreDep) -> Response:
        offered = _offered(request, spec)
        return record_response(await run_in_threadpool(store.get, offered, record_id))

    @router.post("")
    async def create_record(
        request: Request,
        store: StoreDep,
        notifier: NotifierDep,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Response:
        offered = _offered(request, spec)
        key = check_idempotency_key(idempotency_key)
        values = validate(
            offered.create_model, await read_json_object(request), what=spec.singular, partial=False
        )
        record, created = await run_in_threadpool(
            partial(store.create, offered, values, idempotency_key=key)
        )
        if not created:
            return record_response(record)
        notifier.changed(spec.name, record["id"], record["version"], deleted=False)
        return record_response(record, status=201, location=f"/{spec.name}/{record['id']}")

    @router.patch("/{record_id}")
    async def patch_record(
        record_id: str,
        request: Request,
        store: StoreDep,
        notifier: NotifierDep,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        offered = _offered(request, spec)
        versions = parse_if_match(if_match)
        changes = validate(
            offered.patch_model, await read_json_object(request), what=spec.singular, partial=True
        )
        record, changed = await run_in_threadpool(
            partial(store.update, offered, record_id, changes, if_match=versions)
        )
        if changed:
            notifier.changed(spec.name, record["id"], record["version"], deleted=False)
        return record_response(record)

    @router.delete("/{record_id}")
    async def delete_record(
        record_id: str,
        request: Request,
        store: StoreDep,
        notifier: NotifierDep,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        offered = _offered(request, spec)
        versions = parse_if_match(if_match)
        tombstone = await run_in_threadpool(
            partial(store.delete, offered, record_id, if_match=versions)
        )
        if tombstone is not None:
            notifier.changed(spec.name, tombstone["id"], tombstone["version"], deleted=True)
        return Response(status_code=204)

    return router


def _offered(request: Request, spec: ResourceSpec) -> ResourceSpec:
    """``spec`` as this server offers it; ``NotFound`` when it has no such resource."""
    found: ResourceSpec | None = request.app.state.resources.get(spec.name)
    if found is None:
        raise NotFound(f"There is nothing at {request.url.path}.")
    return found
