"""``pmbridge demo``: a real two-way sync between the embedded sandboxes, shown step by step."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pmbridge.cli.app import app
from pmbridge.cli.common import EXIT_OK, EXIT_PARTIAL, console, handle_errors, run

if TYPE_CHECKING:
    import httpx

    from pmbridge.demo import DemoSystems


@app.command()
@handle_errors
def demo(
    keep_running: Annotated[
        bool,
        typer.Option("--keep-running", help="Leave both sandboxes up afterwards (Ctrl-C stops)."),
    ] = False,
    state_dir: Annotated[
        Path | None,
        typer.Option("--state-dir", help="Keep the demo's databases here (default: a temp dir)."),
    ] = None,
) -> None:
    """Run a two-way sync between the embedded Trello sandbox and reference Custompms.

    Starts both on free ports of 127.0.0.1, fills Custompms with sample data, syncs, edits a
    task on each side, syncs again and shows both sides. Nothing leaves this machine.

    Example: pmbridge demo --keep-running
    """
    from pmbridge.demo import demo_systems

    with demo_systems(state_dir) as systems:
        ok = _run(systems)
        if keep_running:
            _serve(systems)
    raise typer.Exit(EXIT_OK if ok else EXIT_PARTIAL)


def _run(systems: DemoSystems) -> bool:
    from pmbridge.cli.sync import print_report, run_cycle
    from pmbridge.demo import seed_sample
    from pmbridge.engine.run import SyncOptions

    settings = systems.settings()
    console.rule("[bold]pmbridge demo")
    console.print(f"Trello sandbox:        {systems.trello_api}")
    console.print(f"Reference Custompms:   {systems.custompms.url}  (a page to edit tasks is at /)")
    pms, trello = systems.custompms_http(), systems.trello_http()
    tasks = seed_sample(pms)
    console.print(f"Filled Custompms with sample data: {len(tasks)} tasks with comments.\n")

    console.rule("Sync 1: everything new in Custompms goes to Trello")
    names = ["customers", "projects", "tasks", "project_comments", "task_comments"]
    print_report(run(run_cycle(settings, SyncOptions())), names)

    console.rule("Edits on both sides")
    renamed = tasks["Write the copy"]
    pms.patch(
        f"/tasks/{renamed['id']}",
        json={"title": "Write the homepage copy", "status": "in_progress"},
    ).raise_for_status()
    console.print(
        "Custompms: renamed 'Write the copy' → 'Write the homepage copy', status in_progress."
    )
    card = _card_named(trello, "Label the shelves")
    done = _list_named(trello, card["idBoard"], "Done")
    trello.put(f"/cards/{card['id']}", params={"idList": done}).raise_for_status()
    trello.post(
        f"/cards/{card['id']}/actions/comments", params={"text": "Shelves are labelled."}
    ).raise_for_status()
    console.print("Trello:    moved 'Label the shelves' to Done and commented on it.\n")

    console.rule("Sync 2: each edit reaches the other side")
    report = run(run_cycle(settings, SyncOptions()))
    print_report(report, names)

    console.rule("Both sides now")
    _show_trello(trello)
    _show_custompms(pms)
    arrived = _check(pms, trello, renamed["id"], tasks["Label the shelves"]["id"])
    console.print("[green]Both edits arrived.[/]" if arrived else "[red]An edit did not arrive.[/]")
    return arrived and report.status == "ok"


def _card_named(trello: httpx.Client, name: str) -> dict[str, Any]:
    for org in trello.get("/members/me/organizations").json():
        for board in trello.get(f"/organizations/{org['id']}/boards").json():
            for card in trello.get(f"/boards/{board['id']}/cards").json():
                if card["name"] == name:
                    return card
    raise LookupError(name)


def _list_named(trello: httpx.Client, board: str, name: str) -> str:
    for item in trello.get(f"/boards/{board}/lists").json():
        if item["name"] == name:
            return item["id"]
    return trello.post("/lists", params={"name": name, "idBoard": board}).json()["id"]


def _show_trello(trello: httpx.Client) -> None:
    from rich.tree import Tree

    tree = Tree("[bold]Trello")
    for org in trello.get("/members/me/organizations").json():
        workspace = tree.add(f"workspace [cyan]{org['displayName']}")
        for board in trello.get(f"/organizations/{org['id']}/boards").json():
            branch = workspace.add(f"board [magenta]{board['name']}")
            cards = trello.get(f"/boards/{board['id']}/cards").json()
            comments = trello.get(
                f"/boards/{board['id']}/actions", params={"filter": "commentCard", "limit": 1000}
            ).json()
            per_card: dict[str, int] = {}
            for comment in comments:
                per_card[comment["data"]["card"]["id"]] = (
                    per_card.get(comment["data"]["card"]["id"], 0) + 1
                )
            for lst in trello.get(f"/boards/{board['id']}/lists").json():
                column = branch.add(f"list {lst['name']}")
                for card in (c for c in cards if c["idList"] == lst["id"]):
                    column.add(f"{card['name']}  [dim]({per_card.get(card['id'], 0)} comments)")
    console.print(tree)


def _show_custompms(pms: httpx.Client) -> None:
    from rich.table import Table

    projects = {
        p["id"]: p["name"] for p in pms.get("/projects", params={"limit": 1000}).json()["items"]
    }
    comments = pms.get("/comments", params={"limit": 1000}).json()["items"]
    table = Table(title="Custompms tasks")
    for column in ("project", "task", "status", "comments"):
        table.add_column(column)
    for task in pms.get("/tasks", params={"limit": 1000}).json()["items"]:
        if task.get("deleted"):
            continue
        count = sum(1 for c in comments if c.get("task_id") == task["id"] and not c.get("deleted"))
        table.add_row(
            projects.get(task["project_id"], "?"), task["title"], task["status"], str(count)
        )
    console.print(table)


def _check(pms: httpx.Client, trello: httpx.Client, renamed: str, moved: str) -> bool:
    task = pms.get(f"/tasks/{renamed}").json()
    card = _card_named(trello, "Write the homepage copy")
    lists = {i["id"]: i["name"] for i in trello.get(f"/boards/{card['idBoard']}/lists").json()}
    shelves = pms.get(f"/tasks/{moved}").json()
    comments = [
        c["text"]
        for c in pms.get("/comments", params={"limit": 1000}).json()["items"]
        if c.get("task_id") == moved
    ]
    return (
        task["title"] == "Write the homepage copy"
        and lists[card["idList"]] == "Doing"
        and shelves["status"] == "done"
        and "Shelves are labelled." in comments
    )


def _serve(systems: DemoSystems) -> None:
    member = systems.trello_config.members[0]
    console.rule("Still running: edit either side, then sync again")
    console.print(f"Custompms page:  {systems.custompms.url}/")
    console.print(
        f"Trello API:      {systems.trello_api}  (key {systems.trello_config.key}, "
        f"token {member.token})"
    )
    console.print("To sync by hand, in another shell:")
    console.print(f"  export PMBRIDGE_TRELLO_URL={systems.trello_api}", highlight=False)
    console.print(f"  export PMBRIDGE_TRELLO_KEY={systems.trello_config.key}", highlight=False)
    console.print(f"  export PMBRIDGE_TRELLO_TOKEN={member.token}", highlight=False)
    console.print(f"  export PMBRIDGE_CUSTOMPMS_URL={systems.custompms.url}", highlight=False)
    console.print(f"  export PMBRIDGE_CUSTOMPMS_TOKEN={systems.custompms_token}", highlight=False)
    console.print(
        f"  export PMBRIDGE_DATABASE_URL=sqlite:///{systems.workdir / 'pmbridge.db'}",
        highlight=False,
    )
    console.print("  pmbridge sync")
    console.print("Press Ctrl-C to stop.")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("Stopped.")
