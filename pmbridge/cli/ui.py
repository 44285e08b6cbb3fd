"""``pmbridge ui``: the dashboard for a state store, with no ``pmbridge serve`` running.

The server and the store are imported when the command runs, not when it is registered.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pmbridge.cli.app import app
from pmbridge.cli.common import ConfigOption, FlowsOption, console, handle_errors, settings_from
from pmbridge.cli.serve import parse_listen

DEFAULT_UI_LISTEN = "127.0.0.1:8771"
CONNECTION = ("trello_key", "trello_token", "custompms_url", "custompms_token")


@app.command()
@handle_errors
def ui(
    listen: Annotated[
        str,
        typer.Option(
            "--listen",
            help="HOST:PORT to serve on. Not a loopback address: needs PMBRIDGE_UI_PASSWORD.",
        ),
    ] = DEFAULT_UI_LISTEN,
    config: ConfigOption = None,
    flows: FlowsOption = None,
) -> None:
    """Serve the dashboard (links, conflicts, dead letters, runs) for the state store.

    With the Trello and Custompms settings it can also resolve conflicts and retry dead
    letters (a cycle of the record's flow runs at once); without them it only reads and
    dismisses. Stop it with Ctrl-C.

    Example: PMBRIDGE_UI_PASSWORD=… pmbridge ui --listen 127.0.0.1:8771
    """
    import uvicorn

    from pmbridge.serve.ui import build_dashboard, check_listen, create_ui_app
    from pmbridge.store import open_store
    from pmbridge.wiring import load_flow_file

    host, port = parse_listen(listen)
    settings = settings_from(config, flows)
    check_listen(settings, host)
    flow_file = load_flow_file(settings)
    can_write = all(getattr(settings, name) for name in CONNECTION)
    with open_store(settings.database_url) as store:
        dashboard = build_dashboard(settings, store, flow_file, can_write=can_write)
        shown = f"[{host}]" if ":" in host else host
        console.print(f"pmbridge dashboard for {store.url} at http://{shown}:{port}/ui/")
        if not can_write:
            console.print("No Trello/Custompms settings: conflicts and dead letters are read-only.")
        uvicorn.run(
            create_ui_app(dashboard),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            log_config=None,
        )
