"""Benchmarks 2, 3 and 5 side by side: idle and incremental cycles, pmbridge against the
naive full-refresh baseline (``bench.naive``), in one run on the same data.

Each tool gets its own pair of sandboxes (Trello rate limits off), seeded alike with N tasks
(each with a comment), and syncs them with a first cycle of its own. A person then sets up
every board with a list per status (To Do, Doing, Done) and one cycle takes that in. Then:

- idle: a cycle with nothing changed (the steady idle cost);
- for k = 1, 10, 100: k edits on each side (title, description and status changes and new
  comments, in turn, on distinct tasks; Custompms through its API, Trello through its REST
  API), one cycle — whose calls are counted and whose every edit is checked on the other
  side — and one more cycle that reads back the first one's own writes ("echo").

Target for pmbridge: an incremental cycle makes at most 1.1 × the writes needed (one per
edit) plus the idle cost. Naive ÷ pmbridge is reported for the idle and incremental calls.

    python -m bench.incremental                 # N = 1,000 and 10,000; k = 1, 10, 100
    python -m bench.incremental --tasks 2000 --edits 1 10
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import edits as people_edits
from bench.common import (
    add_tasks,
    console,
    ok,
    parser,
    shape_for,
    table,
    tasks_for,
    write_result,
)
from bench.dataset import seed
from bench.people import PmsUser, TrelloUser
from bench.sandboxes import Sandboxes
from bench.worker import Worker

NAME = "incremental"
TOOLS = ("pmbridge", "naive")
FULL = [1_000, 10_000]
TINY = [12]
FULL_EDITS = [1, 10, 100]
TINY_EDITS = [1, 3]
WRITES_FACTOR = 1.1


class Side:
    """One tool with its own sandboxes, its worker and the people using its systems."""

    def __init__(self, tool: str, n: int, shape: dict[str, int], stack: ExitStack):
        self.tool = tool
        self.sandboxes = stack.enter_context(Sandboxes())
        self.data = seed(self.sandboxes.custompms_app, tasks=n, **shape)
        folder = self.sandboxes.folder
        self.worker = stack.enter_context(
            Worker(
                tool,
                self.sandboxes.connection(),
                database_url=f"sqlite:///{folder / 'pmbridge.db'}",
                state_path=str(folder / "naive-state.json"),
            )
        )
        self.pms = PmsUser(self.sandboxes)
        self.trello = TrelloUser(self.sandboxes)
        stack.callback(self.pms.close)
        stack.callback(self.trello.close)
        self.pairs: list[people_edits.Pair] = []
        self.lists: dict[str, dict[str, str]] = {}

    def cycle(self) -> dict[str, Any]:
        """One measured cycle: the worker's figures and the server-side counts."""
        self.sandboxes.reset_counts()
        outcome = self.worker.cycle()
        counts = self.sandboxes.counts()
        if outcome["stopped"] or outcome["errors"]:
            console.print(f"[red]{self.tool}: {outcome['stopped'] or outcome['problems'][:3]}")
        return {
            "wall_s": round(outcome["wall_s"], 3),
            "calls": {side: counts[side]["requests"] for side in counts},
            "total_calls": sum(counts[side]["requests"] for side in counts),
            "writes": {side: counts[side]["writes"] for side in counts},
            "by_route": {side: counts[side]["by_route"] for side in counts},
            "errors": outcome["errors"],
            "stopped": outcome["stopped"],
            "report": outcome["report"],
            "peak_rss_mb": round(outcome["peak_rss_mb"], 1),
        }


