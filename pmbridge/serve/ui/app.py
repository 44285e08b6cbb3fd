"""Building the dashboard: as its own app (``pmbridge ui``) or inside ``pmbridge serve``.

Both go through ``build_dashboard``, so the pages, the login and the checks are the same.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from pmbridge.config import Settings
from pmbridge.errors import ConfigError
from pmbridge.flows import FlowFile
from pmbridge.serve.ui.access import Access, is_loopback
from pmbridge.serve.ui.actions import Actions
from pmbridge.serve.ui.dashboard import PREFIX, Dashboard, mount_dashboard
from pmbridge.store import Store

LOOPBACK_ONLY = (
    "the dashboard has no password, so it is served only on a loopback address "
    "(127.0.0.1, ::1): set PMBRIDGE_UI_PASSWORD to listen on {host}"
)


def check_listen(settings: Settings, host: str) -> None:
    """Refuse a non-loopback address when no dashboard password is set."""
    if settings.ui_password is None and not is_loopback(host):
        raise ConfigError(LOOPBACK_ONLY.format(host=host))


def build_dashboard(
    settings: Settings,
    store: Store,
    flow_file: FlowFile,
    *,
    live: Any = None,
    trigger: Any = None,
    can_write: bool = True,
) -> Dashboard:
    password = settings.ui_password.get_secret_value() if settings.ui_password else None
    return Dashboard(
        store=store,
        flow_file=flow_file,
        access=Access(password),
        actions=Actions(settings if can_write else None, store, trigger),
        custompms_url=settings.custompms_url or "",
        live=live,
    )


def create_ui_app(dashboard: Dashboard) -> FastAPI:
    """An app serving only the dashboard (``pmbridge ui``) and ``/healthz``."""
    app = FastAPI(title="pmbridge dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    mount_dashboard(app, dashboard)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> str:
        return "ok"

    return app


def mount_on_service(app: FastAPI, service: Any) -> None:
    """Add the dashboard, ``/healthz``, ``/readyz`` and ``/metrics`` to ``service``'s app."""
    from pmbridge.serve import health, metrics

    runtime = service.runtime
    app.state.serve_status = service.status
    app.include_router(health.router)
    app.include_router(metrics.router)
    dashboard = build_dashboard(
        service.settings,
        runtime.store,
        runtime.flow_file,
        live=service,
        trigger=service.prompt_cycle,
    )
    mount_dashboard(app, dashboard)
