"""The HTML page of the reference Custompms: lists the records, edits a task through a form.

Forms are read from the page and sent back as a browser would (``_Forms``), over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest

from pmbridge.sandbox.server import ServerThread
from tests.sandbox_custompms.conftest import Api

Form = list[tuple[str, str]]


class _Forms(HTMLParser):
    """The forms of a page as a browser would submit them: action → (name, value) pairs.

    Checkboxes count only when checked, selects send their selected options.
    """

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, Form] = {}
        self.options: dict[str, dict[str, list[str]]] = {}
        self._action: str | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        action = self._action
        if tag == "form":
            self._action = values["action"]
            self.forms[self._action] = []
            self.options[self._action] = {}
        elif action is None:
            return
        elif tag == "input" and "name" in values:
            if values.get("type") == "checkbox" and "checked" not in values:
                return
            self.forms[action].append((values["name"], values.get("value", "")))
        elif tag == "textarea":
            self._textarea = values["name"]
            self.forms[action].append((self._textarea, ""))
        elif tag == "select":
            self._select = values["name"]
            self.options[action][self._select] = []
        elif tag == "option" and self._select:
            self.options[action][self._select].append(values["value"])
            if "selected" in values:
                self.forms[action].append((self._select, values["value"]))

    def handle_data(self, data: str) -> None:
        if self._action and self._textarea:
            name, value = self.forms[self._action][-1]
            self.forms[self._action][-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._action:
            name, value = self.forms[self._action][-1]
            # As browsers do: the newline right after <textarea> is not part of the value.
            self.forms[self._action][-1] = (name, value.removeprefix("\n"))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._action = None


def _parse(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def _forms(html: str) -> dict[str, Form]:
    return _parse(html).forms


def _value(form: Form, name: str) -> str:
    return next(value for key, value in form if key == name)


def _data(form: Form) -> dict[str, list[str]]:
    """The form as httpx sends it: each name's values in order."""
    data: dict[str, list[str]] = {}
    for name, value in form:
        data.setdefault(name, []).append(value)
    return data


def _with(form: Form, **changes: str | None) -> Form:
    """``form`` with single-valued fields replaced (``None``: removed)."""
    kept = [(k, v) for k, v in form if k not in changes]
    return kept + [(k, v) for k, v in changes.items() if v is not None]


@pytest.fixture
def browser(custompms_server: ServerThread) -> Iterator[httpx.Client]:
    # No token: the page needs none. A browser on the page sends the page's own origin.
    with httpx.Client(
        base_url=custompms_server.url, headers={"Origin": custompms_server.url}
    ) as client:
        yield client


