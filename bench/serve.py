"""Benchmark: people edit on both sides while ``pmbridge serve`` runs with webhooks.

Set-up per strategy, on fresh sandboxes seeded alike: B projects (boards) and N tasks; a
first sync and a cycle after a person adds the lists To Do/Doing/Done to every board (both
one-shot, WITHOUT rate limits or latency, to save time; not measured); then ``Service``
starts with webhooks (its receiver on 127.0.0.1 is the public URL the sandboxes deliver to)
and the client's default Trello limits, registers every board's webhook and runs its first
cycle. Only then the Trello sandbox turns on Trello's real rate limits and 50 ms latency,
and the counters are reset.

Edit phase: a seeded script of E edits at random times over D seconds, on distinct tasks,
from both sides (titles, descriptions, moves between lists, comments, a few deletes), made
by people over HTTP. Latency runs from an edit's answer to the moment it shows on the other
side (seen in the sandboxes' own state, in-process, every 20 ms). Calls per edit are the
sandboxes' server-side counts over the whole phase (until every edit arrived and the service
settled, echoes included), less the people's own requests, divided by E.

Both strategies run in the same process and get the same script: ``targeted`` (a delivery's
cycle reads only the board or resource it names, the default) and ``full per hint`` (today's
strategy before issue 9: a full incremental cycle over every board per hint).

    python -m bench.serve                   # 200 boards, 10,000 tasks, 300 edits over 5 min
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.common import console, ok, parser, table, top_routes, write_result
from bench.dataset import seed
from bench.edits import ensure_lists, pair_tasks
from bench.people import PmsUser, TrelloUser
from bench.sandboxes import Sandboxes
from bench.serve_edits import PERSON_TOKEN, People, Step, script
from bench.worker import UNLIMITED
from pmbridge.config import load_settings
from pmbridge.engine.run import SyncOptions
from pmbridge.sandbox.trello.webhooks import registry
from pmbridge.serve import Service
from pmbridge.sockets import listening_socket
from pmbridge.wiring import open_engine

NAME = "serve"
SIZES = {
    "tiny": {"boards": 3, "tasks": 30, "edits": 8, "duration_s": 4.0},
    "medium": {"boards": 50, "tasks": 2_500, "edits": 100, "duration_s": 100.0},
    "full": {"boards": 200, "tasks": 10_000, "edits": 300, "duration_s": 300.0},
}
STRATEGIES = {"targeted": True, "full per hint": False}
LATENCY_MS = 50.0
TARGET_P95_S = 2.0
TARGET_TRELLO_PER_EDIT = 3.0
ARRIVAL_WAIT_S = 60.0


def _settings(sandboxes: Sandboxes) -> Any:
    return load_settings(
        None,
        database_url=f"sqlite:///{sandboxes.folder / 'pmbridge.db'}",
        trello_secret=SecretStr(sandboxes.trello_config.secret),
        interval_s=900.0,
        **sandboxes.connection(),
    )


async def _one_shot(settings: Any) -> None:
    async with open_engine(settings, trello_limits=UNLIMITED) as runtime:
        await runtime.engine.run(SyncOptions())


def _rate_limits(sandboxes: Sandboxes, on: bool) -> Any:
    """The Trello sandbox's rate-limit middleware: its limiter off (None) or back on."""
    middleware = sandboxes.trello_app.app
    if on:
        middleware.limiter = middleware._bench_limiter
        middleware.limiter.reset()
    else:
        middleware._bench_limiter = middleware.limiter
        middleware.limiter = None
    return middleware


async def _until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {within:g} s: {what}")
        await asyncio.sleep(0.1)


async def _settled(service: Service, quiet_s: float) -> None:
    while True:
        seen = service.cycles
        await asyncio.sleep(quiet_s)
        if service.cycles == seen and service.idle:
            return


