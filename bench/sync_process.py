"""``pmbridge sync`` as a process of its own, for the torture benchmark to kill and start.

It runs the command's cycle (``pmbridge.cli.sync.run_cycle``: lease, heartbeat, signals, run
status, exit statuses 0 / 1 / 2 as ``pmbridge sync``) with its settings from the ``PMBRIDGE_*``
environment, but with an unlimited Trello budget (the sandboxes' rate limits are off), and
prints the cycle's report as one JSON line on stdout:

    python -m bench.sync_process [--full]
"""

from __future__ import annotations

import asyncio
import json
import sys

import typer

from bench.worker import UNLIMITED
from pmbridge.cli.sync import run_cycle
from pmbridge.config import load_settings
from pmbridge.engine.run import SyncOptions
from pmbridge.errors import PmbridgeError


def main(argv: list[str]) -> int:
    settings = load_settings(None)
    try:
        report = asyncio.run(
            run_cycle(settings, SyncOptions(full="--full" in argv), trello_limits=UNLIMITED)
        )
    except typer.Exit as end:
        return int(end.exit_code)
    except PmbridgeError as err:  # as ``pmbridge sync`` says it: one line, status 2
        sys.stderr.write(f"Error: {err}\n")
        return 2
    sys.stdout.write(json.dumps(report.as_json(), default=str) + "\n")
    return 0 if report.status == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