def run(n: int, ks: list[int], shape: dict[str, int]) -> dict[str, Any]:
    with ExitStack() as stack:
        sides = {tool: Side(tool, n, shape, stack) for tool in TOOLS}
        result: dict[str, Any] = {"tasks": n, "seeded": sides["pmbridge"].data.summary()}
        for tool, side in sides.items():
            console.print(f"[bold]{n:,} tasks[/], {tool}: first sync …")
            first = side.cycle()
            echo = side.cycle()
            side.pairs = people_edits.pair_tasks(side.pms, side.trello)
            side.lists = people_edits.ensure_lists(
                side.trello, sorted({p.board_id for p in side.pairs})
            )
            lists_taken_in = side.cycle()
            console.print(f"  {tool}: idle cycle …")
            idle = side.cycle()
            result[tool] = {
                "initial": first,
                "first_idle_after_initial": echo,
                "cycle_after_list_setup": lists_taken_in,
                "idle": idle,
                "paired_tasks": len(side.pairs),
                "rounds": [],
            }
        for k in ks:
            for tool, side in sides.items():
                console.print(f"  {tool}: {k} edit(s) on each side …")
                planned = people_edits.plan(side.pairs, k, f"k{k}")
                made = people_edits.apply(planned, side.pms, side.trello, side.lists)
                cycle = side.cycle()
                misses = people_edits.missing(made, side.pms, side.trello)
                echo = side.cycle()
                idle_calls = result[tool]["idle"]["total_calls"]
                writes_needed = len(made)
                target = WRITES_FACTOR * writes_needed + idle_calls
                result[tool]["rounds"].append(
                    {
                        "k": k,
                        "edits": len(made),
                        "writes_needed": writes_needed,
                        "cycle": cycle,
                        "echo_cycle": echo,
                        "target_calls": round(target, 1),
                        "within_target": cycle["total_calls"] <= target,
                        "all_arrived": not misses,
                        "missing": misses,
                    }
                )
    p, q = result["pmbridge"], result["naive"]
    result["ratios_naive_over_pmbridge"] = {
        "idle": round(q["idle"]["total_calls"] / max(1, p["idle"]["total_calls"]), 2),
        **{
            f"k={a['k']}": round(b["cycle"]["total_calls"] / max(1, a["cycle"]["total_calls"]), 2)
            for a, b in zip(p["rounds"], q["rounds"], strict=True)
        },
    }
    return result


def show(runs: list[dict[str, Any]]) -> None:
    rows = []
    for r in runs:
        for tool in TOOLS:
            t = r[tool]
            idle = t["idle"]
            rows.append(
                [
                    f"{r['tasks']:,} tasks, {tool}",
                    "idle",
                    idle["calls"]["trello"],
                    idle["calls"]["custompms"],
                    idle["total_calls"],
                    "",
                    idle["wall_s"],
                    "",
                    "",
                ]
            )
            for rnd in t["rounds"]:
                c = rnd["cycle"]
                target = f"≤{rnd['target_calls']:g} {ok(rnd['within_target'])}"
                rows.append(
                    [
                        f"{r['tasks']:,} tasks, {tool}",
                        f"k={rnd['k']}",
                        c["calls"]["trello"],
                        c["calls"]["custompms"],
                        c["total_calls"],
                        rnd["writes_needed"],
                        c["wall_s"],
                        target if tool == "pmbridge" else "",
                        "yes" if rnd["all_arrived"] else f"[red]{len(rnd['missing'])} missing[/]",
                    ]
                )
    console.print(
        table(
            "Idle and incremental cycles (k edits on each side)",
            [
                "run",
                "cycle",
                "Trello calls",
                "Custompms calls",
                "total",
                "writes needed",
                "wall s",
                "target",
                "edits arrived",
            ],
            rows,
        )
    )
    rows = [[f"{r['tasks']:,} tasks", *r["ratios_naive_over_pmbridge"].values()] for r in runs]
    columns = ["run", *runs[0]["ratios_naive_over_pmbridge"].keys()] if runs else ["run"]
    console.print(table("Calls per cycle, naive ÷ pmbridge", columns, rows))


def main(argv: list[str] | None = None) -> Path:
    args = _parser().parse_args(argv)
    ks = args.edits or (TINY_EDITS if args.size == "tiny" else FULL_EDITS)
    runs = [run(n, ks, shape_for(args)) for n in tasks_for(args, FULL, TINY)]
    show(runs)
    return write_result(args.results, NAME, {"runs": runs}, argv)


def _parser() -> argparse.ArgumentParser:
    found = parser(NAME, "Idle and incremental cycles, pmbridge against the naive baseline.")
    add_tasks(found)
    found.add_argument(
        "--edits", type=int, nargs="+", metavar="K", help="edits on each side per round"
    )
    return found


if __name__ == "__main__":
    main()
