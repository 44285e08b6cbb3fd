"""Settling conflicts by hand never overwrites a newer edit, and the conflicts a sync
reports are the ones `pmbridge conflicts` lists."""

from __future__ import annotations

import time

from typer.testing import CliRunner

from pmbridge.cli import app
from tests.engine.test_cli import env_of
from tests.fixtures.bridge import Bridge, seed

runner = CliRunner()


def _conflict_on_title(bridge: Bridge) -> tuple[str, str]:
    """A task whose title was edited on both sides (Trello's edit newer): one conflict,
    decided by the default policy for Trello."""
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    task_id = data["tasks"][0]["id"]
    board = bridge.only_board()
    card_id = next(c["id"] for c in bridge.trello.cards(board["id"]) if c["name"] == "Task 0")
    bridge.pms.update("tasks", task_id, title="From PMS")
    time.sleep(0.05)
    bridge.trello.call("PUT", f"/cards/{card_id}", name="From Trello")
    assert bridge.sync().count("conflicts") == 1
    return task_id, card_id


def _titles(bridge: Bridge, task_id: str, card_id: str) -> tuple[str, str]:
    card = bridge.trello.call("GET", f"/cards/{card_id}")
    return bridge.pms.get("tasks", task_id)["title"], card["name"]


def test_resolving_an_already_resolved_conflict_writes_nothing(bridge: Bridge):
    task_id, card_id = _conflict_on_title(bridge)
    env = env_of(bridge)
    first = runner.invoke(app, ["conflicts", "resolve", "1", "--take", "custompms"], env=env)
    assert first.exit_code == 0, first.output
    assert _titles(bridge, task_id, card_id) == ("From PMS", "From PMS")
    bridge.trello.call("PUT", f"/cards/{card_id}", name="Newest, from Trello")
    bridge.sync()
    bridge.reset_counts()

    again = runner.invoke(app, ["conflicts", "resolve", "1", "--take", "trello"], env=env)

    assert again.exit_code == 2
    assert "already resolved" in again.output and "nothing was written" in again.output
    assert _titles(bridge, task_id, card_id) == ("Newest, from Trello", "Newest, from Trello")
    assert bridge.counts()["trello"]["writes"] == bridge.counts()["custompms"]["writes"] == 0


def test_applying_the_losing_value_after_a_newer_edit_needs_force(bridge: Bridge):
    task_id, card_id = _conflict_on_title(bridge)
    bridge.pms.update("tasks", task_id, title="Newer, from PMS")
    bridge.sync()
    env = env_of(bridge)
    bridge.reset_counts()

    refused = runner.invoke(app, ["conflicts", "resolve", "1", "--take", "custompms"], env=env)

    assert refused.exit_code == 2
    output = " ".join(refused.output.split())
    assert "changed on custompms and trello since the conflict was logged" in output
    assert "'Newer, from PMS'" in output and "--force" in output
    assert bridge.counts()["trello"]["writes"] == bridge.counts()["custompms"]["writes"] == 0
    assert _titles(bridge, task_id, card_id) == ("Newer, from PMS", "Newer, from PMS")

    forced = runner.invoke(
        app, ["conflicts", "resolve", "1", "--take", "custompms", "--force"], env=env
    )
    assert forced.exit_code == 0, forced.output
    assert _titles(bridge, task_id, card_id) == ("From PMS", "From PMS")


def test_the_conflicts_a_sync_reports_are_listed_and_can_be_dismissed(bridge: Bridge):
    _conflict_on_title(bridge)
    env = env_of(bridge)
    synced = runner.invoke(app, ["sync"], env=env)  # nothing new: the summary stays quiet
    assert "conflict(s)" not in synced.output

    listed = runner.invoke(app, ["conflicts"], env=env)

    assert listed.exit_code == 0
    row = next(line for line in listed.output.splitlines() if "title" in line)
    assert "resolved_by_p" in row and "From PMS" in row and "From Trello" in row
    dismissed = runner.invoke(app, ["conflicts", "dismiss", "1"], env=env)
    assert dismissed.exit_code == 0 and "dismissed" in dismissed.output
    assert "No open conflicts." in runner.invoke(app, ["conflicts"], env=env).output
    assert "dismissed" in runner.invoke(app, ["conflicts", "--all"], env=env).output
    refused = runner.invoke(app, ["conflicts", "resolve", "1", "--take", "custompms"], env=env)
    assert refused.exit_code == 2 and "was dismissed" in refused.output


def test_a_sync_with_conflicts_names_the_command_to_see_them(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    env = env_of(bridge)
    runner.invoke(app, ["sync"], env=env)
    task_id = data["tasks"][0]["id"]
    board = bridge.only_board()
    card_id = next(c["id"] for c in bridge.trello.cards(board["id"]) if c["name"] == "Task 0")
    bridge.pms.update("tasks", task_id, title="From PMS")
    time.sleep(0.05)
    bridge.trello.call("PUT", f"/cards/{card_id}", name="From Trello")

    synced = runner.invoke(app, ["sync"], env=env)

    assert "1 conflict(s): see `pmbridge conflicts`" in " ".join(synced.output.split())
