"""What every command shares: options, settings, output, and one error handler.

Exit status: 0 done; 1 done, but some records failed or deletions were held; 2 stopped
(a configuration mistake, bad credentials, an unreachable system or store).
"""

from __future__ import annotations

import asyncio
import functools
import sys
import warnings
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pmbridge import logs
from pmbridge.errors import PmbridgeError

if TYPE_CHECKING:
    from pmbridge.config import Settings

# Piped output (logs, CI, tests) gets room for the whole sync table instead of 80 columns.
_WIDTH = None if sys.stdout.isatty() else 120
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

EXIT_OK, EXIT_PARTIAL, EXIT_STOPPED = 0, 1, 2

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML config file (default: $PMBRIDGE_CONFIG, else ./pmbridge.toml if present).",
        show_default=False,
    ),
]
FlowsOption = Annotated[
    Path | None,
    typer.Option(
        "--flows",
        help="Flow file to use instead of the packaged one (also $PMBRIDGE_FLOWS).",
        show_default=False,
    ),
]

T = TypeVar("T")


def settings_from(config: Path | None, flows: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the config file and environment, with the command line on top; a
    ``PMBRIDGE_*`` variable that is no setting is named on stderr as a warning."""
    from pmbridge.config import UnknownVariableWarning, load_settings

    extra = {k: v for k, v in overrides.items() if v is not None}
    if flows is not None:
        extra["flows"] = flows
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownVariableWarning)
        settings = load_settings(config, **extra)
    for warning in caught:
        if issubclass(warning.category, UnknownVariableWarning):
            warn(str(warning.message))
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    logs.mask(*settings.secret_values())
    return settings


def warn(message: str) -> None:
    err_console.print(f"[yellow]Warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_STOPPED) -> typer.Exit:
    err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handle_errors(command: Callable[..., T]) -> Callable[..., T]:
    """Turn pmbridge's errors into one clear line on stderr and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return command(*args, **kwargs)
        except PmbridgeError as err:
            raise fail(str(err)) from None

    return wrapper


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)
