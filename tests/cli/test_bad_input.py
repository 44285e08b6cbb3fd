"""Bad input gets a sentence naming what to fix, never a traceback, through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from pmbridge.cli import app
from pmbridge.config import Settings
from pmbridge.flows import default_flows_path
from pmbridge.sandbox.server import ServerThread

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No PMBRIDGE_* variables from the caller; an empty working directory."""
    for name in list(os.environ):
        if name.upper().startswith("PMBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def invoke(args: list[str], **env: str) -> Result:
    result = runner.invoke(app, args, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    return result


def test_a_sqlite_url_with_two_slashes_says_how_to_write_it(tmp_path: Path) -> None:
    result = invoke(["status"], PMBRIDGE_DATABASE_URL="sqlite://./x.db")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: the state store URL sqlite://./x.db names no file: a SQLite URL has three "
        "slashes before a relative path and four before an absolute one; write "
        "sqlite:///./x.db (or sqlite:////var/lib/pmbridge/pmbridge.db)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_timeout_that_is_no_number_is_named(tmp_path: Path) -> None:
    result = invoke(["links"], PMBRIDGE_DATABASE_URL="sqlite:///./x.db?timeout=abc")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: the state store URL sqlite:///./x.db?timeout=abc has timeout='abc', which is "
        "not a number of seconds; write e.g. ?timeout=15 (how long to wait for another "
        "process writing the same file) or leave it out\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_docs_into_a_missing_folder() -> None:
    result = invoke(["docs", "-o", "/nonexistent/x.rst"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: cannot write /nonexistent/x.rst: the folder /nonexistent does not exist; "
        "create it (mkdir -p /nonexistent) or give -o a file in an existing folder\n"
    )


def test_an_unknown_variable_is_warned_about_with_the_closest_name() -> None:
    result = invoke(["docs", "-o", "out.rst"], PMBRIDGE_TRELO_TOKEN="x", PMBRIDGE_FULLEVERY="2")
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: PMBRIDGE_FULLEVERY is not a pmbridge setting and is ignored; did you mean "
        "PMBRIDGE_FULL_EVERY?\n"
        "Warning: PMBRIDGE_TRELO_TOKEN is not a pmbridge setting and is ignored; did you mean "
        "PMBRIDGE_TRELLO_TOKEN?\n"
    )


def test_status_creates_no_store_and_says_what_to_run(tmp_path: Path) -> None:
    for command in (["status"], ["links"], ["conflicts"], ["dead-letters"]):
        result = invoke(command)
        assert result.exit_code == 0
        assert result.stdout == (
            "No state store yet at sqlite:///./pmbridge.db: `pmbridge sync` creates it with "
            "the first sync.\n"
        )
        assert list(tmp_path.iterdir()) == []
    as_json = invoke(["links", "--json"])
    assert (as_json.exit_code, as_json.stdout) == (0, "")
    assert as_json.stderr.startswith("No state store yet at sqlite:///./pmbridge.db: ")


def test_every_problem_of_a_flow_file_at_once(tmp_path: Path) -> None:
    text = (
        default_flows_path()
        .read_text(encoding="utf-8")
        .replace("conflict: newest_wins", "conflict: newest", 1)
        .replace("trello: dueComplete", "trello: duecomplete")
    )
    flows = tmp_path / "flows.yaml"
    flows.write_text(text, encoding="utf-8")
    policy = text[: text.index("conflict: newest\n")].count("\n") + 1
    due = text[: text.index("duecomplete")].count("\n") + 1
    result = invoke(["docs", "--flows", str(flows)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {flows}:{policy}: flow 'customers': 'newest' is not allowed; use one of "
        "'newest_wins', 'custompms_wins', 'trello_wins' or 'manual'\n"
        f"{flows}:{due}: flow 'tasks': unknown Trello card property 'duecomplete' (did you "
        "mean 'dueComplete'?); allowed: idBoard, list, name, desc, due, start, dueComplete, "
        "closed, pos, labels, members, checklist, attachments\n"
    )


def test_every_problem_of_a_config_file_at_once(tmp_path: Path) -> None:
    (tmp_path / "pmbridge.toml").write_text(
        'full_every = 0\ntrelo_key = "k"\ninterval_s = "soon"\n', encoding="utf-8"
    )
    result = invoke(["status"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: pmbridge.toml:1: full_every = 0 is not valid: Input should be greater than or "
        "equal to 1; also line 2: unknown setting 'trelo_key'; did you mean 'trello_key'? Allowed: "
        + ", ".join(Settings.model_fields)
        + "; also line 3: interval_s = 'soon' is not valid: Input should be a valid number, unable "
        "to parse string as a number\n"
    )


def test_a_refused_token_is_said_once_without_an_empty_table(
    trello_server: ServerThread,
    trello_auth: dict[str, str],
    custompms_server: ServerThread,
    custompms_token: str,
) -> None:
    result = invoke(
        ["sync"],
        PMBRIDGE_TRELLO_URL=trello_server.url + "/1",
        PMBRIDGE_TRELLO_KEY=trello_auth["key"],
        PMBRIDGE_TRELLO_TOKEN="ATTA" + "9" * 60,
        PMBRIDGE_CUSTOMPMS_URL=custompms_server.url,
        PMBRIDGE_CUSTOMPMS_TOKEN=custompms_token,
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: sync stopped: Trello rejected the token: it is wrong, expired or revoked: "
        "create a new token for your API key (https://trello.com/1/authorize?scope=read,write"
        "&expiration=never&key=<your key>) and set PMBRIDGE_TRELLO_TOKEN\n"
    )


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PMBRIDGE_")}
    done = subprocess.run(
        [sys.executable, "-m", "pmbridge", "status"],
        env={**env, "PMBRIDGE_DATABASE_URL": "sqlite://./x.db", "NO_COLOR": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: the state store URL sqlite://./x.db names no file")
