"""``pmbridge sync`` in a process of its own, as the tests start it: the command's cycle
(``pmbridge.cli.sync.run_cycle``: lease, heartbeat, signals, run status) with its settings
from the environment, but with the test sandboxes' unlimited Trello budget, so that a first
sync of hundreds of tasks takes seconds instead of Trello's 100 requests per 10 s.

    python -m tests.processes.sync_process
"""

from __future__ import annotations

import asyncio

import typer

from pmbridge.cli.sync import print_report, run_cycle
from pmbridge.config import load_settings
from pmbridge.engine.run import SyncOptions
from pmbridge.wiring import load_flow_file
from tests.fixtures.bridge import UNLIMITED


def main() -> int:
    settings = load_settings(None)
    try:
        report = asyncio.run(run_cycle(settings, SyncOptions(), trello_limits=UNLIMITED))
    except typer.Exit as end:
        return end.exit_code
    print_report(report, load_flow_file(settings).names)
    return 0 if report.status == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
