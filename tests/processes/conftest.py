"""The bench for several processes on one store: the engine's bench (both sandboxes, a
store on SQLite and on PostgreSQL), and ``pmbridge`` started as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.engine.test_cli import env_of
from tests.fixtures.bridge import Bridge

T = TypeVar("T")


def start(bridge: Bridge, cwd: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    """``pmbridge ARGS`` as a process of its own, on the bench's sandboxes and store."""
    return _start(["-m", "pmbridge", *args], bridge, cwd, env)


def start_sync(bridge: Bridge, cwd: Path, **env: str) -> subprocess.Popen[str]:
    """``pmbridge sync`` with an unlimited Trello budget (``sync_process.py``)."""
    return _start(["-m", "tests.processes.sync_process"], bridge, cwd, env)


def _start(
    args: list[str], bridge: Bridge, cwd: Path, env: dict[str, str]
) -> subprocess.Popen[str]:
    root = Path(__file__).parents[2]
    return subprocess.Popen(
        [sys.executable, *args],
        env={
            **os.environ,
            **env_of(bridge, **env),
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        },
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(check: Callable[[], T], within: float = 20.0, what: str = "") -> T:
    deadline = time.monotonic() + within
    while not (value := check()):
        assert time.monotonic() < deadline, f"not within {within} s: {what or check}"
        time.sleep(0.05)
    return value
