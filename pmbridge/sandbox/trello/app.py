"""Assemble the Trello sandbox: ``create_app(config, world)`` returns the ASGI app.

Layers, outermost first: ``SandboxControl`` (request counts, injected faults, Trello-style
5xx and 429 answers) → the rate-limit middleware of ``ratelimit.py`` → the FastAPI app
with every ``/1`` route (``routes/``). The returned object
carries ``state.world``, ``state.config`` and ``state.control``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from pmbridge.sandbox.control import Authorizer, SandboxControl
from pmbridge.sandbox.trello import ratelimit, webhooks
from pmbridge.sandbox.trello.answers import (
    NOT_FOUND,
    TrelloHTTPError,
    TrelloJSON,
    error_answer,
    rate_limit_answer,
    text_answer,
)
from pmbridge.sandbox.trello.auth import check_credentials, credentials_of
from pmbridge.sandbox.trello.config import SandboxConfig
from pmbridge.sandbox.trello.persist import StateFile
from pmbridge.sandbox.trello.routes import ROUTERS
from pmbridge.sandbox.trello.world import World

API_PREFIX = "/1"


class TrailingSlashMiddleware:
    """Trello answers ``/1/boards/{id}/`` like ``/1/boards/{id}``: drop the trailing slash."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope)
                scope["path"] = path.rstrip("/") or "/"
                raw = scope.get("raw_path")
                if isinstance(raw, bytes | bytearray):
                    scope["raw_path"] = bytes(raw).rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


def create_app(config: SandboxConfig | None = None, world: World | None = None) -> Any:
    """The Trello sandbox as an ASGI app (see the module docstring)."""
    config = config or SandboxConfig()
    state_file = StateFile(config.persist_path) if config.persist_path else None
    if world is None and state_file is not None:
        world = state_file.load(config.members)
    if world is None:
        world = World.from_config(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        saver = None
        if state_file is not None:
            saver = asyncio.create_task(state_file.autosave(world))
        await webhooks.start(app.state)
        try:
            yield
        finally:
            await webhooks.stop(app.state)
            if saver is not None:
                saver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await saver
                state_file.save(world)

    api = FastAPI(
        title="Trello sandbox",
        lifespan=lifespan,
        default_response_class=TrelloJSON,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    api.state.world = world
    api.state.config = config
    api.state.state_file = state_file
    api.add_middleware(TrailingSlashMiddleware)
    _add_error_handlers(api)
    for router in ROUTERS:
        api.include_router(router, prefix=API_PREFIX)

    inner: Any = api
    if config.rate_limits is not None:
        inner = ratelimit.RateLimitMiddleware(api, config.rate_limits)
    control = SandboxControl(
        inner,
        error_answer=error_answer,
        rate_limit_answer=rate_limit_answer,
        authorized=_has_credentials(api),
        credentials_hint="send its API key and a member's token as Trello takes them: "
        'Authorization: OAuth oauth_consumer_key="KEY", oauth_token="TOKEN" '
        "(or ?key=KEY&token=TOKEN)",
    )
    api.state.control = control
    # Tests reach everything from the outermost object: app.state.control.set_faults(...).
    control.state = api.state  # type: ignore[attr-defined]
    control.api = api  # type: ignore[attr-defined]
    return control


def _has_credentials(api: FastAPI) -> Authorizer:
    """Whether a control request carries this sandbox's key and a member's token."""

    def authorized(headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
        key, token = credentials_of(dict(query), headers.get("authorization", ""), {})
        try:
            check_credentials(api.state.world, api.state.config.key, key, token)
        except TrelloHTTPError:
            return False
        return True

    return authorized


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(TrelloHTTPError)
    async def trello_error(request: Request, exc: TrelloHTTPError) -> Response:
        return text_answer(exc.status, exc.text)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown routes and unsupported methods: Trello answers 404 in plain text.
        if exc.status_code in (404, 405):
            return text_answer(404, NOT_FOUND)
        return text_answer(exc.status_code, str(exc.detail))

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = first.get("loc", ("", "request"))[-1]
        return text_answer(400, f"invalid value for {where}")
