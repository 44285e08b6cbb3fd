"""The root typer app; each command group lives in its own module and is added here.

Registering a command must stay cheap: a command module imports typer, rich's console and
pmbridge's errors at most, and everything else (the engine, the store, the servers, the
sandboxes, httpx) inside the command's body, so that ``pmbridge --help`` starts fast
(``tests/cli/test_start.py`` checks it).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from pmbridge import logs

app = typer.Typer(
    name="pmbridge",
    help="Two-way sync between Custompms and Trello.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sandbox_app = typer.Typer(
    help="Run a local sandbox: a Trello look-alike or the reference Custompms."
)
check_app = typer.Typer(help="Check that a system speaks its contract.")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(check_app, name="check")


# Settings that hold secrets, masked in every log line from the start (the settings a
# command loads add theirs, also from a config file: ``cli.common.settings_from``).
SECRET_VARIABLES = (
    "PMBRIDGE_TRELLO_KEY",
    "PMBRIDGE_TRELLO_TOKEN",
    "PMBRIDGE_TRELLO_SECRET",
    "PMBRIDGE_CUSTOMPMS_TOKEN",
    "PMBRIDGE_UI_PASSWORD",
)


@app.callback()
def _logging(
    ctx: typer.Context,
    verbose: Annotated[
        int,
        typer.Option(
            "-v",
            "--verbose",
            count=True,
            help="Log what is written (-v) and every decision (-vv) on stdout.",
        ),
    ] = 0,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help="text, or json: one JSON object per line. Default: text; json for serve "
            "when stdout is not a terminal.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Two-way sync between Custompms and Trello."""
    serving = ctx.invoked_subcommand == "serve"
    fmt = log_format or ("json" if serving and not sys.stdout.isatty() else "text")
    if fmt not in ("text", "json"):
        raise typer.BadParameter(f"{fmt!r} is not a log format; use text or json")
    default = logging.INFO if serving else logging.WARNING
    secrets = (os.environ.get(name, "") for name in SECRET_VARIABLES)
    level = logs.level_of(verbose, default)
    ctx.with_resource(logs.to_console(level, "json" if fmt == "json" else "text", secrets=secrets))


def _register_commands() -> None:
    # Each module adds its commands to the apps above when imported.
    import importlib

    for module in (
        "pmbridge.cli.sandbox_trello",
        "pmbridge.cli.sandbox_custompms",
        "pmbridge.cli.check_custompms",
        "pmbridge.cli.sync",
        "pmbridge.cli.state",
        "pmbridge.cli.serve",
        "pmbridge.cli.ui",
        "pmbridge.cli.docs",
        "pmbridge.cli.demo",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise


_register_commands()


def main() -> None:
    app()
