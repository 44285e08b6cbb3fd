"""Signing in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from pmbridge.serve.ui.access import COOKIE, SESSION_S, cookie_is_secure
from pmbridge.serve.ui.dashboard import PREFIX, ActionSessionDep, DashboardDep, Refused
from pmbridge.serve.ui.render import render

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path of this dashboard (never another site) to go to after signing in."""
    if target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/"


def _signed_in(request: Request, dashboard: DashboardDep, target: str) -> Response:
    session_id, _ = dashboard.access.start_session()
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=SESSION_S,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=cookie_is_secure(request),
    )
    return response


@router.get("/login")
def login_page(request: Request, dashboard: DashboardDep, next: str = "") -> Response:
    reason = dashboard.access.refusal(request)
    if reason:
        raise Refused(reason)
    if dashboard.access.open:
        return _signed_in(request, dashboard, next)
    return render(request, "login.html", {"next": _safe_next(next)}, session=None)


@router.post("/login")
def login(
    request: Request,
    dashboard: DashboardDep,
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    if dashboard.access.open or dashboard.access.check_password(password):
        return _signed_in(request, dashboard, next)
    context = {"next": _safe_next(next), "failed": True}
    return render(request, "login.html", context, session=None, status_code=401)


@router.post("/logout")
def logout(request: Request, dashboard: DashboardDep, _: ActionSessionDep) -> Response:
    dashboard.access.end_session(request)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
