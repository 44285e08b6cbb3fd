"""The HTML page of the reference Custompms: lists the records, edits a task through a form."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

from pmbridge.sandbox.server import ServerThread
from tests.sandbox_custompms.conftest import Api


class _Forms(HTMLParser):
    """The forms of a page as a browser would submit them: action → field values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._action: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._action = values["action"]
            self.forms[self._action] = {}
        elif tag == "input" and self._action and "name" in values:
            self.forms[self._action][values["name"]] = values.get("value", "")
        elif tag == "textarea" and self._action:
            self._textarea = values["name"]
            self.forms[self._action][self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._action and self._textarea:
            self.forms[self._action][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            field = self.forms[self._action or ""][self._textarea or ""]
            # As browsers do: the newline right after <textarea> is not part of the value.
            self.forms[self._action or ""][self._textarea or ""] = field.removeprefix("\n")
            self._textarea = None
        elif tag == "form":
            self._action = None


def _forms(html: str) -> dict[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def test_the_page_lists_records_without_a_token(custompms_server: ServerThread, api: Api) -> None:
    customer = api.customer(name="Acme <Inc>", website="https://acme.example")
    project = api.project(customer_id=customer["id"], name="Site & Shop")
    task = api.task(project_id=project["id"], title="Write <b>copy</b>", status="Doing")
    api.create("comments", task_id=task["id"], author="Ann", text="First draft done")
    deleted = api.task(project_id=project["id"], title="Dropped task")
    api.http.delete(f"/tasks/{deleted['id']}")

    page = httpx.get(custompms_server.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    for text in ["Acme &lt;Inc&gt;", "Site &amp; Shop", "Write &lt;b&gt;copy&lt;/b&gt;", "Doing"]:
        assert text in html
    assert "First draft done" in html and "Ann" in html
    assert "<b>copy</b>" not in html
    assert "Dropped task" not in html
    assert f"/ui/tasks/{task['id']}" in _forms(html)


def test_editing_a_task_through_the_form_changes_it(
    custompms_server: ServerThread, api: Api
) -> None:
    task = api.task(title="Draft", status="todo", description="\nstarts with a blank line")
    cursor = api.feed("tasks")["next_since"]
    browser = httpx.Client(base_url=custompms_server.url)  # no token: the page needs none
    action = f"/ui/tasks/{task['id']}"
    form = _forms(browser.get("/").text)[action]
    assert form["title"] == "Draft" and form["description"] == task["description"]

    edited = {
        **form,
        "title": "Final copy",
        "status": "In review",
        "description": "line one\r\nline two",
    }
    saved = browser.post(action, data=edited)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/#task-{task['id']}"
    assert "Final copy" in browser.get("/").text

    [changed] = api.feed("tasks", since=cursor)["items"]
    assert changed["id"] == task["id"]
    assert changed["version"] == 2
    assert changed["title"] == "Final copy"
    assert changed["status"] == "In review"
    assert changed["description"] == "line one\nline two"

    # The same (now stale) form again is refused, not applied over the newer version.
    stale = browser.post(action, data={**form, "title": "Old page"})
    assert stale.status_code == 412
    assert "Reload" in stale.text
    invalid = browser.post(action, data={**edited, "version": "2", "title": ""})
    assert invalid.status_code == 422
    assert "title" in invalid.text
    assert api.http.get(f"/tasks/{task['id']}").json()["title"] == "Final copy"
    browser.close()
