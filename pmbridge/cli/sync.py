"""``pmbridge sync`` and the commands that show the sync's state: status, links,
conflicts, dead-letters.

The engine, the store and rich's tables are imported inside the commands that use them, so
that registering these commands (and ``pmbridge --help``) stays cheap.

One module because ``sync`` and the read-only commands on its state (status, links,
conflicts, dead-letters) share their output helpers; next split: the conflicts commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

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

    from pmbridge.config import Settings
    from pmbridge.engine.report import CycleReport
    from pmbridge.engine.run import SyncOptions
    from pmbridge.store import Store
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


@app.command()
@handle_errors
def status(config: ConfigOption = None, flows: FlowsOption = None) -> None:
    """Show the links per flow, open conflicts, dead letters and the last runs."""
    from rich.table import Table

    from pmbridge.wiring import load_flow_file

    settings = settings_from(config, flows)
    flow_file = load_flow_file(settings)
    with existing_store(settings) as store:
        table = Table(title=f"pmbridge state in {store.url}")
        table.add_column("flow")
        table.add_column("links", justify="right")
        table.add_column("held conflicts", justify="right")
        table.add_column("dead letters", justify="right")
        held = store.conflicts(status="held")
        letters = store.dead_letters()
        for name in flow_file.names:
            table.add_row(
                name,
                str(store.count_links(name)),
                str(sum(c.flow == name for c in held)),
                str(sum(d.flow == name for d in letters)),
            )
        console.print(table)
        runs = Table(title="last runs")
        for column in ("run", "started", "finished", "status", "writes", "error"):
            runs.add_column(column)
        for entry in store.runs(limit=5):
            summary = entry.summary or {}
            writes = sum(
                sum(v for k, v in counts.items() if k in ("created", "updated", "deleted"))
                for counts in (summary.get("counts") or {}).values()
            )
            runs.add_row(
                str(entry.id),
                f"{entry.started_at:%Y-%m-%d %H:%M:%S}",
                f"{entry.finished_at:%H:%M:%S}" if entry.finished_at else "",
                entry.status,
                str(writes),
                entry.error or "",
            )
        console.print(runs)


@app.command()
@handle_errors
def links(
    flow: Annotated[str | None, typer.Argument(help="Only this flow.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    config: ConfigOption = None,
    flows: FlowsOption = None,
) -> None:
    """List linked pairs: Custompms id ↔ Trello id, per flow."""
    from rich.table import Table

    from pmbridge.wiring import load_flow_file

    settings = settings_from(config, flows)
    names = load_flow_file(settings).names
    if flow is not None and flow not in names:
        raise fail(f"no flow named {flow}; flows: {', '.join(names)}")
    with existing_store(settings, as_json=as_json) as store:
        table = Table()
        for column in ("flow", "custompms id", "trello id", "updated"):
            table.add_column(column)
        for name in [flow] if flow else names:
            for link in store.links(name):
                if as_json:
                    print(
                        json.dumps(
                            {
                                "flow": name,
                                "custompms_id": link.custompms_id,
                                "trello_id": link.trello_id,
                            }
                        )
                    )
                    continue
                updated = f"{link.updated_at:%Y-%m-%d %H:%M:%S}" if link.updated_at else ""
                table.add_row(name, link.custompms_id, link.trello_id, updated)
        if not as_json:
            console.print(table)


conflicts_app = typer.Typer(help="Conflicts: both sides changed a property differently.")
app.add_typer(conflicts_app, name="conflicts")


@conflicts_app.callback(invoke_without_command=True)
@handle_errors
def conflicts(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Also those already settled.")] = False,
    config: ConfigOption = None,
) -> None:
    """List the conflicts a person has not settled: held ones, and ones a policy decided
    (with the value that lost, which `resolve` can still apply). --all: every one."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    settings = settings_from(config)
    with existing_store(settings) as store:
        from pmbridge.store.rows import OPEN_CONFLICT_STATUSES

        rows = store.conflicts() if all_ else store.conflicts(status=OPEN_CONFLICT_STATUSES)
        table = Table()
        for column in (
            "id",
            "flow",
            "custompms id",
            "property",
            "custompms",
            "trello",
            "status",
            "kept",
            "lost",
        ):
            table.add_column(column)
        for c in rows:
            kept = c.resolution or c.winner
            lost = ""
            if kept is not None and c.status != "dismissed":
                lost = _show(c.trello_value if kept == "custompms" else c.custompms_value)
            table.add_row(
                str(c.id),
                c.flow,
                c.custompms_id,
                c.property,
                _show(c.custompms_value),
                _show(c.trello_value),
                c.status or "",
                kept or "",
                lost,
            )
        console.print(table)
        if not rows:
            console.print("No open conflicts." if not all_ else "No conflicts.")


