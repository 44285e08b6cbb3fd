"""Links: search by title or id, a page at a time, each side's title and where to open it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pmbridge.serve.ui.dashboard import DashboardDep, SessionDep
from pmbridge.serve.ui.link_index import custompms_url, trello_url
from pmbridge.serve.ui.render import render

router = APIRouter()
PER_PAGE = 50


@router.get("/links")
def links_page(
    request: Request,
    dashboard: DashboardDep,
    session: SessionDep,
    q: str = "",
    flow: str = "",
    page: int = 1,
) -> Response:
    names = dashboard.flow_file.names
    chosen = flow if flow in names else None
    found = dashboard.links.search(q, flow=chosen, page=page, per_page=PER_PAGE)
    kinds = {f.name: (f.custompms, f.trello) for f in dashboard.flow_file.flows}

    def urls(entry):  # type: ignore[no-untyped-def]
        custompms_kind, trello_kind = kinds.get(entry.flow, ("", ""))
        return (
            custompms_url(dashboard.custompms_url, custompms_kind, entry.custompms_id)
            if custompms_kind
            else None,
            trello_url(trello_kind, entry.trello_id),
        )

    context = {"found": found, "q": q, "flow": chosen or "", "flows": names, "urls": urls}
    return render(request, "links.html", context, session=session)
