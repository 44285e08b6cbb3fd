"""Conflicts: both values side by side (a line diff for texts); take a side or dismiss.

Taking a side writes that value to both systems through the engine, as
``pmbridge conflicts resolve`` does. Each form carries a fingerprint of the values it
showed: if the conflict changed since the page was loaded (settled elsewhere, in another
tab, by the CLI), the action is refused and the page shows it as it is now.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from pmbridge.errors import PmbridgeError
from pmbridge.serve.ui.dashboard import PREFIX, ActionSessionDep, DashboardDep, SessionDep, back
from pmbridge.serve.ui.render import render
from pmbridge.store import Conflict
from pmbridge.store.rows import OPEN_CONFLICT_STATUSES

router = APIRouter()
PAGE = f"{PREFIX}/conflicts"


def fingerprint(conflict: Conflict) -> str:
    """A short digest of what the page showed of ``conflict``."""
    seen = [conflict.status, conflict.custompms_value, conflict.trello_value, conflict.resolution]
    return hashlib.sha256(json.dumps(seen, default=str).encode()).hexdigest()[:16]


@router.get("/conflicts")
def conflicts_page(
    request: Request, dashboard: DashboardDep, session: SessionDep, all: bool = False
) -> Response:
    rows = dashboard.store.conflicts(None if all else OPEN_CONFLICT_STATUSES)
    rows.reverse()  # newest first
    context = {
        "conflicts": rows[:200],
        "more": max(0, len(rows) - 200),
        "show_all": all,
        "fingerprint": fingerprint,
        "can_write": dashboard.actions.can_write,
    }
    return render(request, "conflicts.html", context, session=session)


def _current(dashboard: DashboardDep, conflict_id: int, seen: str) -> Conflict | str:
    conflict = dashboard.store.get_conflict(conflict_id)
    if conflict is None:
        return f"There is no conflict {conflict_id}."
    if conflict.status == "resolved":
        return f"Conflict {conflict_id} was already resolved ({conflict.resolution}'s value kept)."
    if conflict.status == "dismissed":
        return f"Conflict {conflict_id} was dismissed."
    if seen != fingerprint(conflict):
        return f"Conflict {conflict_id} changed since this page was loaded: look again."
    return conflict


@router.post("/conflicts/{conflict_id}/resolve")
async def resolve(
    conflict_id: int,
    dashboard: DashboardDep,
    _: ActionSessionDep,
    take: Annotated[str, Form()],
    seen: Annotated[str, Form()] = "",
) -> Response:
    if take not in ("custompms", "trello"):
        return back(PAGE, f"Choose Custompms or Trello, not {take!r}.", error=True)
    current = _current(dashboard, conflict_id, seen)
    if isinstance(current, str):
        return back(PAGE, current, error=True)
    try:
        message = await dashboard.actions.resolve_conflict(conflict_id, take)  # type: ignore[arg-type]
    except PmbridgeError as err:
        return back(PAGE, f"Conflict {conflict_id} was not resolved: {err}", error=True)
    return back(PAGE, message)


@router.post("/conflicts/{conflict_id}/dismiss")
def dismiss(
    conflict_id: int,
    dashboard: DashboardDep,
    _: ActionSessionDep,
    seen: Annotated[str, Form()] = "",
) -> Response:
    current = _current(dashboard, conflict_id, seen)
    if isinstance(current, str):
        return back(PAGE, current, error=True)
    try:
        conflict = dashboard.store.dismiss_conflict(conflict_id)
    except PmbridgeError as err:
        return back(PAGE, f"Conflict {conflict_id} was not dismissed: {err}", error=True)
    kept = f"{conflict.winner}'s value stays" if conflict.winner else "both values stay"
    return back(PAGE, f"Conflict {conflict_id} dismissed: {kept}.")
