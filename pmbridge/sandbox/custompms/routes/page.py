"""A plain HTML page at ``/``: the records of the reference Custompms, and a form per task.

For the demo, so a person can watch the sync from the Custompms side and edit a task there:
title, status (one of the server's statuses), description, tags, assignees, checklist and
links (those of them this server has). Plain forms, no JavaScript. The page needs no token:
it is a local demo page, so never expose the reference server beyond localhost. Because a
browser would send a form from any site, an edit must carry the page's CSRF token and, when
the browser names it, come from this server's own origin. Edits go through the same
validation and store as the API (and notify subscribers the same way); the form carries the
version it was rendered from, so an edit made on a stale page is refused instead of
overwriting a newer change.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pmbridge.sandbox.custompms.problems import ApiProblem
from pmbridge.sandbox.custompms.resources import TASKS, ResourceSpec
from pmbridge.sandbox.custompms.routes import page_html
from pmbridge.sandbox.custompms.routes.page_form import (
    FormRefused,
    check_guards,
    csrf_token,
    form_changes,
)
from pmbridge.sandbox.custompms.store import Record, Store
from pmbridge.sandbox.custompms.wire import NotifierDep, StoreDep

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, store: StoreDep) -> HTMLResponse:
    records = await run_in_threadpool(_load, store, request.app.state.resources)
    csrf = csrf_token(request.app.state.page_secret)
    body = page_html.body(records, statuses=store.statuses, csrf=csrf)
    return HTMLResponse(page_html.page("Custompms", body))


@router.post("/ui/tasks/{task_id}")
async def edit_task(
    task_id: str, request: Request, store: StoreDep, notifier: NotifierDep
) -> Response:
    form = await request.form()
    tasks: ResourceSpec = request.app.state.resources[TASKS.name]
    try:
        version = check_guards(request, form, request.app.state.page_secret)
        changes = form_changes(form)
        checked = _validated(tasks.patch_model, changes)
        record, changed = await run_in_threadpool(
            partial(store.update, tasks, task_id, checked, if_match=frozenset({version}))
        )
    except FormRefused as refused:
        return _refusal(refused.status, refused.detail, refused.messages)
    except ApiProblem as problem:
        hint = " Reload the page and edit again." if problem.status == 412 else ""
        messages = [f"{e.field}: {e.message}" for e in problem.errors]
        return _refusal(problem.status, problem.detail + hint, messages)
    if changed:
        notifier.changed(TASKS.name, record["id"], record["version"], deleted=False)
    return RedirectResponse(f"/#task-{task_id}", status_code=303)


def _validated(model: type[BaseModel], changes: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(changes).model_dump(exclude_unset=True)
    except ValidationError as err:
        messages = [
            f"{'.'.join(str(part) for part in e['loc'])}: "
            + str(e["msg"]).removeprefix("Value error, ")
            for e in err.errors()
        ]
        raise FormRefused(422, "The task was not changed.", messages) from None


def _load(store: Store, resources: dict[str, ResourceSpec]) -> dict[str, list[Record]]:
    return {name: store.live(spec, page_html.PAGE_ROWS) for name, spec in resources.items()}


def _refusal(status: int, detail: str, messages: list[str]) -> HTMLResponse:
    return HTMLResponse(page_html.refusal(detail, messages), status_code=status)
