"""The dashboard's pages, one router per page (mounted under ``/ui``)."""

from pmbridge.serve.ui.routes import conflicts, dead_letters, links, login, overview, runs

ROUTERS = [
    login.router,
    overview.router,
    conflicts.router,
    dead_letters.router,
    links.router,
    runs.router,
]
