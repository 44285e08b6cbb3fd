"""The task form of the HTML page: what a submitted form asks to change, and its guards.

A form sends ``title``, ``status`` and ``description`` as fields; ``tags`` as one
comma-separated field; assignees as a multiple select; checklist items and links as rows of
parallel fields (``check_id``/``check_text``, with ``check_done`` naming the ticked rows;
``link_id``/``link_title``/``link_url``). A row whose id is empty is the new row; a row left
empty is removed. Each list is changed only when its ``*_shown`` marker is in the form.

Guards: the form must carry the page's CSRF token, come from this server's own origin (when
the browser says where it comes from), and name the version it was rendered from.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request

CSRF_FIELD = "csrf"
NEW_ROW = "new"


class FormRefused(Exception):
    """The form is not accepted; ``status`` and a sentence for the person."""

    def __init__(self, status: int, detail: str, messages: list[str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.messages = messages or []


def csrf_token(secret: bytes) -> str:
    """The token every form of this server carries (a server has one secret per run)."""
    return hmac.new(secret, b"custompms-page-form", hashlib.sha256).hexdigest()


def check_guards(request: Request, form: FormData, secret: bytes) -> int:
    """Refuse a form from another origin or without the token; the version it names."""
    own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    origin = request.headers.get("origin")
    if origin is None and request.headers.get("referer"):
        parts = urlsplit(request.headers["referer"])
        origin = f"{parts.scheme}://{parts.netloc}"
    if origin is not None and origin.lower() != own:
        raise FormRefused(
            403,
            f"This form was sent from another site ({origin}), not from this page ({own}); "
            "nothing was changed.",
        )
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not hmac.compare_digest(given, csrf_token(secret)):
        raise FormRefused(
            403,
            "The form does not carry this page's token (the page is from before a restart, or "
            "from elsewhere); nothing was changed. Reload the page and edit again.",
        )
    version = form.get("version")
    if not isinstance(version, str) or not version.isdigit():
        raise FormRefused(
            422,
            "The task was not changed.",
            ["version: is required (the version the page shows); reload the page"],
        )
    return int(version)


def _strings(form: FormData, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str)]


def form_changes(form: FormData) -> dict[str, Any]:
    """The task properties the form changes, as an API patch body."""
    changes: dict[str, Any] = {}
    for name in ("title", "status", "description"):
        value = form.get(name)
        if isinstance(value, str):
            # Browsers send textarea line breaks as CRLF; the API stores LF.
            changes[name] = value.replace("\r\n", "\n")
    tags = form.get("tags")
    if isinstance(tags, str):
        changes["tags"] = [tag.strip() for tag in tags.split(",") if tag.strip()]
    if "assignees_shown" in form:
        changes["assignees"] = _strings(form, "assignees")
    if "checklist_shown" in form:
        changes["checklist"] = _checklist(form)
    if "links_shown" in form:
        changes["links"] = _links(form)
    return changes


def _rows(form: FormData, *names: str) -> list[tuple[str, ...]]:
    columns = [_strings(form, name) for name in names]
    if len({len(column) for column in columns}) > 1:
        raise FormRefused(400, "The form's rows are incomplete; reload the page and edit again.")
    return list(zip(*columns, strict=True))


def _checklist(form: FormData) -> list[dict[str, Any]]:
    done = set(_strings(form, "check_done"))
    items: list[dict[str, Any]] = []
    for item_id, text in _rows(form, "check_id", "check_text"):
        if not text.strip():
            continue
        item: dict[str, Any] = {"text": text.strip(), "done": (item_id or NEW_ROW) in done}
        if item_id:
            item["id"] = item_id
        items.append(item)
    return items


def _links(form: FormData) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = []
    for link_id, title, url in _rows(form, "link_id", "link_title", "link_url"):
        if not url.strip():
            continue
        link: dict[str, Any] = {"title": title.strip(), "url": url.strip()}
        if link_id:
            link["id"] = link_id
        links.append(link)
    return links
