"""``pmbridge sync``: one cycle (or ``--dry-run``'s plan) with a lease, a run record, signals
that stop it cleanly, and a table per flow and direction. The commands that show the state it
leaves are in ``state.py``.

The engine, the store and rich's tables are imported inside the command, so that registering
it (and ``pmbridge --help``) stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from pmbridge.cli.app import app
from pmbridge.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_STOPPED,
    ConfigOption,
    FlowsOption,
    console,
    err_console,
    fail,
    handle_errors,
    run,
    settings_from,
)

if TYPE_CHECKING:
    from rich.table import Table

    from pmbridge.engine.report import CycleReport
    from pmbridge.engine.run import SyncOptions
    from pmbridge.systems.trello import TrelloLimits

DIRECTION_LABEL = {"to_trello": "→ Trello", "to_custompms": "→ Custompms"}


def report_table(report: CycleReport, flows: list[str]) -> Table:
    from rich.table import Table

    from pmbridge.engine.report import COLUMNS, DIRECTIONS

    title = "What this sync would do (dry run: nothing written)" if report.dry_run else None
    table = Table(title=title)
    table.add_column("flow")
    table.add_column("direction")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    for flow in flows:
        for direction in DIRECTIONS:
            counts = report.counts.get((flow, direction), {})
            table.add_row(
                flow,
                DIRECTION_LABEL[direction],
                *(str(counts.get(c, 0)) for c in COLUMNS),
            )
    return table


def print_report(report: CycleReport, flows: list[str], *, stopped_by: str | None = None) -> None:
    """The plan of a dry run, the table and the problems; for a cycle ``stopped_by`` an error
    (shown by the caller), the table only if something was done, and not that error again."""
    if report.dry_run:
        console.print(
            "[bold]The plan[/] (dry run: nothing written)"
            if report.plan
            else "The plan is empty: nothing to do."
        )
        for flow, line in report.plan:
            console.print(f"  {flow}: {escape(line)}", highlight=False, soft_wrap=True)
    did_something = any(n for counts in report.counts.values() for n in counts.values())
    if stopped_by is None or did_something:
        console.print(report_table(report, flows))
    if report.count("conflicts"):
        console.print(
            f"{report.count('conflicts')} conflict(s): see `pmbridge conflicts` for the "
            "values that lost; `pmbridge conflicts resolve ID --take SIDE` applies one."
        )
    if report.waiting:
        console.print(f"{report.waiting} record(s) wait for their parent to be linked.")
    for problem in report.problems:
        if problem != stopped_by:
            err_console.print(f"[yellow]•[/] {escape(problem)}", highlight=False, soft_wrap=True)


@app.command()
@handle_errors
def sync(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    flow: Annotated[
        list[str] | None,
        typer.Option("--flow", help="Only this flow (repeatable).", show_default=False),
    ] = None,
    allow_deletes: Annotated[
        bool,
        typer.Option(
            "--allow-deletes", help="Apply deletions even when they trip the circuit breaker."
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Read everything, not only changes (finds comment edits and new workspaces). "
            "Every PMBRIDGE_FULL_EVERY-th sync (default 20) does this by itself.",
        ),
    ] = False,
    config: ConfigOption = None,
    flows: FlowsOption = None,
) -> None:
    """Run one sync cycle between Custompms and Trello.

    Shows a progress bar while it works, then a table per flow and direction.
    Exit status: 0 done; 1 some records failed or deletions were held; 2 stopped.
    While another pmbridge syncs the same store, it waits up to PMBRIDGE_LEASE_WAIT_S
    seconds (default 0), then says who holds the store and exits 0 with nothing done.

    Example: PMBRIDGE_TRELLO_KEY=… PMBRIDGE_TRELLO_TOKEN=… PMBRIDGE_CUSTOMPMS_URL=…
    PMBRIDGE_CUSTOMPMS_TOKEN=… pmbridge sync --dry-run
    """
    from pmbridge.engine.run import SyncOptions
    from pmbridge.wiring import load_flow_file

    settings = settings_from(config, flows)
    flow_file = load_flow_file(settings)
    unknown = [name for name in flow or [] if name not in flow_file.names]
    if unknown:
        raise fail(f"no flow named {', '.join(unknown)}; flows: {', '.join(flow_file.names)}")
    options = SyncOptions(
        full=full,
        full_every=settings.full_every,
        dry_run=dry_run,
        flows=flow or None,
        allow_deletes=allow_deletes,
        delete_share=settings.allow_delete_share,
        delete_min=settings.allow_delete_min,
    )
    names = list(flow or flow_file.names)
    report = run(run_cycle(settings, options))
    print_report(report, names)
    raise typer.Exit(EXIT_OK if report.status == "ok" else EXIT_PARTIAL)


async def run_cycle(
    settings: Any, options: SyncOptions, *, trello_limits: TrelloLimits | None = None
) -> CycleReport:
    """One cycle with a progress bar on stderr, under the store's sync lease (a dry run
    writes nothing and takes none). A stopped cycle prints what it did, then exits with
    status 2; when another pmbridge holds the lease, this one says so and exits 0.
    ``trello_limits``: another Trello rate budget than Trello's own (tests, benchmarks)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from pmbridge.engine.run import CycleStopped
    from pmbridge.store import LeaseHeldError
    from pmbridge.store.guard import guard_cycle
    from pmbridge.wiring import open_engine

    with Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,  # no bar, and no blank lines, in logs and pipes
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(flow: str, done: int, total: int) -> None:
            if flow not in tasks:
                tasks[flow] = bar.add_task(flow, total=total)
            bar.update(tasks[flow], completed=done, total=total)

        async with open_engine(
            settings, progress=progress, trello_limits=trello_limits, dry_run=options.dry_run
        ) as runtime:
            guard = (
                contextlib.nullcontext()
                if options.dry_run
                else guard_cycle(runtime.store, wait_s=settings.lease_wait_s)
            )
            try:
                with _cancelled_by_signals():
                    async with guard:
                        return await runtime.engine.run(options)
            except CycleStopped as stopped:
                bar.stop()
                names = list(options.flows or runtime.flow_file.names)
                print_report(stopped.report, names, stopped_by=str(stopped.cause))
                raise fail(f"sync stopped: {stopped.cause}", EXIT_STOPPED) from None
            except LeaseHeldError as held:
                bar.stop()
                console.print(f"Nothing done: {held}; it syncs this store meanwhile.")
                raise typer.Exit(EXIT_OK) from None
            except asyncio.CancelledError as stop:
                bar.stop()
                why = stop.args[0] if stop.args else "cancelled"
                recorded = "" if options.dry_run else "; the run is recorded as interrupted"
                raise fail(
                    f"sync stopped by {why}{recorded} and the next sync carries on", EXIT_STOPPED
                ) from None


@contextlib.contextmanager
def _cancelled_by_signals() -> Iterator[None]:
    """SIGINT and SIGTERM cancel the running cycle (named in the cancellation)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    signals = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    for sig, name in signals.items():
        loop.add_signal_handler(sig, task.cancel, name)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
