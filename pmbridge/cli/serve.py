"""``pmbridge serve``: the continuous sync (``pmbridge.serve.Service``) as a command.

One line per cycle on stdout, warnings on stderr. SIGINT (Ctrl-C) or SIGTERM finishes the
current cycle, removes the webhooks and the subscription, and exits 0; a second one cancels
the running cycle. Refused credentials end it with exit status 2.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from pmbridge.cli.app import app
from pmbridge.cli.common import (
    EXIT_STOPPED,
    ConfigOption,
    FlowsOption,
    fail,
    handle_errors,
    run,
    settings_from,
)
from pmbridge.errors import RemoteSystemError

if TYPE_CHECKING:
    from pmbridge.serve import Service

# pmbridge.serve.DEFAULT_LISTEN as text; spelled out here so that --help need not import the
# server (tests/cli/test_start.py checks that the two agree).
DEFAULT_LISTEN_TEXT = "127.0.0.1:8770"
LISTEN_HELP = (
    "HOST:PORT to serve the dashboard (/ui), /healthz, /readyz, /metrics and, with "
    f"--public-url, the webhook receiver on [default: {DEFAULT_LISTEN_TEXT} "
    "with --public-url, else nowhere]. Without PMBRIDGE_UI_PASSWORD the dashboard answers "
    "only requests for localhost."
)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8770`` for IPv6) as (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise typer.BadParameter(
            f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:8770 or 0.0.0.0:8770",
            param_hint="--listen",
        )
    return host, int(port)


@app.command()
@handle_errors
def serve(
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            min=0.1,
            help="Seconds between periodic cycles (default: PMBRIDGE_INTERVAL_S, else 900 "
            "with --public-url, 60 without).",
            show_default=False,
        ),
    ] = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help=LISTEN_HELP, show_default=False)
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The URL at which Trello and Custompms reach the receiver (e.g. "
            "https://pmbridge.example.com); without it, pmbridge only polls. Needs "
            "PMBRIDGE_TRELLO_SECRET.",
            show_default=False,
        ),
    ] = None,
    once_per: Annotated[
        float,
        typer.Option(
            "--once-per",
            min=0.0,
            help="Deliveries within this many seconds of the first one make one cycle.",
        ),
    ] = 1.0,
    config: ConfigOption = None,
    flows: FlowsOption = None,
) -> None:
    """Keep syncing: a cycle every interval, and a prompt one after each change notice.

    With --public-url, Trello webhooks and Custompms notifications trigger the prompt cycles.
    With --listen (or --public-url), the dashboard is at http://HOST:PORT/ui/.
    Prints one line per cycle; Ctrl-C or SIGTERM finishes the cycle and exits 0.
    The webhooks and the subscription are removed on the way out (and those a killed
    serve left, at the next start). A cycle waits its turn while another pmbridge
    syncs the same store (PMBRIDGE_LEASE_WAIT_S); replayed deliveries start no cycle.
    Bad credentials exit 2; an unreachable system is tried again with backoff.

    Example: pmbridge serve --public-url https://sync.example.com --listen 0.0.0.0:8770
    """
    from pmbridge.serve import Service
    from pmbridge.serve.ui.access import is_loopback

    host, port = parse_listen(listen if listen is not None else DEFAULT_LISTEN_TEXT)
    settings = settings_from(config, flows, interval_s=interval)
    http = listen is not None
    if settings.ui_password is None and not is_loopback(host):
        logging.getLogger("pmbridge.serve").warning(
            "no PMBRIDGE_UI_PASSWORD: the dashboard answers only requests for localhost"
        )
    service = Service(
        settings, public_url=public_url, listen=(host, port), once_per_s=once_per, http=http
    )
    try:
        run(_serve(service))
    except RemoteSystemError as err:  # a system refused the credentials
        raise fail(f"serve stopped: {err}", EXIT_STOPPED) from None


async def _serve(service: Service) -> None:
    loop = asyncio.get_running_loop()
    stops = 0

    def on_signal() -> None:
        nonlocal stops
        stops += 1
        if stops == 1:
            logging.getLogger("pmbridge.serve").info(
                "stopping after the current cycle (again to cancel it)"
            )
            service.request_stop()
        else:
            service.abort()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        await service.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
