"""``pmbridge sandbox trello``: prints what a user needs, serves, keeps state in --state."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from pmbridge.cli.app import app
from pmbridge.sandbox.trello.config import DEMO_KEY, DEMO_TOKEN
from tests.fixtures.trello import oauth_header

LAUNCH = "from pmbridge.cli import main; main()"


def _start(*args: str) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "sandbox", "trello", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 20
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl+C"):
            return process, lines
    process.kill()
    raise AssertionError("the sandbox did not start:\n" + "\n".join(lines))


def test_cli_prints_credentials_and_serves(tmp_path: Path) -> None:
    state = tmp_path / "trello.json"
    process, lines = _start("--state", str(state), "--member", "ann:Ann Lee:ann-token")
    try:
        text = "\n".join(lines)
        api = re.search(r"API:\s+(http://127\.0\.0\.1:\d+/1)\n", text).group(1)
        assert f"key:    {DEMO_KEY}" in text
        assert DEMO_TOKEN in text and "ann-token" in text
        curl = next(line for line in lines if line.strip().startswith("curl "))
        assert oauth_header(DEMO_KEY, DEMO_TOKEN) in curl and curl.endswith(api + "/members/me")
        headers = {"Authorization": oauth_header(DEMO_KEY, "ann-token")}
        me = httpx.get(api + "/members/me", headers=headers).json()
        assert me["username"] == "ann" and me["fullName"] == "Ann Lee"
        org = httpx.post(api + "/organizations", headers=headers, params={"displayName": "CLI"})
        assert org.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    saved = json.loads(state.read_text())
    assert [o["displayName"] for o in saved["organizations"]] == ["CLI"]


def test_cli_rejects_bad_settings() -> None:
    runner = CliRunner()
    bad_member = runner.invoke(app, ["sandbox", "trello", "--member", "just-a-name"])
    assert bad_member.exit_code == 2
    assert "username:Full Name:token" in bad_member.output
    bad_key = runner.invoke(app, ["sandbox", "trello", "--key", "xyz"])
    assert bad_key.exit_code == 2
    assert "32 hexadecimal characters" in bad_key.output


def test_cli_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["sandbox", "trello", "--help"])
    assert result.exit_code == 0
    assert "--no-rate-limits" in result.output and "Example" in result.output
