"""The operator's dashboard: server-rendered pages under ``/ui`` (FastAPI + Jinja2).

Pages: overview (flows, the service, the last runs), conflicts (resolve or dismiss),
dead letters (retry or dismiss), links (search), run details. Access: a password from
``PMBRIDGE_UI_PASSWORD`` (or loopback only without one), session cookies and CSRF tokens
(``access``, ``csrf``). Served by ``pmbridge serve --listen`` (``mount_on_service``) and by
``pmbridge ui`` (``create_ui_app``); both build it with ``build_dashboard``.
"""

from pmbridge.serve.ui.app import (
    build_dashboard,
    check_listen,
    create_ui_app,
    mount_on_service,
)
from pmbridge.serve.ui.dashboard import PREFIX, Dashboard, mount_dashboard

__all__ = [
    "PREFIX",
    "Dashboard",
    "build_dashboard",
    "check_listen",
    "create_ui_app",
    "mount_dashboard",
    "mount_on_service",
]
