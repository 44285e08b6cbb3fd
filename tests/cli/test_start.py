"""Fast start: ``pmbridge --help`` loads no server, no database layer and no sandbox.

How fast it starts is measured by ``bench/start.py``; this guards the reason it is fast.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pmbridge.cli.serve import DEFAULT_LISTEN_TEXT, parse_listen

HEAVY = ("fastapi", "uvicorn", "starlette", "sqlalchemy", "httpx", "pydantic_settings", "yaml")

_PROBE = """
import json, sys
from pmbridge.cli import app
try:
    app({args!r}, prog_name="pmbridge")
except SystemExit:
    pass
heavy = {heavy!r}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))))
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["sync", "--help"], ["sandbox", "trello", "--help"], ["serve", "--help"]]
)
def test_help_imports_no_server_store_or_sandbox(args: list[str]) -> None:
    probe = _PROBE.format(args=args, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"pmbridge {' '.join(args)} imported {loaded}"
    assert "Usage: pmbridge" in done.stdout


def test_the_default_listen_address_in_help_is_the_servers() -> None:
    from pmbridge.serve import DEFAULT_LISTEN

    assert parse_listen(DEFAULT_LISTEN_TEXT) == DEFAULT_LISTEN
