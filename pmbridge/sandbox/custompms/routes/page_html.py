"""The HTML of the reference Custompms page: the record tables and one form per task.

Every value is escaped; the page has no JavaScript. See ``page_form`` for what the task
form sends back.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pmbridge.sandbox.custompms.routes.page_form import CSRF_FIELD, NEW_ROW
from pmbridge.sandbox.custompms.store import Record

PAGE_ROWS = 200
_NEW_ITEM = " placeholder='new item'"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 2rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f3f3f3; }
.muted { color: #777; font-size: .85em; }
.tag { background: #eef; border-radius: .3rem; padding: 0 .3rem; margin-right: .2rem; }
form.task { display: grid; grid-template-columns: 6rem 1fr; gap: .25rem .5rem; }
form.task textarea { min-height: 3rem; }
form.task .rows { display: grid; gap: .2rem; }
.error { color: #a00; }
"""


def page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def refusal(detail: str, messages: Sequence[str]) -> str:
    items = "".join(f"<li>{escape(m)}</li>" for m in messages)
    return page(
        "Not saved",
        f"<h1>Not saved</h1><p class='error'>{escape(detail)}</p><ul class='error'>{items}</ul>"
        "<p><a href='/'>Back to the records</a></p>",
    )


def _text(value: str) -> str:
    return escape(value).replace("\n", "<br>")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p class='muted'>None yet.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def body(records: dict[str, list[Record]], *, statuses: Sequence[str], csrf: str) -> str:
    """The whole page body: customers, projects, tasks (with their forms), comments, people
    (when this server has people: ``records`` holds the resources it offers)."""
    customer_names = {r["id"]: r["name"] for r in records["customers"]}
    project_names = {r["id"]: r["name"] for r in records["projects"]}
    task_titles = {r["id"]: r["title"] for r in records["tasks"]}
    people = records.get("people")
    customers = [
        [_text(c["name"]), _text(c["website"] or ""), _text(c["description"]), str(c["version"])]
        for c in records["customers"]
    ]
    projects = [
        [
            _text(p["name"]),
            _text(customer_names.get(p["customer_id"] or "", p["customer_id"] or "")),
            "yes" if p["archived"] else "",
            _text(p["description"]),
            str(p["version"]),
        ]
        for p in records["projects"]
    ]
    tasks = [
        [
            _text(project_names.get(t["project_id"], t["project_id"])),
            _task_summary(t),
            _text(t["due_at"] or ""),
            "yes" if t["completed"] else "",
            _task_form(t, statuses=statuses, people=people or [], csrf=csrf),
        ]
        for t in records["tasks"]
    ]
    comments = [
        [
            _text(
                "task " + task_titles.get(c["task_id"], c["task_id"])
                if c["task_id"]
                else "project " + project_names.get(c["project_id"], c["project_id"])
            ),
            _text(c["author"] or ""),
            _text(c["text"]),
        ]
        for c in records["comments"]
    ]
    return "\n".join(
        [
            "<h1>Custompms</h1>",
            "<p class='muted'>The reference Custompms of pmbridge. This local demo page needs "
            f"no token. Newest changes first; at most {PAGE_ROWS} of each.</p>",
            "<h2 id='customers'>Customers</h2>",
            _table(["Name", "Website", "Description", "Version"], customers),
            "<h2 id='projects'>Projects</h2>",
            _table(["Name", "Customer", "Archived", "Description", "Version"], projects),
            "<h2 id='tasks'>Tasks</h2>",
            _table(["Project", "Task", "Due", "Done", "Edit"], tasks),
            "<h2 id='comments'>Comments</h2>",
            _table(["On", "Author", "Text"], comments),
        ]
        + (
            []
            if people is None
            else [
                "<h2 id='people'>People</h2>",
                _table(["Name", "Email"], [[_text(p["name"]), _text(p["email"])] for p in people]),
            ]
        )
    )


def _task_summary(task: Record) -> str:
    parts = [
        f"<span id='task-{escape(task['id'])}'>{_text(task['title'])}</span>",
        f"<div class='muted'>{_text(task['status'])} · version {task['version']}</div>",
    ]
    if task.get("tags"):
        parts.append(
            "<div>"
            + "".join(f"<span class='tag'>{_text(t)}</span>" for t in task["tags"])
            + "</div>"
        )
    if task.get("assignees"):
        parts.append(f"<div class='muted'>for {_text(', '.join(task['assignees']))}</div>")
    if task.get("checklist"):
        items = "".join(
            f"<li>{'☑' if item['done'] else '☐'} {_text(item['text'])}</li>"
            for item in task["checklist"]
        )
        parts.append(f"<ul class='checklist'>{items}</ul>")
    if task.get("links"):
        links = "".join(
            f"<li><a href='{escape(link['url'])}' rel='noopener noreferrer'>"
            f"{_text(link['title'] or link['url'])}</a></li>"
            for link in task["links"]
        )
        parts.append(f"<ul class='links'>{links}</ul>")
    return "".join(parts)


