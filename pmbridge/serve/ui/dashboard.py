"""The dashboard's shared state and the dependencies its routes take.

``Dashboard`` holds what every page needs: the store, the flow file, the access gate, the
actions (resolve, retry), the link index, and the service's live status when it runs inside
``pmbridge serve``. ``mount_dashboard(app, dashboard)`` adds the pages under ``/ui``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from pmbridge.flows import FlowFile
from pmbridge.serve.ui.access import Access, Session
from pmbridge.serve.ui.actions import Actions
from pmbridge.serve.ui.csrf import CsrfError, check_csrf
from pmbridge.serve.ui.link_index import LinkIndex
from pmbridge.serve.ui.render import render
from pmbridge.store import Store

PREFIX = "/ui"
STATIC = Path(__file__).parent / "static"


@dataclass
class Dashboard:
    """What the pages read and act through.

    :param live: the running service's status (``pmbridge serve``); None under ``pmbridge ui``
    :param custompms_url: the Custompms API root, for links to its records
    """

    store: Store
    flow_file: FlowFile
    access: Access
    actions: Actions
    custompms_url: str = ""
    live: Any = None
    links: LinkIndex = field(init=False)

    def __post_init__(self) -> None:
        self.links = LinkIndex(self.store, self.flow_file)


class NeedsLogin(Exception):
    """A page asked for without a session."""


class Refused(Exception):
    """A request the dashboard does not answer (with the reason shown)."""

    def __init__(self, reason: str, status: int = 403):
        super().__init__(reason)
        self.status = status


def get_dashboard(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]


def get_session(request: Request, dashboard: DashboardDep) -> Session:
    """The request's session; pages without one go to the login page, actions are refused."""
    reason = dashboard.access.refusal(request)
    if reason:
        raise Refused(reason)
    session = dashboard.access.session_of(request)
    if session is None:
        if request.method == "GET":
            raise NeedsLogin
        raise Refused("not signed in: open the dashboard and sign in first", 401)
    return session


SessionDep = Annotated[Session, Depends(get_session)]


def checked_session(session: SessionDep, csrf_token: Annotated[str, Form()] = "") -> Session:
    """The session of a POST whose form carries the session's CSRF token."""
    try:
        check_csrf(session, csrf_token)
    except CsrfError as err:
        raise Refused(str(err)) from None
    return session


ActionSessionDep = Annotated[Session, Depends(checked_session)]


def back(path: str, message: str = "", error: bool = False) -> RedirectResponse:
    """Back to a page (303, so a reload does not repeat the POST), with a notice."""
    if message:
        key = "error" if error else "notice"
        path += ("&" if "?" in path else "?") + f"{key}={quote(message)}"
    return RedirectResponse(path, status_code=303)


def mount_dashboard(app: FastAPI, dashboard: Dashboard) -> None:
    """Serve ``dashboard``'s pages under ``/ui`` of ``app``."""
    from pmbridge.serve.ui.routes import ROUTERS

    app.state.dashboard = dashboard
    # Load the link index now, not on the first visit (seconds with 100,000 links).
    threading.Thread(target=dashboard.links.refresh, name="link index", daemon=True).start()
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="ui-static")
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX)

    @app.exception_handler(NeedsLogin)
    async def to_login(request: Request, _: NeedsLogin) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, err: Refused) -> Response:
        return render(
            request, "refused.html", {"reason": str(err)}, status_code=err.status, session=None
        )
