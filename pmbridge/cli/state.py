"""The commands that show the sync's state and settle it: status, links, conflicts (list,
resolve, dismiss) and dead-letters.

The store, the engine and rich's tables are imported inside the commands that use them, so
that registering these commands (and ``pmbridge --help``) stays cheap.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from pmbridge.cli.app import app
from pmbridge.cli.common import (
    EXIT_OK,
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
    from pmbridge.config import Settings
    from pmbridge.store import Store


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
