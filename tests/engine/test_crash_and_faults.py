"""Crash-safe creates and faults at both sandboxes: nothing duplicated, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from pmbridge.errors import CycleStopped
from tests.fixtures.bridge import Bridge, on_both_stores, seed


def cards_by_name(bridge: Bridge) -> Counter[str]:
    board = bridge.only_board()
    return Counter(c["name"] for c in bridge.trello.cards(board["id"]))


def assert_everything_once_and_equal(bridge: Bridge, titles: list[str]) -> None:
    cards = cards_by_name(bridge)
    for title in titles:
        assert cards[title] == 1, (title, cards)
    tasks = Counter(t["title"] for t in bridge.pms.all("tasks"))
    assert all(n == 1 for n in tasks.values()), tasks
    with bridge.store() as store:
        links = store.links("tasks")
        assert store.open_intents() == []
    assert len(links) == len(titles)
    board = bridge.only_board()
    cards_by_id = {c["id"]: c for c in bridge.trello.cards(board["id"])}
    for link in links:
        task = bridge.pms.get("tasks", link.custompms_id)
        card = cards_by_id[link.trello_id]
        assert task is not None and card["name"] == task["title"]
        assert card["desc"].startswith(task["description"])


@on_both_stores
def test_a_lost_create_answer_is_repaired_without_a_second_card(bridge: Bridge):
    data = seed(bridge.pms, tasks=3, comments=False)
    bridge.sync(flows=["customers", "projects"])
    # Trello creates each card but the answer never arrives (the connection drops).
    bridge.trello_app.state.control.set_faults(
        drop_after_rate=1.0, methods=["POST"], path_prefix="/1/cards"
    )
    bridge.sync()
    bridge.trello_app.state.control.clear_faults()
    bridge.sync()
    assert_everything_once_and_equal(bridge, [t["title"] for t in data["tasks"]])


@on_both_stores
def test_a_lost_custompms_create_answer_is_repaired_by_idempotency_key(bridge: Bridge):
    seed(bridge.pms, tasks=0, comments=False)
    bridge.sync()
    board = bridge.only_board()
    todo = bridge.trello.call("POST", "/lists", name="To Do", idBoard=board["id"])["id"]
    for i in range(3):
        bridge.trello.call("POST", "/cards", idList=todo, name=f"Card {i}", desc=f"text {i}")
    # Custompms creates each task, but half the answers are lost on the way back.
    bridge.pms_app.state.control.set_faults(
        drop_after_rate=0.5, methods=["POST"], path_prefix="/tasks", seed=3
    )
    bridge.sync()
    bridge.pms_app.state.control.clear_faults()
    bridge.sync()
    assert_everything_once_and_equal(bridge, [f"Card {i}" for i in range(3)])


@on_both_stores
def test_sigkill_between_remote_create_and_link_commit(bridge: Bridge, tmp_path):
    data = seed(bridge.pms, tasks=6, comments=False)
    bridge.sync(flows=["customers", "projects"])
    # Trello acts on each card create, then takes a while to answer: a kill lands in between.
    bridge.trello_app.state.control.set_faults(
        latency_after_ms=1500, methods=["POST"], path_prefix="/1/cards"
    )
    env = {
        **os.environ,
        "PMBRIDGE_TRELLO_URL": bridge.settings.trello_url,
        "PMBRIDGE_TRELLO_KEY": bridge.settings.trello_key.get_secret_value(),
        "PMBRIDGE_TRELLO_TOKEN": bridge.settings.trello_token.get_secret_value(),
        "PMBRIDGE_CUSTOMPMS_URL": bridge.settings.custompms_url,
        "PMBRIDGE_CUSTOMPMS_TOKEN": bridge.settings.custompms_token.get_secret_value(),
        "PMBRIDGE_DATABASE_URL": bridge.settings.database_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "pmbridge", "sync"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    board = bridge.only_board()
    deadline = time.monotonic() + 30
    while not bridge.trello.cards(board["id"]):
        assert time.monotonic() < deadline, "the sync never created a card"
        assert process.poll() is None, "the sync ended before it could be killed"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    with bridge.store() as store:
        assert store.open_intents(), "the kill should have left a create in doubt"
    bridge.trello_app.state.control.clear_faults()
    bridge.sync()
    assert_everything_once_and_equal(bridge, [t["title"] for t in data["tasks"]])


def test_faults_at_both_sandboxes_during_a_cycle_of_200_tasks(bridge: Bridge):
    pms = bridge.pms
    customer = pms.create("customers", name="Big", description="", website=None)
    project = pms.create("projects", customer_id=customer["id"], name="Many", description="")
    titles = [f"Task {i:03d}" for i in range(200)]
    for title in titles:
        pms.create(
            "tasks",
            project_id=project["id"],
            title=title,
            description=title.lower(),
            status="todo",
            completed=False,
            archived=False,
        )
    for app in (bridge.trello_app, bridge.pms_app):
        app.state.control.set_faults(error_rate=0.1, drop_rate=0.03, force_429=3, seed=7)
    first = bridge.sync()
    for app in (bridge.trello_app, bridge.pms_app):
        app.state.control.clear_faults()
    # Whatever a fault left in doubt is repaired or retried on the next cycle.
    bridge.sync()
    assert first.count("created", "tasks") > 150
    stats = bridge.counts()
    assert stats["trello"]["by_status"].get("429", 0) >= 3
    assert_everything_once_and_equal(bridge, titles)
    bridge.reset_counts()
    bridge.sync()
    assert bridge.counts()["trello"]["writes"] == bridge.counts()["custompms"]["writes"] == 0


def test_a_call_out_of_retries_waits_for_the_next_cycle_and_only_a_dead_system_stops_it(
    bridge: Bridge,
):
    data = seed(bridge.pms, tasks=4, comments=False)
    bridge.sync()
    cards = {c["name"]: c["id"] for c in bridge.trello.cards(bridge.only_board()["id"])}
    for task in data["tasks"]:
        bridge.pms.update("tasks", task["id"], title=task["title"] + " (renamed)")
    control = bridge.trello_app.state.control

    # Trello refuses every card write: it answers nothing useful, so the cycle stops.
    control.set_faults(error_rate=1.0, methods=["PUT"], path_prefix="/1/cards/")
    with pytest.raises(CycleStopped):
        bridge.sync()

    # Only Task 1's card fails: it waits for the next cycle, the others go through.
    control.set_faults(error_rate=1.0, methods=["PUT"], path_prefix=f"/1/cards/{cards['Task 1']}")
    report = bridge.sync()
    assert report.errors == 1 and report.count("updated", "tasks") == 3
    names = {c["id"]: c["name"] for c in bridge.trello.cards(bridge.only_board()["id"])}
    assert names[cards["Task 0"]] == "Task 0 (renamed)"
    assert names[cards["Task 1"]] == "Task 1"
    with bridge.store() as store:
        assert [d.record_id for d in store.dead_letters("tasks")] == [data["tasks"][1]["id"]]

    control.clear_faults()
    bridge.sync()
    names = {c["id"]: c["name"] for c in bridge.trello.cards(bridge.only_board()["id"])}
    assert sorted(names.values()) == sorted(t["title"] + " (renamed)" for t in data["tasks"])
    with bridge.store() as store:
        assert store.dead_letters() == []
