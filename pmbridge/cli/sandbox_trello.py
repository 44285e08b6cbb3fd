"""``pmbridge sandbox trello``: run the Trello sandbox on this machine.

The sandbox and uvicorn are imported when the command runs, not when it is registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from pmbridge.cli.app import sandbox_app

if TYPE_CHECKING:
    from pmbridge.sandbox.trello.config import MemberConfig


def parse_member(spec: str) -> MemberConfig:
    """``username:Full Name:token`` as given to ``--member``."""
    from pydantic import ValidationError

    from pmbridge.sandbox.trello.config import MemberConfig

    parts = spec.split(":", 2)
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise typer.BadParameter(f"{spec!r} is not username:Full Name:token", param_hint="--member")
    username, full_name, token = (p.strip() for p in parts)
    try:
        return MemberConfig(username=username, full_name=full_name, token=token)
    except ValidationError as err:
        reason = err.errors()[0]["msg"]
        raise typer.BadParameter(f"{username!r}: {reason}", param_hint="--member") from None


@sandbox_app.command("trello")
def sandbox_trello(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="TCP port; 0 picks a free one.")
    ] = 8766,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The API key (32 hex characters) requests must carry.",
            show_default="the demo key, printed at start",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="The token of the default member (sandboxuser).",
            show_default="the demo token, printed at start",
        ),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            help="The app secret that signs webhook deliveries.",
            show_default="the demo secret, printed at start",
        ),
    ] = None,
    members: Annotated[
        list[str] | None,
        typer.Option(
            "--member",
            help="Another member, as username:Full Name:token (repeatable).",
            show_default=False,
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            dir_okay=False,
            help="JSON file to keep the data in (loaded at start, saved while running). "
            "Default: in memory, lost when the server stops.",
            show_default=False,
        ),
    ] = None,
    no_rate_limits: Annotated[
        bool, typer.Option("--no-rate-limits", help="Answer every request, never 429.")
    ] = False,
) -> None:
    """Run the Trello sandbox (a local look-alike of api.trello.com/1) until Ctrl+C.

    Prints the API root, the key, the token and a curl line to try it. The key, token and
    secret are sandbox credentials, never real Trello ones.

    Example:

        pmbridge sandbox trello --port 8766 --state trello.json --member ann:Ann Lee:ann-token
    """
    import uvicorn
    from pydantic import ValidationError

    from pmbridge.sandbox.trello.app import create_app
    from pmbridge.sandbox.trello.config import (
        DEMO_KEY,
        DEMO_SECRET,
        DEMO_TOKEN,
        MemberConfig,
        SandboxConfig,
    )
    from pmbridge.sandbox.trello.ratelimit import RateLimitConfig
    from pmbridge.sockets import listening_socket

    key = key if key is not None else DEMO_KEY
    token = token if token is not None else DEMO_TOKEN
    secret = secret if secret is not None else DEMO_SECRET
    out = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False)
    extra = [parse_member(spec) for spec in members or []]
    try:
        config = SandboxConfig(
            key=key,
            secret=secret,
            members=[
                MemberConfig(
                    id="5f00000000000000000000a1",
                    username="sandboxuser",
                    full_name="Sandbox User",
                    token=token,
                ),
                *extra,
            ],
            rate_limits=None if no_rate_limits else RateLimitConfig(),
            persist_path=state,
        )
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        errors.print(f"Error: {where}: {first['msg']}", markup=False)
        raise typer.Exit(2) from None
    try:
        sock = listening_socket(host, port)
    except OSError as err:
        errors.print(f"Error: cannot listen on {host}:{port}: {err.strerror}", markup=False)
        raise typer.Exit(2) from None
    try:
        app = create_app(config)
    except ValueError as err:
        errors.print(f"Error: {err}", markup=False)
        raise typer.Exit(2) from None
    bound = sock.getsockname()[1]
    api = f"http://{f'[{host}]' if ':' in host else host}:{bound}/1"
    out.print("Trello sandbox", markup=False)
    out.print(f"  API:    {api}", markup=False)
    out.print(f"  key:    {key}", markup=False)
    out.print(f"  token:  {token}  (member sandboxuser)", markup=False)
    for member in extra:
        out.print(f"  token:  {member.token}  (member {member.username})", markup=False)
    out.print(f"  secret: {secret}  (signs webhooks)", markup=False)
    out.print(
        f"  data:   {state}" if state else "  data:   in memory; lost when it stops (--state FILE)",
        markup=False,
    )
    limits = "off" if no_rate_limits else "as Trello (429 when exceeded)"
    out.print(f"  limits: {limits}", markup=False)
    out.print("Try:", markup=False)
    out.print(
        f'  curl -H \'Authorization: OAuth oauth_consumer_key="{key}", '
        f'oauth_token="{token}"\' {api}/members/me',
        markup=False,
    )
    out.print("Press Ctrl+C to stop.", markup=False)
    server_config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(server_config).run(sockets=[sock])
