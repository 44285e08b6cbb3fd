"""The root typer app; each command group lives in its own module and is added here.

Registering a command must stay cheap: a command module imports typer, rich's console and
pmbridge's errors at most, and everything else (the engine, the store, the servers, the
sandboxes, httpx) inside the command's body, so that ``pmbridge --help`` starts fast
(``tests/cli/test_start.py`` checks it).
"""

from __future__ import annotations

import typer

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


def _register_commands() -> None:
    # Each module adds its commands to the apps above when imported.
    import importlib

    for module in (
        "pmbridge.cli.sandbox_trello",
        "pmbridge.cli.sandbox_custompms",
        "pmbridge.cli.check_custompms",
        "pmbridge.cli.sync",
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
