"""Sync cycles in a child process, so that the sync's own memory and CPU are measured apart
from the sandboxes serving it.

The parent (``Worker``) starts ``python -m bench.worker``, sends one JSON line saying what
to run (pmbridge's engine or the naive baseline, and how to reach both systems), then one
JSON line per cycle; the child answers each cycle with one JSON line: wall time, what the
cycle reported, and the child's peak resident memory so far. The child's stdout carries
nothing else.

pmbridge cycles run exactly as ``pmbridge sync`` runs them: each opens the engine through
``pmbridge.wiring.open_engine`` (flow file, state store, both connectors), runs one cycle
and closes it again.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pmbridge.config import load_settings
from pmbridge.engine.run import CycleStopped, SyncOptions
from pmbridge.systems.trello import RateLimit, TrelloLimits
from pmbridge.wiring import open_engine

REPO = Path(__file__).resolve().parent.parent
MODES = ("pmbridge", "naive")
# With the sandbox's rate limits off, the client need not keep to Trello's either.
UNLIMITED = TrelloLimits(
    token=RateLimit(100_000, 10.0, burst=1000), key=RateLimit(100_000, 10.0, burst=1000)
)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class WorkerError(RuntimeError):
    """The child process failed or answered something unexpected."""


class Worker:
    """The parent's end: a child process that runs sync cycles on request.

    :param mode: "pmbridge" or "naive"
    :param connection: URLs and credentials of both systems (``Sandboxes.connection()``)
    :param database_url: pmbridge's state store
    :param limits: "unlimited" (the sandbox's rate limits are off) or "default" (the
        client's built-in limits, Trello's real ones)
    :param state_path: the naive baseline's state file
    """

    def __init__(
        self,
        mode: str,
        connection: dict[str, str],
        *,
        database_url: str = "",
        limits: str = "unlimited",
        state_path: str = "",
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if limits not in ("unlimited", "default"):
            raise ValueError(f"limits must be 'unlimited' or 'default', not {limits!r}")
        self.mode = mode
        env = {k: v for k, v in os.environ.items() if not k.startswith("PMBRIDGE_")}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.worker"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._send(
            {
                "mode": mode,
                "connection": connection,
                "database_url": database_url,
                "limits": limits,
                "state_path": state_path,
            }
        )
        self.started = self._receive()

    def _send(self, message: dict[str, Any]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(message) + "\n")
        self._process.stdin.flush()

    def _receive(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait(timeout=10)
            raise WorkerError(f"the {self.mode} worker exited (status {code}) without answering")
        answer = json.loads(line)
        if answer.get("error"):
            raise WorkerError(f"the {self.mode} worker failed: {answer['error']}")
        return answer

    def cycle(self, **options: Any) -> dict[str, Any]:
        """Run one cycle; returns ``wall_s``, ``report``, ``writes``, ``errors``,
        ``problems`` and ``peak_rss_mb``."""
        self._send({"op": "cycle", "options": options})
        return self._receive()

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._send({"op": "quit"})
                self._process.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# -- the child's side ------------------------------------------------------------------------


async def _pmbridge_cycle(config: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    settings = load_settings(None, database_url=config["database_url"], **config["connection"])
    limits = None if config["limits"] == "default" else UNLIMITED
    started = time.perf_counter()
    stopped = None
    try:
        async with open_engine(settings, trello_limits=limits) as runtime:
            report = await runtime.engine.run(SyncOptions(**options))
    except CycleStopped as err:
        report, stopped = err.report, str(err.cause)
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "report": report.as_json(),
        "writes": report.writes,
        "errors": report.errors,
        "problems": report.problems,
        "stopped": stopped,
        "peak_rss_mb": peak_rss_mb(),
    }


async def _naive_cycle(config: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    from bench.naive import NaiveSync

    started = time.perf_counter()
    async with NaiveSync(Path(config["state_path"]), **config["connection"]) as naive:
        outcome = await naive.cycle()
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "report": outcome.as_json(),
        "writes": outcome.writes,
        "errors": len(outcome.problems),
        "problems": outcome.problems,
        "stopped": None,
        "peak_rss_mb": peak_rss_mb(),
    }


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, default=str) + "\n")
    sys.stdout.flush()


def main() -> None:
    # Away from the repository, so a developer's ./pmbridge.toml cannot change the settings
    # (the PMBRIDGE_* variables were left out of this process's environment for the same reason).
    with tempfile.TemporaryDirectory(prefix="pmbridge-bench-worker-") as folder:
        os.chdir(folder)
        serve(json.loads(sys.stdin.readline()))


def serve(config: dict[str, Any]) -> None:
    """Answer cycle requests on stdin until "quit" (or the end of stdin)."""
    run = _pmbridge_cycle if config["mode"] == "pmbridge" else _naive_cycle
    _answer({"ready": True, "peak_rss_mb": peak_rss_mb()})
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("op") == "quit":
            return
        try:
            _answer(asyncio.run(run(config, command.get("options") or {})))
        except Exception as err:  # reported to the parent, which stops the benchmark
            _answer({"error": f"{type(err).__name__}: {err}"})


if __name__ == "__main__":
    main()
