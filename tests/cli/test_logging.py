"""Log lines as an operator reads them: -v shows every write, -vv every decision, JSON on
request (and by default for serve off a terminal), and never a secret."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmbridge.cli import app
from pmbridge.sandbox.trello.config import SandboxConfig
from tests.engine.test_cli import env_of
from tests.fixtures.bridge import Bridge, seed

runner = CliRunner()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def secrets_of(bridge: Bridge) -> list[str]:
    s = bridge.settings
    return [
        v.get_secret_value()  # type: ignore[union-attr]
        for v in (s.trello_key, s.trello_token, s.custompms_token)
    ]


def test_verbose_json_lines_tell_decisions_and_writes_without_a_secret(bridge: Bridge):
    seed(bridge.pms, tasks=1, comments=False)

    result = runner.invoke(app, ["-vv", "--log-format", "json", "sync"], env=env_of(bridge))

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    writes = [line for line in lines if line["level"] == "info"]
    decisions = [line for line in lines if line["level"] == "debug"]
    assert any(
        w["logger"] == "pmbridge.engine.execute" and w["message"].startswith("create trello card")
        for w in writes
    ), writes
    assert any(
        d["logger"] == "pmbridge.engine.plan" and "tasks: create on trello: task" in d["message"]
        for d in decisions
    )
    assert any(d["logger"] == "pmbridge.store.store" for d in decisions)
    for secret in secrets_of(bridge):
        assert secret not in result.stdout + result.stderr


def test_without_v_a_sync_logs_nothing_and_a_bad_format_is_named(bridge: Bridge):
    seed(bridge.pms, tasks=1, comments=False)
    quiet = runner.invoke(app, ["sync"], env=env_of(bridge))
    assert quiet.exit_code == 0 and "pmbridge.engine" not in quiet.output
    bad = runner.invoke(app, ["--log-format", "yaml", "sync"], env=env_of(bridge))
    assert bad.exit_code == 2 and "'yaml' is not a log format; use text or json" in bad.output


def test_serve_off_a_terminal_logs_json_lines(
    bridge: Bridge, trello_config: SandboxConfig, tmp_path: Path
):
    seed(bridge.pms, tasks=1, comments=False)
    env = {**env_of(bridge), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "pmbridge", "serve", "--interval", "60"]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 20
        line = ""
        while "cycle 1 (" not in line:
            assert time.monotonic() < deadline and process.poll() is None, process.stderr
            line = process.stdout.readline()
        process.terminate()
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    entry = json.loads(line)
    assert entry["logger"] == "pmbridge.serve" and entry["level"] == "info"
    assert entry["message"].startswith("cycle 1 (start")
    for secret in secrets_of(bridge):
        assert secret not in line
