"""``pmbridge sandbox custompms``: run the reference Custompms on this machine.

The server and uvicorn are imported when the command runs, not when it is registered.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pmbridge.cli.app import sandbox_app


@sandbox_app.command("custompms")
def sandbox_custompms(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="TCP port; 0 picks a free one.")
    ] = 8765,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            dir_okay=False,
            help="SQLite file to keep the data in (created if missing). "
            "Default: a temporary database, lost when the server stops.",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="PMBRIDGE_CUSTOMPMS_TOKEN",
            help="The bearer token API requests must carry.",
            show_default="the sandbox token, printed at start",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="A task status that exists (repeat for each, in order); any other is refused. "
            "Default: todo, in_progress, done.",
            show_default=False,
        ),
    ] = None,
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help="The optional parts of contract 1.1 it has: 'all', or some of tags, "
            "assignees, checklist, links, people separated by commas, or '1.0' for none "
            "(a contract 1.0 server: GET /capabilities answers 404, tasks have none of the "
            "optional properties and refuse them as unknown).",
        ),
    ] = "all",
) -> None:
    """Run the reference Custompms (docs/custompms-api.yaml) until Ctrl+C.

    Prints the API URL and the token. The page at / lists the records and edits tasks
    without a token: it is a local demo page, so keep the default --host 127.0.0.1.

    Example:

        pmbridge sandbox custompms --port 8765 --db custompms.db --token s3cret

        pmbridge sandbox custompms --status todo --status in_progress --status review --status done

        pmbridge sandbox custompms --features 1.0          # a contract 1.0 server
    """
    import uvicorn

    from pmbridge.sandbox.custompms import DEFAULT_TOKEN, create_app
    from pmbridge.sandbox.custompms.constraints import DEFAULT_STATUSES
    from pmbridge.sandbox.custompms.resources import parse_features
    from pmbridge.sockets import listening_socket

    token = DEFAULT_TOKEN if token is None else token
    out = Console(highlight=False)
    errors = Console(stderr=True, highlight=False)
    if not token:
        errors.print("Error: the token must not be empty: pass --token", markup=False)
        raise typer.Exit(2)
    try:
        sock = listening_socket(host, port)
    except OSError as err:
        errors.print(f"Error: cannot listen on {host}:{port}: {err.strerror}", markup=False)
        raise typer.Exit(2) from None
    try:
        chosen = parse_features(features)
    except ValueError as err:
        errors.print(f"Error: --features: {err}", markup=False)
        raise typer.Exit(2) from None
    try:
        app = create_app(
            str(db) if db else None,
            token=token,
            statuses=status or DEFAULT_STATUSES,
            features=chosen,
        )
    except (ValueError, RuntimeError) as err:
        errors.print(f"Error: {err}", markup=False)
        raise typer.Exit(2) from None
    bound = sock.getsockname()[1]
    url = f"http://{f'[{host}]' if ':' in host else host}:{bound}"
    out.print("Custompms reference server", markup=False)
    out.print(f"  API:   {url}", markup=False)
    out.print(f"  token: {token}", markup=False)
    out.print(f"  page:  {url}/  (no token needed: a local demo page)", markup=False)
    out.print(f"  statuses: {', '.join(app.store.statuses)}", markup=False)
    out.print(
        f"  contract: 1.1 with {', '.join(chosen)}"
        if chosen
        else "  contract: 1.0 (no /capabilities, no optional parts)",
        markup=False,
    )
    out.print(
        f"  data:  {db}" if db else "  data:  temporary; lost when the server stops (--db FILE)",
        markup=False,
    )
    if not _is_loopback(host):
        errors.print(
            f"Warning: listening on {host}: anyone who can reach it can use the page at / "
            "without a token.",
            markup=False,
        )
    out.print("Press Ctrl+C to stop.", markup=False)
    sys.stdout.flush()  # whoever reads our output through a pipe needs the URL now
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
