"""Assemble the reference Custompms: ``create_app`` builds the ASGI app.

The FastAPI app (one router per resource, subscriptions, the HTML page, problem+json
error handlers) is wrapped in ``SandboxControl`` so tests and the demo can count requests
and inject faults; the returned ``CustompmsApp`` is that wrapper, with ``state.control``,
``state.store`` and ``state.notifier`` reachable on it.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import weakref
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from pmbridge.sandbox.control import Answer, SandboxControl
from pmbridge.sandbox.custompms.constraints import DEFAULT_STATUSES
from pmbridge.sandbox.custompms.limits import MAX_BODY_BYTES, BodyLimit
from pmbridge.sandbox.custompms.notify import Notifier
from pmbridge.sandbox.custompms.problems import (
    PROBLEM_MEDIA_TYPE,
    ApiProblem,
    FieldProblem,
    Invalid,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    Unavailable,
    problem_bytes,
    problem_response,
)
from pmbridge.sandbox.custompms.resources import FEATURES, offered
from pmbridge.sandbox.custompms.routes import (
    capabilities,
    comments,
    customers,
    page,
    people,
    projects,
    subscriptions,
    tasks,
)
from pmbridge.sandbox.custompms.store import Store
from pmbridge.sandbox.custompms.wire import bearer_matches

DEFAULT_TOKEN = "custompms-sandbox-token"


class CustompmsApp(SandboxControl):
    """The reference Custompms as an ASGI app: the API inside ``SandboxControl``.

    :param api: the FastAPI app
    :param store: where the records live
    """

    def __init__(self, api: FastAPI, store: Store):
        super().__init__(
            api,
            error_answer=_error_answer,
            rate_limit_answer=_rate_limit_answer,
            authorized=lambda headers, _query: bearer_matches(
                headers.get("authorization", ""), api.state.token
            ),
            credentials_hint="send its API token as 'Authorization: Bearer TOKEN'",
        )
        self.api = api
        self.store = store
        self.state: State = api.state
        api.state.control = self


def create_app(
    db_url: str | None = None,
    token: str = DEFAULT_TOKEN,
    *,
    notify_attempts: int = 4,
    statuses: Sequence[str] = DEFAULT_STATUSES,
    features: Iterable[str] = FEATURES,
) -> CustompmsApp:
    """A reference Custompms.

    :param db_url: ``sqlite:///FILE`` or a file path; ``None``: a temporary file, removed
        when the app is garbage-collected
    :param token: the bearer token every API request must carry
    :param notify_attempts: tries per notification delivery
    :param statuses: the task statuses that exist (any other is refused with 422)
    :param features: the optional parts of contract 1.1 it has (default: all of
        ``resources.FEATURES``); none makes it a contract 1.0 server: ``/capabilities``
        answers 404, tasks have no tags, assignees, checklist or links (a write carrying
        one is refused with 422 as an unknown property), and there is no ``/people``
    """
    if not token:
        raise ValueError("the Custompms token must not be empty")
    chosen = frozenset(features)
    resources = offered(chosen)
    temp_dir = None
    if db_url is None:
        temp_dir = tempfile.mkdtemp(prefix="custompms-")
        db_url = str(Path(temp_dir) / "custompms.db")
    store = Store(db_url, statuses=statuses)
    notifier = Notifier(store.subscription_targets, attempts=notify_attempts)

    @asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        yield
        notifier.close()
        store.close()

    api = FastAPI(
        title="Custompms (pmbridge reference server)",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    api.state.store = store
    api.state.notifier = notifier
    api.state.token = token
    api.state.resources = resources
    api.state.features = tuple(name for name in FEATURES if name in chosen)
    api.state.page_secret = secrets.token_bytes(32)  # signs the page's CSRF tokens
    routers = (customers, projects, tasks, comments, people, capabilities, subscriptions, page)
    for module in routers:
        api.include_router(module.router)
    _install_error_handlers(api)
    api.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app = CustompmsApp(api, store)
    if temp_dir is not None:
        weakref.finalize(app, _remove_temp_db, store, temp_dir)
    return app


def _remove_temp_db(store: Store, temp_dir: str) -> None:
    store.close()
    shutil.rmtree(temp_dir, ignore_errors=True)


def _install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiProblem)
    async def on_problem(_request: Request, problem: ApiProblem) -> Response:
        return problem_response(problem)

    @api.exception_handler(RequestValidationError)
    async def on_invalid_parameter(_request: Request, err: RequestValidationError) -> Response:
        errors = [
            FieldProblem(str(error["loc"][-1]) if error.get("loc") else "request", error["msg"])
            for error in err.errors()
        ]
        return problem_response(Invalid("A request parameter is not valid.", errors=errors))

    @api.exception_handler(HTTPException)
    async def on_http_error(request: Request, err: HTTPException) -> Response:
        problem: ApiProblem
        if err.status_code == 404:
            problem = NotFound(f"There is nothing at {request.url.path}.")
        elif err.status_code == 405:
            allowed = _allowed_methods(request)
            problem = MethodNotAllowed(
                f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
            return problem_response(problem)
        else:
            problem = ApiProblem(str(err.detail))
            problem.status = err.status_code
        problem.headers.update(err.headers or {})
        return problem_response(problem)

    @api.exception_handler(Exception)
    async def on_crash(_request: Request, _err: Exception) -> Response:
        return problem_response(ApiProblem("The Custompms failed unexpectedly."))


def _allowed_methods(request: Request) -> list[str]:
    # Starlette's own 405 names the methods of one route only, and a path here has one route
    # per method: ask the routes which methods would match this path.
    allowed = []
    for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def _error_answer(status: int) -> Answer:
    return (
        status,
        PROBLEM_MEDIA_TYPE,
        problem_bytes(Unavailable("The Custompms cannot answer now; retry later."), status=status),
    )


def _rate_limit_answer() -> Answer:
    problem = RateLimited("Too many requests; retry after the Retry-After delay.")
    return 429, PROBLEM_MEDIA_TYPE, problem_bytes(problem)
