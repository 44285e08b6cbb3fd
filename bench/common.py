"""What every benchmark shares: its command-line options, the machine description, the
JSON result file and rich tables."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = ("tiny", "full")

# Wide enough for the tables when the output is a log file, not a terminal.
console = Console(width=None if sys.stdout.isatty() else 150)


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark has: ``--size``, ``--results``."""
    found = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=description)
    found.add_argument(
        "--size",
        choices=SIZES,
        default="full",
        help="full: the sizes the README reports; tiny: seconds, for the smoke tests",
    )
    found.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="folder for the JSON result (default: bench/results)",
    )
    return found


def add_tasks(found: argparse.ArgumentParser) -> None:
    found.add_argument(
        "--tasks",
        type=int,
        nargs="+",
        metavar="N",
        help="numbers of tasks to run with (overrides --size)",
    )


def tasks_for(args: argparse.Namespace, full: list[int], tiny: list[int]) -> list[int]:
    """The task counts to run: ``--tasks``, else those of ``--size``."""
    chosen = args.tasks or (tiny if args.size == "tiny" else full)
    if any(n < 1 for n in chosen):
        raise SystemExit("--tasks: every N must be at least 1")
    return list(chosen)


def shape_for(args: argparse.Namespace) -> dict[str, int]:
    """How many customers and projects to seed: 5 and 20, or 1 and 2 at ``--size tiny``."""
    if args.size == "tiny":
        return {"customers": 1, "projects": 2}
    return {"customers": 5, "projects": 20}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    memory_kb = 0
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def code_version() -> dict[str, Any]:
    """The commit the figures were measured on, and any changed or new files of the
    package not yet committed (read-only git commands)."""
    repo = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=30
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("diff", "--name-only", "HEAD", "--", "pmbridge").splitlines()
    new = git("ls-files", "--others", "--exclude-standard", "--", "pmbridge").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": sorted(changed + new)}


def command(name: str, argv: list[str] | None = None) -> str:
    """The command line that ran this benchmark, as one would type it."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "-m", f"bench.{name}", *args])


def write_result(
    folder: Path, name: str, data: dict[str, Any], argv: list[str] | None = None
) -> Path:
    """Write ``<folder>/<name>.json`` with the figures, the machine and the command
    (``argv``: the options it ran with, if not those of this process)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    result = {
        "benchmark": name,
        "command": command(name, argv),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "code": code_version(),
        **data,
    }
    path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    console.print(f"Result written to {path}")
    return path


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A rich table; numbers right-aligned."""
    found = Table(title=title)
    for i, column in enumerate(columns):
        found.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        found.add_row(*(_cell(value) for value in row))
    return found


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ok(met: bool) -> str:
    return "[green]met[/]" if met else "[red]missed[/]"


def top_routes(by_route: dict[str, int], n: int = 6) -> str:
    """The routes that took most calls, "route ×count, …"."""
    ranked = sorted(by_route.items(), key=lambda item: -item[1])[:n]
    return ", ".join(f"{route} ×{count}" for route, count in ranked)
