"""``pmbridge check custompms URL``: run the Custompms contract's conformance suite."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from pmbridge.cli.app import check_app
from pmbridge.errors import ConfigError, UnavailableError

if TYPE_CHECKING:
    from rich.table import Table

    from pmbridge.check import CheckResult


def results_table(results: list[CheckResult]) -> Table:
    """The results as a table of check / result / reason."""
    from rich.table import Table

    table = Table(title="Custompms conformance", show_lines=False)
    table.add_column("check", overflow="fold")
    table.add_column("result", no_wrap=True)
    table.add_column("reason", overflow="fold")
    for result in results:
        verdict = "[green]pass[/green]" if result.passed else "[bold red]FAIL[/bold red]"
        table.add_row(result.name, verdict, result.reason, end_section=False)
    return table


@check_app.command("custompms")
def check_custompms(
    url: Annotated[str, typer.Argument(help="The API root of the Custompms to check.")],
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="PMBRIDGE_CUSTOMPMS_TOKEN",
            help="A bearer token the server accepts.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check that a Custompms implementation speaks the contract (docs/custompms-api.yaml).

    The suite creates a few records of each kind and soft-deletes them all at the end.

    It checks reads, writes, the change feed, idempotent creates, If-Match, errors and auth,
    then reports which optional parts of contract 1.1 the server declares (GET /capabilities:
    tags, assignees, checklist, links, people) and checks each one declared. A 1.0 server
    without them passes. Any credential the server echoes back is shown as ***.

    Exit status: 0 when every check passes, 1 when any fails, 2 when the server is unreachable.

    Example: pmbridge check custompms http://127.0.0.1:8765 --token "$PMBRIDGE_CUSTOMPMS_TOKEN"
    """
    errors = Console(stderr=True)
    if not token:
        errors.print(
            "Error: no Custompms token: pass --token or set PMBRIDGE_CUSTOMPMS_TOKEN",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    from pmbridge.check import run_custompms_checks

    try:
        results = asyncio.run(run_custompms_checks(url, token))
    except (UnavailableError, ConfigError) as err:
        errors.print(f"Error: {err}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console = Console()
    console.print(results_table(results))
    failed = [result for result in results if not result.passed]
    passed = len(results) - len(failed)
    console.print(f"{passed} of {len(results)} checks passed.", highlight=False)
    raise typer.Exit(1 if failed else 0)