def _field(label: str, field_id: str, control: str) -> str:
    return f"<label for='{field_id}'>{escape(label)}</label>{control}"


def _status_select(task: Record, statuses: Sequence[str]) -> str:
    task_id = escape(task["id"])
    options = list(statuses)
    if task["status"] not in options:  # a status this server no longer has: keep it shown
        options.insert(0, task["status"])
    rendered = "".join(
        f"<option value='{escape(s)}'{' selected' if s == task['status'] else ''}>"
        f"{escape(s)}</option>"
        for s in options
    )
    return f"<select id='status-{task_id}' name='status'>{rendered}</select>"


def _assignee_select(task: Record, people: Sequence[Record]) -> str:
    task_id = escape(task["id"])
    emails = [p["email"] for p in people]
    emails += [e for e in task["assignees"] if e not in emails]
    names = {p["email"]: p["name"] for p in people}
    options = "".join(
        f"<option value='{escape(e)}'{' selected' if e in task['assignees'] else ''}>"
        f"{escape(names.get(e, e))} &lt;{escape(e)}&gt;</option>"
        for e in sorted(emails)
    )
    return (
        "<input type='hidden' name='assignees_shown' value='1'>"
        f"<select id='assignees-{task_id}' name='assignees' multiple>{options}</select>"
    )


def _checklist_rows(task: Record) -> str:
    task_id = escape(task["id"])
    rows = [
        (escape(item["id"]), escape(item["text"]), item["done"]) for item in task["checklist"]
    ] + [("", "", False)]
    rendered = "".join(
        f"<span><input type='checkbox' name='check_done' value='{item_id or NEW_ROW}'"
        f"{' checked' if done else ''} aria-label='done'>"
        f"<input type='hidden' name='check_id' value='{item_id}'>"
        f"<input name='check_text' value='{text}'{'' if item_id else _NEW_ITEM}></span>"
        for item_id, text, done in rows
    )
    return (
        "<input type='hidden' name='checklist_shown' value='1'>"
        f"<div class='rows' id='checklist-{task_id}'>{rendered}</div>"
    )


def _link_rows(task: Record) -> str:
    task_id = escape(task["id"])
    rows = [
        (escape(link["id"]), escape(link["title"]), escape(link["url"])) for link in task["links"]
    ] + [("", "", "")]
    rendered = "".join(
        f"<span><input type='hidden' name='link_id' value='{link_id}'>"
        f"<input name='link_title' value='{title}' placeholder='title' aria-label='title'>"
        f"<input name='link_url' value='{url}' placeholder='https://…' aria-label='URL'></span>"
        for link_id, title, url in rows
    )
    return (
        "<input type='hidden' name='links_shown' value='1'>"
        f"<div class='rows' id='links-{task_id}'>{rendered}</div>"
    )


def _optional_fields(task: Record, people: Sequence[Record]) -> str:
    """The controls of contract 1.1's optional task properties this server has."""
    task_id = escape(task["id"])
    controls = []
    if "tags" in task:
        controls.append(
            _field(
                "Tags",
                f"tags-{task_id}",
                f"<input id='tags-{task_id}' name='tags' "
                f"value='{escape(', '.join(task['tags']))}' placeholder='comma, separated'>",
            )
        )
    if "assignees" in task:
        controls.append(_field("Assignees", f"assignees-{task_id}", _assignee_select(task, people)))
    if "checklist" in task:
        controls.append(_field("Checklist", f"checklist-{task_id}", _checklist_rows(task)))
    if "links" in task:
        controls.append(_field("Links", f"links-{task_id}", _link_rows(task)))
    return "".join(controls)


def _task_form(
    task: Record, *, statuses: Sequence[str], people: Sequence[Record], csrf: str
) -> str:
    task_id = escape(task["id"])
    return (
        f"<form class='task' method='post' action='/ui/tasks/{task_id}'>"
        f"<input type='hidden' name='{CSRF_FIELD}' value='{escape(csrf)}'>"
        f"<input type='hidden' name='version' value='{task['version']}'>"
        + _field(
            "Title",
            f"title-{task_id}",
            f"<input id='title-{task_id}' name='title' value='{escape(task['title'])}'>",
        )
        + _field("Status", f"status-{task_id}", _status_select(task, statuses))
        + _field(
            "Description",
            f"description-{task_id}",
            # The newline after <textarea> is eaten by the parser, so a leading one survives.
            f"<textarea id='description-{task_id}' name='description'>\n"
            f"{escape(task['description'])}</textarea>",
        )
        + _optional_fields(task, people)
        + "<span></span><button type='submit'>Save</button></form>"
    )
