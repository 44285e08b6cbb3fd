"""The command line as a person meets it: output, exit status, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmbridge.cli import app
from pmbridge.flows import default_flows_path
from pmbridge.sockets import free_port
from tests.fixtures.bridge import Bridge, seed

runner = CliRunner()


def env_of(bridge: Bridge, **changes: str) -> dict[str, str]:
    s = bridge.settings
    env = {
        "PMBRIDGE_TRELLO_URL": s.trello_url,
        "PMBRIDGE_TRELLO_KEY": s.trello_key.get_secret_value(),
        "PMBRIDGE_TRELLO_TOKEN": s.trello_token.get_secret_value(),
        "PMBRIDGE_CUSTOMPMS_URL": s.custompms_url,
        "PMBRIDGE_CUSTOMPMS_TOKEN": s.custompms_token.get_secret_value(),
        "PMBRIDGE_DATABASE_URL": s.database_url,
    }
    env.update(changes)
    return env


def invoke(args: list[str], env: dict[str, str], tmp_path: Path):
    return runner.invoke(app, args, env=env)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each command in an empty folder (no stray pmbridge.toml or pmbridge.db)."""
    monkeypatch.chdir(tmp_path)


def test_sync_prints_a_table_per_flow_and_direction_and_the_state_commands_work(
    bridge: Bridge, tmp_path: Path
):
    seed(bridge.pms, tasks=2)
    env = env_of(bridge)
    result = invoke(["sync"], env, tmp_path)
    assert result.exit_code == 0, result.output
    for word in ("flow", "direction", "created", "tasks", "→ Trello", "→ Custompms"):
        assert word in result.output
    status = invoke(["status"], env, tmp_path)
    assert status.exit_code == 0 and "task_comments" in status.output
    links = invoke(["links", "tasks", "--json"], env, tmp_path)
    assert links.exit_code == 0 and links.output.count('"flow": "tasks"') == 2
    assert "No dead letters." in invoke(["dead-letters"], env, tmp_path).output
    assert "No open conflicts." in invoke(["conflicts"], env, tmp_path).output
    dry = invoke(["sync", "--dry-run"], env, tmp_path)
    assert dry.exit_code == 0 and "The plan is empty: nothing to do." in dry.output
    seed(bridge.pms, tasks=1)
    dry = invoke(["sync", "--dry-run"], env, tmp_path)
    assert dry.exit_code == 0 and "The plan (dry run: nothing written)" in dry.output
    assert "tasks: create on trello: task" in dry.output
    assert invoke(["links", "tasks", "--json"], env, tmp_path).output.count('"flow"') == 2


def test_missing_settings_name_the_environment_variable(tmp_path: Path, monkeypatch):
    for name in ("TRELLO_KEY", "TRELLO_TOKEN", "CUSTOMPMS_URL", "CUSTOMPMS_TOKEN"):
        monkeypatch.delenv(f"PMBRIDGE_{name}", raising=False)
    result = invoke(["sync"], {}, tmp_path)
    assert result.exit_code == 2
    assert "PMBRIDGE_TRELLO_KEY is not set" in result.output
    assert "PMBRIDGE_CUSTOMPMS_TOKEN is not set" in result.output


def test_a_bad_flow_file_names_file_line_and_fix(bridge: Bridge, tmp_path: Path):
    flows = tmp_path / "my-flows.yaml"
    text = default_flows_path().read_text().replace("trello: dueComplete", "trello: duecomplete")
    flows.write_text(text)
    line = text[: text.index("duecomplete")].count("\n") + 1
    result = invoke(["sync", "--flows", str(flows)], env_of(bridge), tmp_path)
    assert result.exit_code == 2
    assert f"my-flows.yaml:{line}:" in result.output
    assert "did you mean 'dueComplete'" in result.output


def test_an_unknown_flow_name_lists_the_flows(bridge: Bridge, tmp_path: Path):
    result = invoke(["sync", "--flow", "cards"], env_of(bridge), tmp_path)
    assert result.exit_code == 2 and "no flow named cards" in result.output
    assert "customers, projects, tasks" in result.output


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"PMBRIDGE_TRELLO_TOKEN": "ATTA" + "9" * 60}, "Trello rejected the token"),
        ({"PMBRIDGE_CUSTOMPMS_TOKEN": "wrong-token"}, "Custompms rejected the token"),
        ({"PMBRIDGE_CUSTOMPMS_URL": "http://127.0.0.1:{port}"}, "could not be reached"),
    ],
)
def test_bad_credentials_and_unreachable_systems_stop_at_once(
    bridge: Bridge, tmp_path: Path, change: dict[str, str], expected: str
):
    seed(bridge.pms, tasks=1)
    change = {k: v.format(port=free_port()) for k, v in change.items()}
    result = invoke(["sync"], env_of(bridge, **change), tmp_path)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    for secret in (*change.values(), bridge.settings.trello_token.get_secret_value()):
        if "token" in secret.lower() or secret.startswith("ATTA"):
            assert secret not in result.output
    assert bridge.trello.organizations() == []
