"""``pmbridge serve`` as a person runs it: help, clear errors, and a real process that
syncs, prints a line per cycle and cleans up on SIGTERM or Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmbridge.cli import app
from pmbridge.sandbox.trello.config import SandboxConfig
from pmbridge.sockets import free_port, listening_socket
from tests.engine.test_cli import env_of
from tests.fixtures.bridge import Bridge, seed
from tests.serve.conftest import subscriptions_at_custompms, webhooks_at_trello

runner = CliRunner()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each command in an empty folder, without settings from the environment."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("PMBRIDGE_"):
            monkeypatch.delenv(name)


# Settings that pass validation; commands that stop before any request need no sandbox.
OFFLINE_ENV = {
    "PMBRIDGE_TRELLO_URL": "http://127.0.0.1:9/1",
    "PMBRIDGE_TRELLO_KEY": "0123456789abcdef0123456789abcdef",
    "PMBRIDGE_TRELLO_TOKEN": "ATTA" + "1" * 60,
    "PMBRIDGE_CUSTOMPMS_URL": "http://127.0.0.1:9",
    "PMBRIDGE_CUSTOMPMS_TOKEN": "token",
}


def test_help_names_every_option():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--interval", "--listen", "--public-url", "--once-per", "Example:"):
        assert option in result.output


def test_a_public_url_without_the_trello_secret_is_a_clear_error():
    result = runner.invoke(
        app, ["serve", "--public-url", "https://sync.example.com"], env=OFFLINE_ENV
    )
    assert result.exit_code == 2
    assert "PMBRIDGE_TRELLO_SECRET is not set" in result.output
    assert "https://trello.com/power-ups/admin" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "8770"], "is not HOST:PORT"),
        (["--listen", "localhost:99999"], "is not HOST:PORT"),
        (["--interval", "0"], "--interval"),
        (["--public-url", "sync.example.com"], "is not an http(s) URL"),
    ],
)
def test_bad_options_are_named(args, message):
    env = {**OFFLINE_ENV, "PMBRIDGE_TRELLO_SECRET": "5ec0" * 16}
    result = runner.invoke(app, ["serve", *args], env=env)
    assert result.exit_code == 2
    assert message in result.output


def test_refused_credentials_stop_the_service_with_status_2(bridge: Bridge):
    env = env_of(bridge, PMBRIDGE_CUSTOMPMS_TOKEN="not-the-token")
    result = runner.invoke(app, ["serve", "--interval", "60"], env=env)
    assert result.exit_code == 2, result.output
    assert "serve stopped: Custompms rejected the token" in result.output
    assert "not-the-token" not in result.output


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_process_syncs_prints_a_line_per_cycle_and_cleans_up_on_a_signal(
    bridge: Bridge, trello_config: SandboxConfig, tmp_path: Path, stop_with: signal.Signals
):
    seed(bridge.pms, tasks=1, comments=False)
    port = free_port()
    env = {
        **os.environ,
        **env_of(bridge, PMBRIDGE_TRELLO_SECRET=trello_config.secret),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "pmbridge", "--log-format", "text", "serve"]
    command += ["--interval", "60", "--public-url", f"http://127.0.0.1:{port}"]
    command += ["--listen", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 20
        while not (webhooks_at_trello(bridge) and any("cycle 1 (" in line for line in lines)):
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.05)
        assert len(subscriptions_at_custompms(bridge)) == 1
        assert bridge.only_board()["name"] == "Website"
        process.send_signal(stop_with)
        assert process.wait(timeout=15) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=5)
    output = "".join(lines)
    [cycle] = [line for line in output.splitlines() if "cycle 1 (" in line]
    # 2025-01-31 12:00:00 cycle 1 (start, full): → Trello 3 writes, → Custompms 0 writes, …
    assert cycle[:4].isdigit() and cycle[4] == "-"
    assert "→ Trello" in cycle and "→ Custompms" in cycle
    assert "0 conflicts" in cycle and "0 errors" in cycle
    assert "1 Trello webhook deleted, Custompms subscription removed" in output
    assert webhooks_at_trello(bridge) == []
    assert subscriptions_at_custompms(bridge) == []
    for secret in (trello_config.secret, trello_config.members[0].token):
        assert secret not in output + process.stderr.read()


def test_a_taken_listen_address_is_named():
    with listening_socket("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        env = {**OFFLINE_ENV, "PMBRIDGE_TRELLO_SECRET": "5ec0" * 16}
        args = ["serve", "--public-url", "https://sync.example.com"]
        result = runner.invoke(app, [*args, "--listen", f"127.0.0.1:{port}"], env=env)
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "--listen HOST:PORT" in result.output