@conflicts_app.command("resolve")
@handle_errors
def conflicts_resolve(
    conflict_id: Annotated[int, typer.Argument(help="The conflict's id (see pmbridge conflicts).")],
    take: Annotated[
        Literal["custompms", "trello"],
        typer.Option("--take", help="The side whose value to keep; it is written to the other."),
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write even though a side changed the property since the conflict was logged.",
        ),
    ] = False,
    config: ConfigOption = None,
    flows: FlowsOption = None,
) -> None:
    """Settle a conflict by taking one side's value and writing it to the other side.

    Nothing is written when either side changed the property since the conflict was logged
    (it shows the current values); --force writes anyway.

    Example: pmbridge conflicts resolve 3 --take trello
    """
    from pmbridge.wiring import open_engine

    settings = settings_from(config, flows)

    async def resolve() -> str:
        async with open_engine(settings) as runtime:
            return await runtime.engine.resolve_conflict(conflict_id, take, force=force)

    console.print(run(resolve()))


@conflicts_app.command("dismiss")
@handle_errors
def conflicts_dismiss(
    conflict_id: Annotated[int, typer.Argument(help="The conflict's id (see pmbridge conflicts).")],
    config: ConfigOption = None,
) -> None:
    """Keep things as they are: the conflict leaves the list of open ones; nothing is written.

    Example: pmbridge conflicts dismiss 3
    """
    settings = settings_from(config)
    with existing_store(settings) as store:
        store.dismiss_conflict(conflict_id)
    console.print(f"Conflict {conflict_id} dismissed; nothing was written.")


@app.command("dead-letters")
@handle_errors
def dead_letters(config: ConfigOption = None) -> None:
    """List records whose sync failed; each is retried on every cycle until it succeeds."""
    from rich.table import Table

    settings = settings_from(config)
    with existing_store(settings) as store:
        table = Table()
        for column in ("flow", "write to", "record", "kind", "attempts", "last failed", "error"):
            table.add_column(column)
        letters = store.dead_letters()
        for d in letters:
            table.add_row(
                d.flow,
                d.side,
                d.record_id,
                d.operation,
                str(d.attempts),
                f"{d.last_failed_at:%Y-%m-%d %H:%M:%S}",
                d.error,
            )
        console.print(table)
        if not letters:
            console.print("No dead letters.")


def existing_store(settings: Settings, *, as_json: bool = False) -> Store:
    """The state store, opened for a command that only reads it; exits 0 with a sentence,
    creating nothing, when its SQLite file does not exist yet (on stderr when the output is
    JSON, which then has no lines)."""
    from pmbridge.store import open_store
    from pmbridge.store.connect import is_memory, parse_url

    url = parse_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not is_memory(url):
        if not Path(url.database or "").exists():
            (err_console if as_json else console).print(
                f"No state store yet at {url.render_as_string(hide_password=True)}: "
                "`pmbridge sync` creates it with the first sync.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_OK)
    return open_store(url)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:39] + "…"
