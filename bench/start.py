"""Benchmark: how fast the ``pmbridge`` command starts, against ``python -c pass``.

Three commands, each in a fresh process, in turns (so a busy machine slows them alike):

- ``python -c pass``: the interpreter alone, the yardstick;
- ``pmbridge --help``: the command line, no command run (target < 0.5 s);
- ``pmbridge sync`` on the demo's data with nothing changed (target < 1.5 s): the sample
  data of ``pmbridge demo`` in both sandboxes (started here on free ports of 127.0.0.1),
  synced once and once more before the measured runs.

Each figure is the median of ``--repeat`` runs, and is also given as a multiple of the
yardstick's median in the same run. The CPU seconds (user + system, of the child alone) say
what a run costs when other work keeps the machine busy and the wall time does not. Python's
bytecode caches are allowed (as after any ``pip install``), and one unmeasured run of each
command writes them first. One more ``pmbridge sync`` under ``python -X importtime`` tells
how much of it is spent importing, and in which packages.

    python -m bench.start                 # 10 runs of each
    python -m bench.start --repeat 30
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import console, ok, parser, table, write_result

NAME = "start"
TARGETS_S = {"help": 0.5, "idle_sync": 1.5}
COMMANDS = {
    "python": ("python -c pass", ["-c", "pass"]),
    "help": ("pmbridge --help", ["-m", "pmbridge", "--help"]),
    "idle_sync": ("pmbridge sync (demo data, nothing changed)", ["-m", "pmbridge", "sync"]),
}


def child_environment(connection: dict[str, str]) -> dict[str, str]:
    """This environment without PMBRIDGE_* variables, with the demo's settings instead,
    and with bytecode caches allowed."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("PMBRIDGE_") and name != "PYTHONDONTWRITEBYTECODE"
    }
    env.update({f"PMBRIDGE_{name.upper()}": value for name, value in connection.items()})
    return env


def timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of ``python ARGS`` to its exit; a failure stops
    the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"python {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def import_share(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """What ``pmbridge sync`` spends importing, from ``python -X importtime``: the total and
    the packages whose own modules cost most."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pmbridge", "sync"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    per_package: dict[str, int] = {}  # microseconds spent in each package's own modules
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        per_package[package] = per_package.get(package, 0) + int(parts[0])
    ranked = sorted(per_package.items(), key=lambda item: -item[1])
    return {
        "total_s": round(sum(per_package.values()) / 1e6, 3),
        "top": {name: round(us / 1e6, 3) for name, us in ranked[:8]},
    }


def run(repeat: int) -> dict[str, Any]:
    from pmbridge.demo import demo_systems, seed_sample

    with tempfile.TemporaryDirectory(prefix="pmbridge-bench-start-") as temp:
        folder = Path(temp)
        with demo_systems(folder / "demo") as systems:
            with systems.custompms_http() as pms:
                seed_sample(pms)
            member = systems.trello_config.members[0]
            env = child_environment(
                {
                    "trello_url": systems.trello_api,
                    "trello_key": systems.trello_config.key,
                    "trello_token": member.token,
                    "custompms_url": systems.custompms.url,
                    "custompms_token": systems.custompms_token,
                    "database_url": f"sqlite:///{folder / 'pmbridge.db'}",
                }
            )
            # The first sync creates everything; the second writes its caches and reads the
            # first one's echoes. Neither is measured, nor is a first run of the others.
            for name in ("idle_sync", "idle_sync", "help", "python"):
                timed(COMMANDS[name][1], env, folder)
            walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
            cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
            for _ in range(repeat):
                for name, (_, args) in COMMANDS.items():
                    wall, cpu = timed(args, env, folder)
                    walls[name].append(round(wall, 4))
                    cpus[name].append(round(cpu, 4))
            imports = import_share(env, folder)
    baseline = statistics.median(walls["python"])
    figures: dict[str, Any] = {}
    for name, (label, _) in COMMANDS.items():
        median = statistics.median(walls[name])
        target = TARGETS_S.get(name)
        figures[name] = {
            "command": label,
            "median_s": round(median, 3),
            "min_s": round(min(walls[name]), 3),
            "max_s": round(max(walls[name]), 3),
            "times_python": round(median / baseline, 1),
            "cpu_s": round(statistics.median(cpus[name]), 3),
            "target_s": target,
            "met": None if target is None else median < target,
            "runs_s": walls[name],
            "cpu_runs_s": cpus[name],
        }
    return {"repeat": repeat, "commands": figures, "idle_sync_imports": imports}


def show(result: dict[str, Any]) -> None:
    rows = []
    for figure in result["commands"].values():
        target = figure["target_s"]
        rows.append(
            [
                figure["command"],
                figure["median_s"],
                f"{figure['min_s']:.2f}–{figure['max_s']:.2f}",
                f"{figure['times_python']:.1f}×",
                figure["cpu_s"],
                "" if target is None else f"< {target} s: {ok(figure['met'])}",
            ]
        )
    console.print(
        table(
            f"Start-up, median of {result['repeat']} runs",
            ["command", "wall s", "range s", "÷ python -c pass", "CPU s", "target"],
            rows,
        )
    )
    imports = result["idle_sync_imports"]
    top = ", ".join(f"{name} {s:.2f}" for name, s in imports["top"].items())
    console.print(f"pmbridge sync spent {imports['total_s']:.2f} s importing: {top}")


def main(argv: list[str] | None = None) -> Path | None:
    found = parser(NAME, "How fast pmbridge starts, as multiples of `python -c pass`.")
    found.add_argument(
        "--repeat", type=int, help="runs of each command (default 10; 1 at --size tiny)"
    )
    args = found.parse_args(argv)
    repeat = args.repeat or (1 if args.size == "tiny" else 10)
    if repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    result = run(repeat)
    show(result)
    return write_result(args.results, NAME, result, argv)


if __name__ == "__main__":
    main()
