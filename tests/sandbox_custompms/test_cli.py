"""``pmbridge sandbox custompms``: starts the server, prints its URL and token."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pmbridge.sandbox.custompms import create_app
from pmbridge.sandbox.custompms.resources import CUSTOMERS
from pmbridge.sockets import listening_socket

RUN_CLI = [sys.executable, "-c", "from pmbridge.cli import main; main()"]


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [*RUN_CLI, "sandbox", "custompms", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    shown: dict[str, str] = {}
    deadline = time.monotonic() + 30
    for line in process.stdout:
        label, _, value = line.strip().partition(":")
        if value:
            shown[label] = value.strip()
        if line.startswith("Press Ctrl+C") or time.monotonic() > deadline:
            break
    return process, shown


def test_the_command_serves_the_api_and_keeps_data_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "pms.db"
    process, shown = _start(
        "--port",
        "0",
        "--db",
        str(db),
        "--token",
        "cli-token-1",
        "--status",
        "open",
        "--status",
        "shut",
    )
    try:
        assert shown["token"] == "cli-token-1"
        assert shown["statuses"] == "open, shut"
        url = shown["API"]
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.get("/customers").status_code == 401
            created = client.post(
                "/customers",
                json={"name": "From the CLI"},
                headers={"Authorization": "Bearer cli-token-1"},
            )
            assert created.status_code == 201
            assert "From the CLI" in client.get("/").text
            capabilities = client.get(
                "/capabilities", headers={"Authorization": "Bearer cli-token-1"}
            )
            assert capabilities.json()["statuses"] == ["open", "shut"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    app = create_app(f"sqlite:///{db}", token="other")
    names = [item["name"] for item in app.store.feed(CUSTOMERS, None, 10).items]
    app.store.close()
    assert names == ["From the CLI"]


def test_a_busy_port_is_a_clear_error() -> None:
    with listening_socket("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*RUN_CLI, "sandbox", "custompms", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_features_1_0_serves_a_contract_1_0_server() -> None:
    process, shown = _start("--port", "0", "--token", "cli-token-2", "--features", "1.0")
    try:
        assert shown["contract"] == "1.0 (no /capabilities, no optional parts)"
        auth = {"Authorization": "Bearer cli-token-2"}
        with httpx.Client(base_url=shown["API"], headers=auth, timeout=10) as client:
            assert client.get("/capabilities").status_code == 404
            project = client.post("/projects", json={"name": "P"}).json()
            refused = client.post(
                "/tasks", json={"project_id": project["id"], "title": "T", "tags": []}
            )
            assert refused.status_code == 422
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_an_unknown_feature_is_a_clear_error() -> None:
    result = subprocess.run(
        [*RUN_CLI, "sandbox", "custompms", "--port", "0", "--features", "tags,labels"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--features: unknown Custompms feature(s) labels" in result.stderr
