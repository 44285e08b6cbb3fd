"""A run's details: how it ended and what it wrote, per flow and system.

The store keeps a run's summary (counts per flow and direction, the problems met), not each
write with its values, so this page shows the counts and the problems, and the conflicts
the run logged with both values.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pmbridge.serve.ui.dashboard import DashboardDep, Refused, SessionDep
from pmbridge.serve.ui.render import render
from pmbridge.serve.ui.routes.overview import run_row

router = APIRouter()
COLUMNS = ("created", "updated", "deleted", "linked", "unlinked", "conflicts", "errors")


WRITES_SHOWN = 500  # the first writes of a run; a first sync may make thousands


@router.get("/runs/{run_id}")
def run_details(
    request: Request, run_id: int, dashboard: DashboardDep, session: SessionDep
) -> Response:
    run = dashboard.store.get_run(run_id)
    if run is None:
        raise Refused(f"there is no run {run_id}", 404)
    summary = run.summary or {}
    counts = []
    for key, values in sorted((summary.get("counts") or {}).items()):
        flow, _, direction = key.rpartition(":")
        system = "Trello" if direction == "to_trello" else "Custompms"
        counts.append((flow, system, [values.get(c, 0) for c in COLUMNS]))
    end = run.finished_at
    conflicts = [
        c
        for c in dashboard.store.conflicts()
        if c.created_at and c.created_at >= run.started_at and (end is None or c.created_at <= end)
    ]
    context = {
        "row": run_row(run),
        "columns": COLUMNS,
        "counts": counts,
        "problems": summary.get("problems") or [],
        "held_deletes": summary.get("held_deletes") or [],
        "conflicts": conflicts,
        "writes": dashboard.store.run_writes(run_id, limit=WRITES_SHOWN),
        "writes_shown": WRITES_SHOWN,
    }
    return render(request, "run.html", context, session=session)
