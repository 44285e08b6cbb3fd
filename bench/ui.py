"""Benchmark 7: how fast the dashboard's pages answer with 100,000 links.

A SQLite state store is filled with L links (flow ``tasks``, each with a title on both
sides), 20 runs, 50 conflicts and 50 dead letters, written straight into its tables (setup
is not measured). The dashboard (``pmbridge ui``'s app, no password, on 127.0.0.1 under
uvicorn in a thread) is then asked for each page over HTTP, ``--repeat`` times after two
warm-up requests; the median and the 95th percentile of the answer times are reported
against the target of 200 ms. The first Links request, which builds the search index, is
reported on its own.

    python -m bench.ui                  # L = 100,000
    python -m bench.ui --links 20000
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine

from bench.common import console, ok, parser, table, write_result
from pmbridge.config import load_settings
from pmbridge.sandbox.server import ServerThread
from pmbridge.serve.ui import build_dashboard, create_ui_app
from pmbridge.store import open_store, schema
from pmbridge.wiring import load_flow_file

NAME = "ui"
FULL_LINKS = 100_000
TINY_LINKS = 1_000
TARGET_MS = 200.0
PAGES = {
    "overview": "/ui/",
    "conflicts": "/ui/conflicts",
    "dead letters": "/ui/dead-letters",
    "run details": "/ui/runs/20",
    "links, first page": "/ui/links",
    "links, last page": "/ui/links?page=100000",
    "links, search for one title": "/ui/links?q=task+{rare}",
    "links, search matching all": "/ui/links?q=task",
}


def fill(url: str, links: int) -> None:
    """Links, runs, conflicts and dead letters, inserted in bulk."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            schema.links.insert(),
            [
                {
                    "flow": "tasks",
                    "custompms_id": f"task-{i:06}",
                    "trello_id": f"{i:024x}",
                    "base": {
                        "custompms": {"title": f"Task {i:06}", "description": "Some work"},
                        "trello": {"title": f"Task {i:06}", "description": "Some work"},
                    },
                    "created_at": start,
                    "updated_at": start + timedelta(seconds=i),
                }
                for i in range(links)
            ],
        )
        conn.execute(
            schema.runs.insert(),
            [
                {
                    "started_at": start + timedelta(minutes=i),
                    "finished_at": start + timedelta(minutes=i, seconds=2),
                    "status": "ok",
                    "summary": {"counts": {"tasks:to_trello": {"updated": i}}, "full": False},
                }
                for i in range(20)
            ],
        )
        conn.execute(
            schema.conflicts.insert(),
            [
                {
                    "flow": "tasks",
                    "custompms_id": f"task-{i:06}",
                    "trello_id": f"{i:024x}",
                    "property": "description",
                    "base_value": "line one\nline two",
                    "custompms_value": "line one\nline two, from Custompms",
                    "trello_value": "line one\nline two, from Trello",
                    "policy": "manual",
                    "status": "held",
                    "created_at": start + timedelta(minutes=19),
                }
                for i in range(50)
            ],
        )
        conn.execute(
            schema.dead_letters.insert(),
            [
                {
                    "flow": "tasks",
                    "side": "trello",
                    "record_id": f"task-{i:06}",
                    "operation": "sync",
                    "error": "Trello rejected the value of 'desc': invalid value for desc",
                    "payload": None,
                    "attempts": 3,
                    "first_failed_at": start,
                    "last_failed_at": start,
                }
                for i in range(50)
            ],
        )
    engine.dispose()


def timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{path} answered {answer.status_code}: {answer.text[:200]}")
    return elapsed


def measure(links: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'state.db'}"
        open_store(url).close()  # creates the tables
        fill(url, links)
        settings = load_settings(None, database_url=url, custompms_url="https://pms.example")
        with open_store(url) as store:
            dashboard = build_dashboard(settings, store, load_flow_file(settings), can_write=False)
            with (
                ServerThread(create_ui_app(dashboard)) as server,
                httpx.Client(base_url=server.url, follow_redirects=True, timeout=60) as client,
            ):
                client.get("/ui/login")  # the session cookie (no password: loopback)
                first_links_ms = timed(client, "/ui/links")
                pages: dict[str, Any] = {}
                for label, path in PAGES.items():
                    path = path.format(rare=f"{links // 2:06}")
                    for _ in range(2):
                        timed(client, path)
                    times = sorted(timed(client, path) for _ in range(repeat))
                    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                    median = statistics.median(times)
                    pages[label] = {
                        "path": path,
                        "median_ms": round(median, 1),
                        "p95_ms": round(p95, 1),
                        "max_ms": round(times[-1], 1),
                        "within_target": p95 < TARGET_MS,
                    }
    return {"links": links, "repeat": repeat, "first_links_ms": first_links_ms, "pages": pages}


def main(argv: list[str] | None = None) -> Path:
    found = parser(NAME, __doc__.splitlines()[0])
    found.add_argument("--links", type=int, help=f"links in the store (default {FULL_LINKS:,})")
    found.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    args = found.parse_args(argv)
    links = args.links or (TINY_LINKS if args.size == "tiny" else FULL_LINKS)
    repeat = 5 if args.size == "tiny" and args.repeat == 20 else args.repeat
    result = measure(links, max(1, repeat))
    rows = [
        [label, m["median_ms"], m["p95_ms"], m["max_ms"], ok(m["within_target"])]
        for label, m in result["pages"].items()
    ]
    console.print(
        table(
            f"Dashboard answer times with {links:,} links (ms; target p95 < {TARGET_MS:.0f})",
            ["page", "median", "p95", "max", "target"],
            rows,
        )
    )
    console.print(
        f"First Links request (builds the search index): {result['first_links_ms']:.0f} ms"
    )
    return write_result(args.results, NAME, {"target_ms": TARGET_MS, **result}, argv)


if __name__ == "__main__":
    main()
