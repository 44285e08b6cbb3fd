"""Benchmarks 1 and 2: the first sync of N tasks into an empty Trello, then idle cycles.

For each N: seed 5 customers, 20 projects and N tasks (each with one comment) in a fresh
reference Custompms, run pmbridge's first cycle into an empty Trello sandbox (rate limits
off) in a child process, and count the requests each sandbox answered. Then two cycles with
nothing changed: the first right after the initial sync (it still reads the initial sync's
own actions back from the board feeds), the second the steady idle cost. Last, a full
reconciliation with nothing changed (``pmbridge sync --full``; by default every 20th cycle
is one), for the periodic cost.

Calls per created object are set against a minimum: one create per object (workspaces,
boards, the lists the cards need, cards, comments), the boards' feeds ten to a ``/batch``
call (Trello's cap on one batch), one page per Custompms resource per 1,000 records (the
contract's largest page), and one ``GET /capabilities`` (which optional task properties the
Custompms has).

    python -m bench.initial                 # N = 1,000 and 10,000
    python -m bench.initial --tasks 2000
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.common import (
    add_tasks,
    console,
    ok,
    parser,
    shape_for,
    table,
    tasks_for,
    top_routes,
    write_result,
)
from bench.dataset import Dataset, seed
from bench.people import TrelloUser
from bench.sandboxes import Sandboxes
from bench.worker import Worker
from pmbridge.systems.trello.client import BATCH_SIZE

NAME = "initial"
FULL = [1_000, 10_000]
TINY = [20]
TARGET_RATIO = 1.05  # at most 5% above the minimum
CONTRACT_PAGE = 1000


def minimum_calls(data: Dataset, lists_per_board: int = 1) -> dict[str, int]:
    """The fewest calls a first sync of ``data`` can make (see the module docstring)."""
    boards = len(data.projects)
    trello_creates = (
        len(data.customers)
        + boards
        + boards * lists_per_board
        + len(data.tasks)
        + len(data.comments)
    )
    pages = sum(
        max(1, math.ceil(n / CONTRACT_PAGE))
        for n in (len(data.customers), boards, len(data.tasks), len(data.comments))
    )
    custompms = pages + 1  # and GET /capabilities, once per run
    feeds = math.ceil(boards / BATCH_SIZE)
    return {
        "trello_creates": trello_creates,
        "trello": trello_creates + feeds,
        "custompms": custompms,
        "total": trello_creates + feeds + custompms,
    }


def cycle_figures(outcome: dict[str, Any], counts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "wall_s": round(outcome["wall_s"], 3),
        "calls": {side: counts[side]["requests"] for side in counts},
        "writes": {side: counts[side]["writes"] for side in counts},
        "by_route": {side: counts[side]["by_route"] for side in counts},
        "by_status": {side: counts[side]["by_status"] for side in counts},
        "report": outcome["report"],
        "errors": outcome["errors"],
        "stopped": outcome["stopped"],
        "peak_rss_mb": round(outcome["peak_rss_mb"], 1),
    }


def what_trello_holds(sandboxes: Sandboxes) -> dict[str, int]:
    """Boards, cards and comments on Trello, as its user sees them."""
    user = TrelloUser(sandboxes)
    try:
        boards = user.boards()
        return {
            "boards": len(boards),
            "cards": sum(len(user.cards(b["id"])) for b in boards),
            "comments": sum(len(user.comments(b["id"])) for b in boards),
        }
    finally:
        user.close()


def run(n: int, shape: dict[str, int]) -> dict[str, Any]:
    """Benchmarks 1 and 2 for ``n`` tasks."""
    with Sandboxes() as sandboxes:
        console.print(f"[bold]{n:,} tasks[/]: seeding Custompms …")
        data = seed(sandboxes.custompms_app, tasks=n, **shape)
        store = f"sqlite:///{sandboxes.folder / 'pmbridge.db'}"
        with Worker("pmbridge", sandboxes.connection(), database_url=store) as worker:
            console.print("  first sync …")
            sandboxes.reset_counts()
            initial = cycle_figures(worker.cycle(), sandboxes.counts())
            held = what_trello_holds(sandboxes)
            idles = []
            for label in ("right after", "steady"):
                console.print(f"  idle cycle ({label}) …")
                sandboxes.reset_counts()
                idles.append(cycle_figures(worker.cycle(), sandboxes.counts()))
            console.print("  full reconciliation (nothing changed) …")
            sandboxes.reset_counts()
            full = cycle_figures(worker.cycle(full=True), sandboxes.counts())
            rss_at_start = worker.started["peak_rss_mb"]
    minimum = minimum_calls(data)
    created = sum(
        counter.get("created", 0) for counter in initial["report"]["counts"].values()
    ) + len(data.projects)  # the lists the cards need are not in the report's counts
    total = sum(initial["calls"].values())
    boards = len(data.projects)
    idle_target = boards + 2
    return {
        "tasks": n,
        "seeded": data.summary(),
        "on_trello_after": held,
        "all_created": held
        == {"boards": boards, "cards": len(data.tasks), "comments": len(data.comments)},
        "initial": {
            **initial,
            "objects_created": created,
            "calls_per_object": round(total / created, 4),
            "minimum": minimum,
            "minimum_calls_per_object": round(minimum["total"] / minimum["trello_creates"], 4),
            "ratio_to_minimum": round(total / minimum["total"], 4),
            "target_ratio": TARGET_RATIO,
            "rss_before_first_cycle_mb": round(rss_at_start, 1),
        },
        "idle_right_after": idles[0],
        "idle_steady": idles[1],
        "full_reconcile": full,
        "idle_target_per_system": idle_target,
    }


def show(runs: list[dict[str, Any]]) -> None:
    rows = []
    for r in runs:
        i = r["initial"]
        rows.append(
            [
                f"{r['tasks']:,} tasks",
                i["wall_s"],
                i["calls"]["trello"],
                i["calls"]["custompms"],
                i["objects_created"],
                i["calls_per_object"],
                i["minimum_calls_per_object"],
                f"{i['ratio_to_minimum']:.3f} {ok(i['ratio_to_minimum'] <= TARGET_RATIO)}",
                i["peak_rss_mb"],
                "yes" if r["all_created"] else "[red]NO[/]",
            ]
        )
    console.print(
        table(
            "Initial sync into an empty Trello (rate limits off)",
            [
                "run",
                "wall s",
                "Trello calls",
                "Custompms calls",
                "objects created",
                "calls/object",
                "minimum",
                "÷ minimum (≤1.05)",
                "peak RSS MB",
                "all there",
            ],
            rows,
        )
    )
    rows = []
    for r in runs:
        target = r["idle_target_per_system"]
        for label, key in (
            ("right after", "idle_right_after"),
            ("steady", "idle_steady"),
            ("full reconcile", "full_reconcile"),
        ):
            c = r[key]
            worst = max(c["calls"].values())
            rows.append(
                [
                    f"{r['tasks']:,} tasks, {label}",
                    c["wall_s"],
                    c["calls"]["trello"],
                    c["calls"]["custompms"],
                    sum(c["writes"].values()),
                    "" if key == "full_reconcile" else f"≤{target} {ok(worst <= target)}",
                    top_routes(c["by_route"]["trello"], 4),
                ]
            )
    console.print(
        table(
            "Idle cycles (nothing changed)",
            [
                "run",
                "wall s",
                "Trello calls",
                "Custompms calls",
                "writes",
                "target",
                "Trello by route",
            ],
            rows,
        )
    )


def main(argv: list[str] | None = None) -> Path:
    args = _parser().parse_args(argv)
    runs = [run(n, shape_for(args)) for n in tasks_for(args, FULL, TINY)]
    show(runs)
    return write_result(args.results, NAME, {"runs": runs}, argv)


def _parser() -> Any:
    found = parser(NAME, "First sync of N tasks into an empty Trello, then idle cycles.")
    add_tasks(found)
    return found


if __name__ == "__main__":
    main()
