"""Templates and the filters they use: dates, values, and line diffs of texts.

``render(request, name, context)`` fills a template from ``templates/`` with what every
page needs (the session's CSRF token, the notice of the last action, the live status).
Jinja2 escapes every value, so nothing read from a system can inject markup.
"""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from pmbridge.serve.ui.access import Session
from pmbridge.serve.ui.csrf import FIELD

environment = Environment(
    loader=PackageLoader("pmbridge.serve.ui", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(value: datetime | None) -> str:
    """A UTC instant as ``2026-12-01 12:00:03 UTC``."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def unix_time(seconds: float) -> str:
    """Unix seconds as ``when`` shows instants."""
    return when(datetime.fromtimestamp(seconds, UTC))


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "—"
    seconds = (end - start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def shown(value: Any) -> str:
    """A stored value as a person reads it: texts as they are, the rest as JSON."""
    if value is None:
        return "(empty)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def line_diff(old: Any, new: Any) -> list[tuple[str, str]]:
    """(mark, line) pairs from ``old`` to ``new``: "-" removed, "+" added, " " kept."""
    a = shown(old).splitlines() or [""]
    b = shown(new).splitlines() or [""]
    out: list[tuple[str, str]] = []
    for line in difflib.ndiff(a, b):
        mark = line[:1]
        if mark in "+- ":
            out.append((mark, line[2:]))
    return out


def is_text(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > 60)


environment.filters.update(when=when, shown=shown, unix_time=unix_time)
environment.globals.update(duration=duration, line_diff=line_diff, is_text=is_text)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    session: Session | None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page ``name`` filled with ``context`` and what every page shows."""
    dashboard = getattr(request.app.state, "dashboard", None)
    page = {
        "request": request,
        "csrf_field": FIELD,
        "csrf_token": session.csrf_token if session else "",
        "signed_in": session is not None,
        "open_access": bool(dashboard and dashboard.access.open),
        "notice": request.query_params.get("notice", ""),
        "error": request.query_params.get("error", ""),
        "path": request.url.path,
        **context,
    }
    body = environment.get_template(name).render(page)
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    return response
