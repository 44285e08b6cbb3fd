"""Benchmark 6: the engine's own cost per record, without any network.

The real ``Engine`` runs against both systems held in memory (``bench.memory``). A first
cycle links R records (R/2 tasks, each with a comment, plus 5 customers and 20 projects);
then the measured cycle is a full reconcile: every record comes back "changed" with values
equal to the base, so the engine pairs, maps and merges every one of them against its
stored base and writes nothing. Reported: the cycle's wall time, per record, and the peak
resident memory of the process running it — on SQLite and, when one answers, PostgreSQL;
three times each (``--repeat``), the median reported with the spread.

Each step runs in a child process of its own (``--child setup`` / ``--child measure``), so
the measured process holds only what the measured cycle needs. The PostgreSQL store is a
fresh schema in the ``test`` database (``$PMBRIDGE_BENCH_POSTGRES_URL`` to change it),
filled with a copy of the SQLite store's links and dropped afterwards.

    python -m bench.overhead                          # R = 100,000
    python -m bench.overhead --records 20000 --backends sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import console, ok, parser, shape_for, table, write_result
from bench.worker import REPO, peak_rss_mb
from pmbridge.engine.run import Engine, SyncOptions
from pmbridge.engine.state import about_flow
from pmbridge.flows import load_flows
from pmbridge.store import open_store
from pmbridge.systems.memory import MemoryCustompms, MemoryTrello, seed

NAME = "overhead"
FULL_RECORDS = 100_000
TINY_RECORDS = 40
TARGET_S = 10.0
TARGET_RSS_MB = 500.0
# An idle incremental cycle: it must cost the same however many links there are.
IDLE_TARGET_S = 1.0
IDLE_TARGET_MB = 150.0
POSTGRES_URL = os.environ.get(
    "PMBRIDGE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CUSTOMPMS_URL = "https://custompms.example"
CURSOR_KINDS = {
    "custompms": ("customer", "project", "task", "comment"),
    "trello": ("organization", "board", "card", "comment"),
}


# -- the child processes ---------------------------------------------------------------------


def _engine(store_url: str, custompms: MemoryCustompms, trello: MemoryTrello) -> Engine:
    store = open_store(store_url)
    return Engine(load_flows(None), store, custompms, trello, custompms_url=CUSTOMPMS_URL)


def child_setup(store_url: str, world: Path, tasks: int, shape: dict[str, int]) -> dict[str, Any]:
    """Link everything with a first cycle; save both in-memory systems to ``world``."""
    custompms, trello = MemoryCustompms(), MemoryTrello()
    seed(custompms, tasks=tasks, **shape)
    engine = _engine(store_url, custompms, trello)
    started = time.perf_counter()
    report = asyncio.run(engine.run(SyncOptions()))
    took = time.perf_counter() - started
    links = sum(engine.store.count_links(f.name) for f in engine.flow_file.flows)
    engine.store.close()
    custompms.writes.clear()
    trello.writes.clear()
    with world.open("wb") as file:
        pickle.dump((custompms, trello), file, protocol=pickle.HIGHEST_PROTOCOL)
    return {"setup_s": round(took, 2), "links": links, "errors": report.errors}


def child_measure(store_url: str, world: Path) -> dict[str, Any]:
    """One full reconcile; its wall time, the process's memory, and what it wrote."""
    with world.open("rb") as file:  # streamed: no copy of the whole file in memory
        custompms, trello = pickle.load(file)
    engine = _engine(store_url, custompms, trello)
    links = sum(engine.store.count_links(f.name) for f in engine.flow_file.flows)
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    report = asyncio.run(engine.run(SyncOptions(full=True)))
    took = time.perf_counter() - started
    engine.store.close()
    return {
        "wall_s": round(took, 3),
        "links": links,
        "us_per_record": round(took / max(links, 1) * 1e6, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_cycle_mb": round(rss_before, 1),
        "writes": {"custompms": dict(custompms.writes), "trello": dict(trello.writes)},
        "report": report.as_json(),
    }


def child_idle(store_url: str, world: Path) -> dict[str, Any]:
    """An incremental cycle with nothing changed: its wall time, then (in a second idle
    cycle, traced) the memory it allocates at its peak, and what it wrote."""
    with world.open("rb") as file:
        custompms, trello = pickle.load(file)
    engine = _engine(store_url, custompms, trello)
    links = sum(engine.store.count_links(f.name) for f in engine.flow_file.flows)
    started = time.perf_counter()
    report = asyncio.run(engine.run(SyncOptions()))
    took = time.perf_counter() - started
    tracemalloc.start()
    asyncio.run(engine.run(SyncOptions()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    engine.store.close()
    return {
        "wall_s": round(took, 3),
        "links": links,
        "engine_peak_mb": round(peak / 2**20, 1),
        "writes": {"custompms": dict(custompms.writes), "trello": dict(trello.writes)},
        "report": report.as_json(),
    }


def _child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.overhead", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.overhead {args[:2]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- PostgreSQL ----------------------------------------------------------------------------


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    import psycopg
    from sqlalchemy import make_url

    url = make_url(POSTGRES_URL)
    try:
        with psycopg.connect(**_connect_args(url)):
            return None
    except psycopg.Error as err:
        return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _connect_args(url: Any) -> dict[str, Any]:
    return {
        "host": url.host,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
        "connect_timeout": 3,
        "autocommit": True,
    }


@contextmanager
def postgres_schema(database_url: str = POSTGRES_URL) -> Iterator[str]:
    """The URL of a fresh, empty schema in the PostgreSQL database; dropped afterwards."""
    import psycopg
    from sqlalchemy import make_url

    url = make_url(database_url)
    schema = f"pmbridge_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**_connect_args(url)) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(**_connect_args(url)) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def copy_store(source_url: str, target_url: str) -> int:
    """Copy every link and feed cursor of one state store into another; returns the links."""
    flows = [f.name for f in load_flows(None).flows]
    copied = 0
    with open_store(source_url) as source, open_store(target_url) as target:
        with target.transaction() as tx:
            for name in (*flows, *(about_flow(f) for f in flows)):
                for link in source.links(name):
                    tx.put_link(link)
                    copied += 1
            for side, kinds in CURSOR_KINDS.items():
                for kind in kinds:
                    cursor = source.get_cursor(side, kind)
                    if cursor is not None:
                        tx.set_cursor(side, kind, cursor)
    return copied


# -- the benchmark -------------------------------------------------------------------------


def measure(store_url: str, world: Path, repeat: int) -> dict[str, Any]:
    """``repeat`` measured cycles, each in a fresh process: the median run's figures, the
    spread, and every run. (A full reconcile of unchanged records writes nothing, so every
    run starts from the same state.)"""
    runs = [
        _child("--child", "measure", "--store", store_url, "--world", str(world))
        for _ in range(repeat)
    ]
    by_time = sorted(runs, key=lambda run: run["wall_s"])
    median = dict(by_time[len(by_time) // 2])
    median["wall_s_range"] = [by_time[0]["wall_s"], by_time[-1]["wall_s"]]
    rss = sorted(run["peak_rss_mb"] for run in runs)
    median["peak_rss_mb"] = rss[len(rss) // 2]
    median["peak_rss_mb_range"] = [rss[0], rss[-1]]
    median["writes"] = {
        side: dict(sum((Counter(run["writes"][side]) for run in runs), Counter()))
        for side in ("custompms", "trello")
    }
    median["runs"] = [
        {k: run[k] for k in ("wall_s", "peak_rss_mb", "rss_before_cycle_mb")} for run in runs
    ]
    return median


def run(
    records: int, backends: list[str], shape: dict[str, int], repeat: int = 3
) -> dict[str, Any]:
    tasks = max(1, records // 2)
    folder = Path(tempfile.mkdtemp(prefix="pmbridge-overhead-"))
    shape_args = ["--customers", str(shape["customers"]), "--projects", str(shape["projects"])]
    try:
        sqlite_url = f"sqlite:///{folder / 'pmbridge.db'}"
        world = folder / "world.pickle"
        console.print(f"[bold]{tasks:,} tasks with a comment each[/]: linking (not measured) …")
        setup = _child(
            "--child", "setup", "--store", sqlite_url, "--world", str(world),
            "--tasks", str(tasks), *shape_args,
        )  # fmt: skip
        result: dict[str, Any] = {"tasks": tasks, "setup": setup, "backends": {}}
        for backend in backends:
            if backend == "sqlite":
                console.print(f"  full reconcile on SQLite, {repeat} time(s) …")
                result["backends"]["sqlite"] = measure(sqlite_url, world, repeat)
                console.print("  an idle incremental cycle on SQLite …")
                idle = _child("--child", "idle", "--store", sqlite_url, "--world", str(world))
                idle["within_time"] = idle["wall_s"] < IDLE_TARGET_S
                idle["within_memory"] = idle["engine_peak_mb"] < IDLE_TARGET_MB
                idle["wrote_nothing"] = not any(idle["writes"].values())
                result["idle"] = idle
                continue
            problem = postgres_problem()
            if problem is not None:
                console.print(f"  [yellow]PostgreSQL skipped: {problem}")
                result["backends"]["postgresql"] = {"skipped": problem}
                continue
            with postgres_schema() as pg_url:
                console.print("  copying the links to a fresh PostgreSQL schema (not measured) …")
                copy_store(sqlite_url, pg_url)
                console.print(f"  full reconcile on PostgreSQL, {repeat} time(s) …")
                result["backends"]["postgresql"] = measure(pg_url, world, repeat)
        for measured in result["backends"].values():
            if "wall_s" in measured:
                measured["within_time"] = measured["wall_s"] < TARGET_S
                measured["within_memory"] = measured["peak_rss_mb"] < TARGET_RSS_MB
                measured["wrote_nothing"] = not any(measured["writes"].values())
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def show(result: dict[str, Any]) -> None:
    rows = []
    for backend, m in result["backends"].items():
        if "skipped" in m:
            rows.append([backend, "skipped", m["skipped"], "", "", "", ""])
            continue
        rows.append(
            [
                backend,
                m["links"],
                f"{m['wall_s']:.2f} {ok(m['within_time'])}",
                m["us_per_record"],
                f"{m['peak_rss_mb']:.0f} {ok(m['within_memory'])}",
                m["rss_before_cycle_mb"],
                "none" if m["wrote_nothing"] else f"[red]{m['writes']}[/]",
            ]
        )
    idle = result.get("idle")
    if idle:
        console.print(
            f"Idle incremental cycle over {idle['links']:,} links: {idle['wall_s']:.3f} s "
            f"{ok(idle['within_time'])} (< {IDLE_TARGET_S:g}), engine peak "
            f"{idle['engine_peak_mb']:.1f} MB {ok(idle['within_memory'])} (< {IDLE_TARGET_MB:g}),"
            f" writes: {'none' if idle['wrote_nothing'] else idle['writes']}"
        )
    console.print(
        table(
            "Full reconcile of linked records, in memory (no network)",
            [
                "store",
                "linked records",
                "wall s (<10)",
                "µs/record",
                "peak RSS MB (<500)",
                "RSS before MB",
                "writes",
            ],
            rows,
        )
    )


def main(argv: list[str] | None = None) -> Path | None:
    args = _parser().parse_args(argv)
    if args.child:
        shape = {"customers": args.customers, "projects": args.projects}
        if args.child == "setup":
            out = child_setup(args.store, args.world, args.tasks, shape)
        elif args.child == "idle":
            out = child_idle(args.store, args.world)
        else:
            out = child_measure(args.store, args.world)
        sys.stdout.write(json.dumps(out) + "\n")
        return None
    records = args.records or (TINY_RECORDS if args.size == "tiny" else FULL_RECORDS)
    repeat = args.repeat or (1 if args.size == "tiny" else 3)
    result = run(records, args.backends, shape_for(args), repeat)
    show(result)
    return write_result(args.results, NAME, {"records": records, **result}, argv)


def _parser() -> argparse.ArgumentParser:
    found = parser(NAME, "The engine's cost per record in a full reconcile, without network.")
    found.add_argument("--records", type=int, help="linked records to reconcile")
    found.add_argument(
        "--backends",
        nargs="+",
        choices=("sqlite", "postgresql"),
        default=["sqlite", "postgresql"],
        help="state stores to measure on (PostgreSQL is skipped when it does not answer)",
    )
    found.add_argument(
        "--repeat",
        type=int,
        help="measured cycles per store, each in a fresh process; the median is reported "
        "(default 3; 1 at --size tiny)",
    )
    # The child processes' own options.
    found.add_argument("--child", choices=("setup", "measure", "idle"), help=argparse.SUPPRESS)
    found.add_argument("--store", help=argparse.SUPPRESS)
    found.add_argument("--world", type=Path, help=argparse.SUPPRESS)
    found.add_argument("--tasks", type=int, default=0, help=argparse.SUPPRESS)
    found.add_argument("--customers", type=int, default=5, help=argparse.SUPPRESS)
    found.add_argument("--projects", type=int, default=20, help=argparse.SUPPRESS)
    return found


if __name__ == "__main__":
    main()