async def run(strategy: str, size: dict[str, Any], steps: list[Step]) -> dict[str, Any]:
    boards, tasks = size["boards"], size["tasks"]
    with Sandboxes(rate_limits=True) as sandboxes:
        _rate_limits(sandboxes, on=False)
        world = sandboxes.trello_app.state.world
        world.add_member("benchperson", "Bench Person", PERSON_TOKEN)
        console.print(f"[bold]{strategy}[/]: seeding {boards} boards, {tasks:,} tasks …")
        seed(
            sandboxes.custompms_app,
            tasks=tasks,
            customers=max(1, boards // 20),
            projects=boards,
        )
        settings = _settings(sandboxes)
        started = time.perf_counter()
        await _one_shot(settings)
        pms, trello = PmsUser(sandboxes), TrelloUser(sandboxes)
        try:
            pairs = await asyncio.to_thread(pair_tasks, pms, trello)
            board_ids = sorted({pair.board_id for pair in pairs})
            lists = await asyncio.to_thread(ensure_lists, trello, board_ids)
        finally:
            pms.close()
            trello.close()
        await _one_shot(settings)
        first_sync_s = time.perf_counter() - started
        sock = listening_socket("127.0.0.1", 0)
        service = Service(
            settings,
            public_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
            sock=sock,
            targeted=STRATEGIES[strategy],
        )
        hooks = registry(sandboxes.trello_app.state)
        people = People(sandboxes, pairs, lists)
        async with service.running():
            console.print("  serve started; registering webhooks …")
            await _until(
                lambda: (
                    service.cycles >= 1
                    and len(hooks.of_token(sandboxes.trello_token)) >= len(board_ids)
                ),
                within=60 + boards,
                what="the first cycle and a webhook per board",
            )
            await _settled(service, quiet_s=2.0)
            _rate_limits(sandboxes, on=True)
            sandboxes.trello_app.state.control.set_faults(latency_ms=LATENCY_MS)
            sandboxes.reset_counts()
            cycles_before = service.cycles
            console.print(f"  {len(steps)} edits over {size['duration_s']:g} s …")
            stop = threading.Event()
            watcher = threading.Thread(target=people.watch, args=(stop,), daemon=True)
            watcher.start()
            phase = time.perf_counter()
            try:
                await asyncio.to_thread(people.run, steps, strategy.replace(" ", "-"))
                with contextlib.suppress(RuntimeError):  # what never arrives is reported
                    await _until(lambda: not people.pending, ARRIVAL_WAIT_S, "every edit")
                await _settled(service, quiet_s=3.0)
            finally:
                stop.set()
                watcher.join()
                people.close()
            phase_s = time.perf_counter() - phase
            counts = sandboxes.counts()
            cycles = service.cycles - cycles_before
    return _figures(strategy, size, steps, people, counts, cycles, phase_s, first_sync_s)


def _figures(
    strategy: str,
    size: dict[str, Any],
    steps: list[Step],
    people: People,
    counts: dict[str, Any],
    cycles: int,
    phase_s: float,
    first_sync_s: float,
) -> dict[str, Any]:
    latencies = sorted(people.latencies)
    edits = len(steps)
    pmbridge_calls = {
        system: counts[system]["requests"] - people.requests[system]
        for system in ("trello", "custompms")
    }
    trello_429 = counts["trello"]["by_status"].get("429", 0) - people.answers_429
    return {
        "strategy": strategy,
        **size,
        "latency_ms": LATENCY_MS,
        "first_sync_s": round(first_sync_s, 1),
        "phase_s": round(phase_s, 1),
        "edits": edits,
        "arrived": len(latencies),
        "not_arrived": [f"{s.what} on {s.side}" for _, s, _ in people.pending.values()],
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(_percentile(latencies, 0.95), 3) if latencies else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
        "calls": pmbridge_calls,
        "trello_per_edit": round(pmbridge_calls["trello"] / edits, 2),
        "custompms_per_edit": round(pmbridge_calls["custompms"] / edits, 2),
        "answers_429": trello_429,
        "people_429": people.answers_429,
        "people_requests": people.requests,
        "cycles": cycles,
        "by_route": {  # pmbridge's requests: the people's own taken out
            system: {
                route: n - people.routes[system][route]
                for route, n in counts[system]["by_route"].items()
                if n > people.routes[system][route]
            }
            for system in counts
        },
        "script": [s.__dict__ for s in steps],
    }


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted ``values``."""
    rank = max(0, min(len(values) - 1, int(-(-share * len(values) // 1)) - 1))
    return values[rank]


def show(runs: list[dict[str, Any]]) -> None:
    rows = []
    for r in runs:
        p95 = r["p95_s"]
        targeted = r["strategy"] == "targeted"
        rows.append(
            [
                r["strategy"],
                f"{r['arrived']}/{r['edits']}",
                r["p50_s"],
                f"{p95} {ok(p95 is not None and p95 < TARGET_P95_S)}" if targeted else p95,
                r["max_s"],
                f"{r['trello_per_edit']} {ok(r['trello_per_edit'] <= TARGET_TRELLO_PER_EDIT)}"
                if targeted
                else r["trello_per_edit"],
                r["custompms_per_edit"],
                f"{r['answers_429']} {ok(r['answers_429'] == 0)}" if targeted else r["answers_429"],
                r["cycles"],
            ]
        )
    first = runs[0]
    console.print(
        table(
            f"serve with webhooks: {first['boards']} boards, {first['tasks']:,} tasks, "
            f"{first['edits']} edits over {first['duration_s']:g} s, Trello's real limits "
            f"and {LATENCY_MS:g} ms latency (first sync without either, not measured)",
            [
                "strategy",
                "arrived",
                "p50 s",
                "p95 s (<2)",
                "max s",
                "Trello calls/edit (≤3)",
                "Custompms calls/edit",
                "429s (0)",
                "cycles",
            ],
            rows,
        )
    )
    for r in runs:
        console.print(f"  {r['strategy']}: Trello {top_routes(r['by_route']['trello'])}")


def main(argv: list[str] | None = None) -> Path:
    args = _parser().parse_args(argv)
    size = dict(SIZES[args.size])
    for key in ("boards", "tasks", "edits", "duration_s"):
        if getattr(args, key) is not None:
            size[key] = getattr(args, key)
    if size["boards"] < 1 or size["tasks"] < size["boards"] or size["edits"] < 1:
        raise SystemExit("need at least 1 board, a task per board and 1 edit")
    steps = script(size["edits"], size["duration_s"], size["tasks"])
    runs = [asyncio.run(run(strategy, size, steps)) for strategy in STRATEGIES]
    show(runs)
    return write_result(args.results, NAME, {"size": args.size, "runs": runs}, argv)


def _parser() -> argparse.ArgumentParser:
    found = parser(NAME, "People edit on both sides while pmbridge serve runs with webhooks.")
    for action in found._actions:
        if action.dest == "size":
            action.choices = tuple(SIZES)
            action.help = "full: 200 boards, 300 edits over 5 min; medium: a quarter; tiny: seconds"
    found.add_argument("--boards", type=int, help="boards (projects) to seed")
    found.add_argument("--tasks", type=int, help="tasks to seed, spread over the boards")
    found.add_argument("--edits", type=int, help="edits the people make")
    found.add_argument("--duration", dest="duration_s", type=float, help="seconds they take")
    return found


if __name__ == "__main__":
    main()
