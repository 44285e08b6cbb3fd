"""One fresh pair for the torture benchmark: both sandboxes, an empty state store, people on
each side, and ``pmbridge sync`` started as real processes (``bench/sync_process.py``) that
can be killed, run side by side, or run until the pair converges.

Writes are counted at the sandboxes (``SandboxControl.stats``), never by the client.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.overhead import postgres_schema
from bench.people import PmsUser, TrelloUser
from bench.sandboxes import Sandboxes
from bench.torture_checks import Edit, Findings, check, read_world

REPO = Path(__file__).resolve().parent.parent
SYNC_TIMEOUT_S = 900.0


@dataclass
class Exits:
    """How the ``pmbridge sync`` processes of an ordeal ended, by exit status."""

    ok: int = 0  # 0: done
    partial: int = 0  # 1: some records failed (dead letters): survivable, the next sync retries
    stopped: int = 0  # 2: the run stopped
    other: int = 0  # anything else: a crash
    killed: int = 0  # SIGKILLed by the benchmark
    problems: list[str] = field(default_factory=list)

    def count(self, code: int, stderr: str) -> None:
        if code == 0:
            self.ok += 1
        elif code == 1:
            self.partial += 1
        elif code == 2:
            self.stopped += 1
        elif code < 0:
            self.killed += 1
            return
        else:
            self.other += 1
        if code not in (0, 1) and len(self.problems) < 10:
            self.problems.append(f"exit {code}: {stderr.strip()[-400:]}")


@contextlib.contextmanager
def fresh_store(store_url: str | None, folder: Path) -> Iterator[str]:
    """An empty store: a SQLite file in ``folder``, or a fresh schema of the PostgreSQL
    database ``store_url`` names (dropped afterwards)."""
    if store_url is None or store_url.startswith("sqlite"):
        yield store_url or f"sqlite:///{folder / 'pmbridge.db'}"
        return
    with postgres_schema(store_url) as url:
        yield url


class Pair:
    """Both sandboxes and a store; ``with Pair(store_url) as pair: ...``."""

    def __init__(self, store_url: str | None):
        self._stack = contextlib.ExitStack()
        self.folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory()))
        self.sandboxes = self._stack.enter_context(Sandboxes())
        self.database_url = self._stack.enter_context(fresh_store(store_url, self.folder))
        self.pms = PmsUser(self.sandboxes)
        self.trello = TrelloUser(self.sandboxes)
        self._stack.callback(self.pms.close)
        self._stack.callback(self.trello.close)
        self.exits = Exits()
        self.last_report: dict[str, Any] | None = None

    def __enter__(self) -> Pair:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    # -- sync processes ----------------------------------------------------------------

    def env(self) -> dict[str, str]:
        connection = self.sandboxes.connection()
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("PMBRIDGE_")},
            "PMBRIDGE_TRELLO_URL": connection["trello_url"],
            "PMBRIDGE_TRELLO_KEY": connection["trello_key"],
            "PMBRIDGE_TRELLO_TOKEN": connection["trello_token"],
            "PMBRIDGE_CUSTOMPMS_URL": connection["custompms_url"],
            "PMBRIDGE_CUSTOMPMS_TOKEN": connection["custompms_token"],
            "PMBRIDGE_DATABASE_URL": self.database_url,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }

    def start(self, *args: str) -> subprocess.Popen[str]:
        """``pmbridge sync ARGS`` in a process of its own (in the pair's folder)."""
        return subprocess.Popen(
            [sys.executable, "-m", "bench.sync_process", *args],
            cwd=self.folder,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, process: subprocess.Popen[str]) -> tuple[int, dict[str, Any] | None]:
        """Wait for a sync process; its exit status (counted) and its report, if any."""
        stdout, stderr = process.communicate(timeout=SYNC_TIMEOUT_S)
        self.exits.count(process.returncode, stderr)
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        return process.returncode, (json.loads(lines[-1]) if lines else None)

    def kill_while_writing(self, seconds: float, within: float = 60.0) -> bool:
        """Start a sync and SIGKILL it ``seconds`` after the sandboxes counted its first
        write; whether the kill landed in a sync that was writing (a sync with nothing left
        to write ends first, and is not killed)."""
        self.sandboxes.reset_counts()
        process = self.start()
        deadline = time.monotonic() + within
        while process.poll() is None and time.monotonic() < deadline and not self._writes():
            time.sleep(0.01)
        writing = self._writes() > 0
        time.sleep(seconds)
        landed = writing and process.poll() is None
        if process.poll() is None:
            process.kill()
        self.finish(process)
        return landed

    def _writes(self) -> int:
        counts = self.sandboxes.counts()
        return int(counts["trello"]["writes"] + counts["custompms"]["writes"])

    def sync(self, *args: str) -> tuple[int, int]:
        """One sync to its end: its exit status and the writes both sandboxes counted."""
        self.sandboxes.reset_counts()
        code, self.last_report = self.finish(self.start(*args))
        return code, self._writes()

    def settle(self, rounds: int) -> dict[str, Any]:
        """Sync until a sync ends with status 0 (at most ``rounds`` syncs), then one idle
        sync and one ``sync --full``: what each of those two wrote."""
        used, converged = 0, False
        while used < rounds and not converged:
            code, _ = self.sync()
            used += 1
            converged = code == 0
        _, idle_writes = self.sync()
        idle = self.last_report
        _, full_writes = self.sync("--full")
        return {
            "rounds": used,
            "converged": converged,
            "idle_writes": idle_writes,
            "full_writes": full_writes,
            # What those two syncs said they did, by flow and direction.
            "idle_counts": (idle or {}).get("counts"),
            "full_counts": (self.last_report or {}).get("counts"),
        }

    def check(self, edits: list[Edit] | None = None) -> Findings:
        return check(read_world(self.pms, self.trello, self.database_url), edits or [])
