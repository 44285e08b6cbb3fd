"""Benchmark 4: how close pmbridge runs to Trello's rate limit without going over it.

The Trello sandbox enforces Trello's real per-token, per-key and members limits
(``RateLimitConfig()``: 100 requests per 10 s per token) and adds 50 ms of latency to every
request. pmbridge's first sync of N tasks (each with a comment) runs with the client's
default limits, as it would against Trello. Reported: the Trello requests, the wall time,
the achieved request rate as a share of the per-token limit — over the whole cycle, and
over the busiest and the median full 10-second window — and the 429 answers received.
Target: at least 95 % of the per-token limit with no 429 (the client paces by the
``x-rate-limit-*-remaining`` counts the sandbox reports as Trello does).

The parent samples the sandbox's server-side request counter every 0.25 s while the cycle
runs; the windows are computed from those samples.

    python -m bench.ceiling                 # N = 1,000
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
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
    write_result,
)
from bench.dataset import seed
from bench.sandboxes import Sandboxes
from bench.worker import Worker
from pmbridge.sandbox.trello.ratelimit import RateLimitConfig

NAME = "ceiling"
FULL = [1_000]
TINY = [4]
LATENCY_MS = 50.0
TARGET_SHARE = 0.95
SAMPLE_S = 0.25


class Sampler:
    """Samples a request counter in a background thread: (seconds since start, count)."""

    def __init__(self, read: Any):
        self.read = read
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter() - self._start, self.read()))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - self._start, self.read()))
            self._stop.wait(SAMPLE_S)


def window_counts(samples: list[tuple[float, int]], window_s: float) -> list[float]:
    """Requests per ``window_s`` seconds in each full window, slid sample by sample.

    A window runs from one sample to the first sample at least ``window_s`` later; its
    count is scaled to exactly ``window_s`` (samples are ``SAMPLE_S`` apart, not exact).
    """
    counts = []
    j = 0
    for start, at_start in samples:
        while j < len(samples) and samples[j][0] < start + window_s:
            j += 1
        if j == len(samples):
            break
        end, at_end = samples[j]
        counts.append((at_end - at_start) * window_s / (end - start))
    return counts


def run(n: int, shape: dict[str, int]) -> dict[str, Any]:
    limits = RateLimitConfig()
    with Sandboxes(rate_limits=True, trello_latency_ms=LATENCY_MS) as sandboxes:
        console.print(f"[bold]{n:,} tasks[/]: seeding Custompms …")
        data = seed(sandboxes.custompms_app, tasks=n, **shape)
        store = f"sqlite:///{sandboxes.folder / 'pmbridge.db'}"
        with Worker(
            "pmbridge", sandboxes.connection(), database_url=store, limits="default"
        ) as worker:
            console.print("  first sync under Trello's limits …")
            sandboxes.reset_counts()
            stats = sandboxes.trello_app.state.control.stats
            with Sampler(lambda: stats.snapshot()["requests"]) as sampler:
                outcome = worker.cycle()
            counts = sandboxes.counts()["trello"]
    limit_per_s = limits.per_token / limits.window_s
    requests = counts["requests"]
    wall = outcome["wall_s"]
    windows = window_counts(sampler.samples, limits.window_s)
    busiest = max(windows, default=0)
    median = statistics.median(windows) if windows else 0
    share = requests / wall / limit_per_s if wall else 0.0
    return {
        "tasks": n,
        "seeded": data.summary(),
        "latency_ms": LATENCY_MS,
        "limit": {"per_token": limits.per_token, "window_s": limits.window_s},
        "wall_s": round(wall, 2),
        "trello_requests": requests,
        "rate_per_s": round(requests / wall, 2) if wall else 0.0,
        "share_of_limit": round(share, 4),
        "full_windows": len(windows),
        "busiest_window": round(busiest, 1),
        "median_window": round(median, 1),
        "busiest_window_share": round(busiest / limits.per_token, 4),
        "median_window_share": round(median / limits.per_token, 4),
        "answers_429": counts["by_status"].get("429", 0),
        "by_status": counts["by_status"],
        "by_route": counts["by_route"],
        "errors": outcome["errors"],
        "stopped": outcome["stopped"],
        "report": outcome["report"],
        "target_share": TARGET_SHARE,
    }


def show(runs: list[dict[str, Any]]) -> None:
    rows = [
        [
            f"{r['tasks']:,} tasks",
            r["wall_s"],
            r["trello_requests"],
            r["rate_per_s"],
            f"{r['share_of_limit']:.1%} {ok(r['share_of_limit'] >= TARGET_SHARE)}",
            f"{r['median_window_share']:.0%}" if r["full_windows"] else "no full window",
            f"{r['busiest_window_share']:.0%}" if r["full_windows"] else "",
            f"{r['answers_429']} {ok(r['answers_429'] == 0)}",
        ]
        for r in runs
    ]
    console.print(
        table(
            "First sync against Trello's real limits, 50 ms latency",
            [
                "run",
                "wall s",
                "Trello requests",
                "requests/s",
                "share of 10/s (≥95%)",
                "median 10 s window",
                "busiest 10 s window",
                "429s (0)",
            ],
            rows,
        )
    )


def main(argv: list[str] | None = None) -> Path:
    args = _parser().parse_args(argv)
    runs = [run(n, shape_for(args)) for n in tasks_for(args, FULL, TINY)]
    show(runs)
    return write_result(args.results, NAME, {"runs": runs}, argv)


def _parser() -> argparse.ArgumentParser:
    found = parser(NAME, "pmbridge's first sync against Trello's real rate limits.")
    add_tasks(found)
    return found


if __name__ == "__main__":
    main()
