"""The overview: each flow's links, conflicts, dead letters and last change; the service's
state (cycle running, webhooks); the last runs as a timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from pmbridge.serve.ui.dashboard import PREFIX, Dashboard, DashboardDep, SessionDep
from pmbridge.serve.ui.render import render
from pmbridge.store import Run

router = APIRouter()
WRITES = ("created", "updated", "deleted")


@dataclass(frozen=True)
class FlowRow:
    name: str
    links: int
    held: int
    settled: int
    dead_letters: int
    last_change: datetime | None


@dataclass(frozen=True)
class RunRow:
    run: Run
    to_trello: int
    to_custompms: int
    conflicts: int
    errors: int
    full: bool


def run_row(run: Run) -> RunRow:
    """A run with its writes per system, from its summary's counts."""
    summary = run.summary or {}
    writes = {"to_trello": 0, "to_custompms": 0}
    conflicts = errors = 0
    for key, counts in (summary.get("counts") or {}).items():
        direction = key.rsplit(":", 1)[-1]
        if direction in writes:
            writes[direction] += sum(counts.get(what, 0) for what in WRITES)
        conflicts += counts.get("conflicts", 0)
        errors += counts.get("errors", 0)
    full = bool(summary.get("full"))
    return RunRow(run, writes["to_trello"], writes["to_custompms"], conflicts, errors, full)


def flow_rows(dashboard: Dashboard) -> list[FlowRow]:
    summary = dashboard.links.summary()
    conflicts = dashboard.store.conflicts()
    letters = dashboard.store.dead_letters()
    rows = []
    for name in dashboard.flow_file.names:
        count, last = summary.get(name, (0, None))
        rows.append(
            FlowRow(
                name,
                count,
                sum(c.flow == name and c.status == "held" for c in conflicts),
                sum(c.flow == name and c.status == "resolved_by_policy" for c in conflicts),
                sum(d.flow == name for d in letters),
                last,
            )
        )
    return rows


def live_state(dashboard: Dashboard) -> dict[str, Any] | None:
    """What the running service is doing (None under ``pmbridge ui``)."""
    service = dashboard.live
    if service is None:
        return None
    webhooks = getattr(service, "webhooks", None)
    subscription = getattr(service, "subscription", None)
    status = service.status
    return {
        "interval_s": service.interval_s,
        "running": status.running_since is not None,
        "progress": sorted(status.progress.items()) if status.running_since is not None else [],
        "pending_hints": service.pending_hints,
        "problems": status.problems(),
        "public_url": service.public_url,
        "boards": sorted((webhooks.ids if webhooks else {}).items()),
        "refused": sorted((webhooks.refused if webhooks else {}).items()),
        "subscribed": bool(subscription and subscription.id),
        "hints": sorted(status.hints.items()),
        "deliveries": {board: seen for board, seen in status.boards.items()},
    }


@router.get("", include_in_schema=False)
def to_overview() -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


@router.get("/")
def overview(request: Request, dashboard: DashboardDep, session: SessionDep) -> Response:
    context = {
        "flows": flow_rows(dashboard),
        "runs": [run_row(run) for run in dashboard.store.runs(limit=15)],
        "live": live_state(dashboard),
    }
    return render(request, "overview.html", context, session=session)
