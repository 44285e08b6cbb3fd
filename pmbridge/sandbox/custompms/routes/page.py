"""A plain HTML page at ``/``: the records of the reference Custompms, and a form per task.

For the demo, so a person can watch the sync from the Custompms side and edit a task's
title, status and description there. Plain forms, no JavaScript. The page needs no token:
it is a local demo page, so never expose the reference server beyond localhost. Edits go
through the same validation and store as the API (and notify subscribers the same way);
the form carries the version it was rendered from, so an edit made on a stale page is
refused instead of overwriting a newer change.
"""

from __future__ import annotations

from functools import partial
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pmbridge.sandbox.custompms.models import TaskPatch
from pmbridge.sandbox.custompms.problems import ApiProblem
from pmbridge.sandbox.custompms.resources import COMMENTS, CUSTOMERS, PROJECTS, TASKS
from pmbridge.sandbox.custompms.store import Record
from pmbridge.sandbox.custompms.wire import NotifierDep, StoreDep

PAGE_ROWS = 200

router = APIRouter(include_in_schema=False)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 2rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f3f3f3; }
.muted { color: #777; font-size: .85em; }
form.task { display: grid; grid-template-columns: 6rem 1fr; gap: .25rem .5rem; }
form.task textarea { min-height: 3rem; }
.error { color: #a00; }
"""


@router.get("/", response_class=HTMLResponse)
async def home(store: StoreDep) -> HTMLResponse:
    sections = await run_in_threadpool(_load, store)
    return HTMLResponse(_page("Custompms", _body(**sections)))


@router.post("/ui/tasks/{task_id}")
async def edit_task(
    task_id: str, request: Request, store: StoreDep, notifier: NotifierDep
) -> Response:
    form = await request.form()
    changes: dict[str, Any] = {}
    for name in ("title", "status", "description"):
        value = form.get(name)
        if isinstance(value, str):
            # Browsers send textarea line breaks as CRLF; the API stores LF.
            changes[name] = value.replace("\r\n", "\n")
    version = form.get("version")
    try:
        checked = TaskPatch.model_validate(changes).model_dump(exclude_unset=True)
    except ValidationError as err:
        messages = [f"{e['loc'][0]}: {e['msg']}" for e in err.errors()]
        return _refusal(422, "The task was not changed.", messages)
    versions = frozenset({int(version)}) if isinstance(version, str) and version.isdigit() else None
    try:
        record, changed = await run_in_threadpool(
            partial(store.update, TASKS, task_id, checked, if_match=versions)
        )
    except ApiProblem as problem:
        hint = " Reload the page and edit again." if problem.status == 412 else ""
        messages = [f"{e.field}: {e.message}" for e in problem.errors]
        return _refusal(problem.status, problem.detail + hint, messages)
    if changed:
        notifier.changed(TASKS.name, record["id"], record["version"], deleted=False)
    return RedirectResponse(f"/#task-{task_id}", status_code=303)


def _load(store: Any) -> dict[str, list[Record]]:
    return {
        "customers": store.live(CUSTOMERS, PAGE_ROWS),
        "projects": store.live(PROJECTS, PAGE_ROWS),
        "tasks": store.live(TASKS, PAGE_ROWS),
        "comments": store.live(COMMENTS, PAGE_ROWS),
    }


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _refusal(status: int, detail: str, messages: list[str]) -> HTMLResponse:
    items = "".join(f"<li>{escape(m)}</li>" for m in messages)
    body = (
        f"<h1>Not saved</h1><p class='error'>{escape(detail)}</p><ul class='error'>{items}</ul>"
        "<p><a href='/'>Back to the records</a></p>"
    )
    return HTMLResponse(_page("Not saved", body), status_code=status)


def _names(records: list[Record], key: str) -> dict[str, str]:
    return {r["id"]: r[key] for r in records}


def _body(
    customers: list[Record],
    projects: list[Record],
    tasks: list[Record],
    comments: list[Record],
) -> str:
    customer_names = _names(customers, "name")
    project_names = _names(projects, "name")
    task_titles = _names(tasks, "title")
    parts = [
        "<h1>Custompms</h1>",
        "<p class='muted'>The reference Custompms of pmbridge. This local demo page needs no "
        f"token. Newest changes first; at most {PAGE_ROWS} of each.</p>",
        "<h2 id='customers'>Customers</h2>",
        _table(
            ["Name", "Website", "Description", "Version"],
            [
                [
                    _text(c["name"]),
                    _text(c["website"] or ""),
                    _text(c["description"]),
                    _text(str(c["version"])),
                ]
                for c in customers
            ],
        ),
        "<h2 id='projects'>Projects</h2>",
        _table(
            ["Name", "Customer", "Archived", "Description", "Version"],
            [
                [
                    _text(p["name"]),
                    _text(customer_names.get(p["customer_id"] or "", p["customer_id"] or "")),
                    "yes" if p["archived"] else "",
                    _text(p["description"]),
                    _text(str(p["version"])),
                ]
                for p in projects
            ],
        ),
        "<h2 id='tasks'>Tasks</h2>",
        _table(
            ["Project", "Task", "Due", "Done", "Edit"],
            [
                [
                    _text(project_names.get(t["project_id"], t["project_id"])),
                    f"<span id='task-{escape(t['id'])}'>{_text(t['title'])}</span>"
                    f"<div class='muted'>{_text(t['status'])} · version {t['version']}</div>",
                    _text(t["due_at"] or ""),
                    "yes" if t["completed"] else "",
                    _task_form(t),
                ]
                for t in tasks
            ],
        ),
        "<h2 id='comments'>Comments</h2>",
        _table(
            ["On", "Author", "Text"],
            [
                [
                    _text(
                        "task " + task_titles.get(c["task_id"], c["task_id"])
                        if c["task_id"]
                        else "project " + project_names.get(c["project_id"], c["project_id"])
                    ),
                    _text(c["author"] or ""),
                    _text(c["text"]),
                ]
                for c in comments
            ],
        ),
    ]
    return "\n".join(parts)


def _text(value: str) -> str:
    return escape(value).replace("\n", "<br>")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p class='muted'>None yet.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _task_form(task: Record) -> str:
    task_id = escape(task["id"])
    return (
        f"<form class='task' method='post' action='/ui/tasks/{task_id}'>"
        f"<input type='hidden' name='version' value='{task['version']}'>"
        f"<label for='title-{task_id}'>Title</label>"
        f"<input id='title-{task_id}' name='title' value='{escape(task['title'])}'>"
        f"<label for='status-{task_id}'>Status</label>"
        f"<input id='status-{task_id}' name='status' value='{escape(task['status'])}'>"
        f"<label for='description-{task_id}'>Description</label>"
        # The newline after <textarea> is eaten by the parser, so a leading one survives.
        f"<textarea id='description-{task_id}' name='description'>\n"
        f"{escape(task['description'])}</textarea>"
        "<span></span><button type='submit'>Save</button></form>"
    )