def test_the_page_lists_records_without_a_token(custompms_server: ServerThread, api: Api) -> None:
    customer = api.customer(name="Acme <Inc>", website="https://acme.example")
    project = api.project(customer_id=customer["id"], name="Site & Shop")
    api.create("people", email="ann@example.com", name="Ann <A>")
    task = api.task(
        project_id=project["id"],
        title="Write <b>copy</b>",
        status="in_progress",
        tags=["copy", "web <site>"],
        assignees=["ann@example.com"],
        checklist=[{"text": "Outline"}, {"text": "Draft <1>", "done": True}],
        links=[{"title": "Brief", "url": "https://docs.example/brief?a=1&b=2"}],
    )
    api.create("comments", task_id=task["id"], author="Ann", text="First draft done")
    deleted = api.task(project_id=project["id"], title="Dropped task")
    api.http.delete(f"/tasks/{deleted['id']}")

    page = httpx.get(custompms_server.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    for text in [
        "Acme &lt;Inc&gt;",
        "Site &amp; Shop",
        "Write &lt;b&gt;copy&lt;/b&gt;",
        "in_progress",
        "web &lt;site&gt;",
        "☐ Outline",
        "☑ Draft &lt;1&gt;",
        "href='https://docs.example/brief?a=1&amp;b=2'",
        "Ann &lt;A&gt;",
    ]:
        assert text in html
    assert "First draft done" in html and "Ann" in html
    assert "<b>copy</b>" not in html
    assert "Dropped task" not in html
    assert f"/ui/tasks/{task['id']}" in _forms(html)


def test_the_status_is_picked_from_the_statuses_that_exist(
    custompms_server: ServerThread, api: Api, browser: httpx.Client
) -> None:
    task = api.task(status="in_progress")
    parsed = _parse(browser.get("/").text)
    action = f"/ui/tasks/{task['id']}"

    assert parsed.options[action]["status"] == ["todo", "in_progress", "done"]
    assert _value(parsed.forms[action], "status") == "in_progress"
    refused = browser.post(action, data=_data(_with(parsed.forms[action], status="bogus")))
    assert refused.status_code == 422
    assert "&#x27;bogus&#x27; is not a status of this Custompms" in refused.text
    assert api.http.get(f"/tasks/{task['id']}").json()["version"] == 1


def test_editing_a_task_through_the_form_changes_it(api: Api, browser: httpx.Client) -> None:
    task = api.task(title="Draft", status="todo", description="\nstarts with a blank line")
    cursor = api.feed("tasks")["next_since"]
    action = f"/ui/tasks/{task['id']}"
    form = _forms(browser.get("/").text)[action]
    assert _value(form, "title") == "Draft" and _value(form, "description") == task["description"]

    edited = _with(form, title="Final copy", status="done", description="line one\r\nline two")
    saved = browser.post(action, data=_data(edited))
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/#task-{task['id']}"
    assert "Final copy" in browser.get("/").text

    [changed] = api.feed("tasks", since=cursor)["items"]
    assert changed["id"] == task["id"]
    assert changed["version"] == 2
    assert changed["title"] == "Final copy"
    assert changed["status"] == "done"
    assert changed["description"] == "line one\nline two"

    # The same (now stale) form again is refused, not applied over the newer version.
    stale = browser.post(action, data=_data(_with(form, title="Old page")))
    assert stale.status_code == 412
    assert "Reload" in stale.text
    invalid = browser.post(action, data=_data(_with(edited, version="2", title="")))
    assert invalid.status_code == 422
    assert "title" in invalid.text
    assert api.http.get(f"/tasks/{task['id']}").json()["title"] == "Final copy"


def test_the_form_edits_tags_assignees_checklist_and_links(api: Api, browser: httpx.Client) -> None:
    api.create("people", email="ann@example.com", name="Ann")
    api.create("people", email="bob@example.com", name="Bob")
    task = api.task(
        tags=["old"],
        assignees=["ann@example.com"],
        checklist=[{"text": "Outline"}, {"text": "Draft"}],
        links=[{"title": "Brief", "url": "https://docs.example/brief"}],
    )
    outline, draft = task["checklist"]
    action = f"/ui/tasks/{task['id']}"
    parsed = _parse(browser.get("/").text)
    assert parsed.options[action]["assignees"] == ["ann@example.com", "bob@example.com"]
    form = [
        (k, v) for k, v in parsed.forms[action] if k not in ("check_text", "check_done", "link_url")
    ]
    form = _with(form, tags="web, copy , ,web", assignees=None)
    form += [("assignees", "bob@example.com")]
    # Tick the draft, empty the outline (removed), add a new item, ticked.
    form += [("check_text", ""), ("check_text", "Draft"), ("check_text", "Review")]
    form += [("check_done", draft["id"]), ("check_done", "new")]
    # Drop the brief, add a link.
    form = [(k, v) for k, v in form if k != "link_title"]
    form += [("link_title", "Brief"), ("link_url", ""), ("link_title", "Spec")]
    form += [("link_url", "https://docs.example/spec")]

    saved = browser.post(action, data=_data(form))

    assert saved.status_code == 303, saved.text
    stored = api.http.get(f"/tasks/{task['id']}").json()
    assert stored["tags"] == ["copy", "web"]
    assert stored["assignees"] == ["bob@example.com"]
    assert [(i["text"], i["done"]) for i in stored["checklist"]] == [
        ("Draft", True),
        ("Review", True),
    ]
    assert stored["checklist"][0]["id"] == draft["id"]
    assert outline["id"] not in {i["id"] for i in stored["checklist"]}
    [link] = stored["links"]
    assert (link["title"], link["url"]) == ("Spec", "https://docs.example/spec")


def test_a_form_from_another_origin_is_refused(
    custompms_server: ServerThread, api: Api, browser: httpx.Client
) -> None:
    task = api.task(title="Mine")
    action = f"/ui/tasks/{task['id']}"
    form = _forms(browser.get("/").text)[action]

    elsewhere = browser.post(
        action,
        data=_data(_with(form, title="Hijacked")),
        headers={"Origin": "https://evil.example"},
    )
    by_referer = httpx.post(
        custompms_server.url + action,
        data=_data(_with(form, title="Hijacked")),
        headers={"Referer": "https://evil.example/page.html"},
    )

    for refused in (elsewhere, by_referer):
        assert refused.status_code == 403
        assert "sent from another site (https://evil.example)" in refused.text
    assert api.http.get(f"/tasks/{task['id']}").json()["title"] == "Mine"


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"csrf": None}, 403, "does not carry this page&#x27;s token"),
        ({"csrf": "0" * 64}, 403, "does not carry this page&#x27;s token"),
        ({"version": None}, 422, "version: is required"),
        ({"version": ""}, 422, "version: is required"),
    ],
)
def test_a_form_without_its_token_or_version_is_refused(
    api: Api, browser: httpx.Client, change: dict[str, str | None], status: int, message: str
) -> None:
    task = api.task(title="Mine")
    action = f"/ui/tasks/{task['id']}"
    form = _forms(browser.get("/").text)[action]

    refused = browser.post(action, data=_data(_with(form, title="Changed", **change)))

    assert refused.status_code == status
    assert message in refused.text
    assert api.http.get(f"/tasks/{task['id']}").json()["title"] == "Mine"
