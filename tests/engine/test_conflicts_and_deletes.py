"""Conflicts, deletions, the circuit breaker and dead letters, end to end."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.bridge import Bridge, on_both_stores, seed


def card_named(bridge: Bridge, name: str) -> dict:
    board = bridge.only_board()
    return next(c for c in bridge.trello.cards(board["id"]) if c["name"] == name)


def test_edits_to_different_properties_of_one_task_both_arrive(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    task_id = data["tasks"][0]["id"]
    card = card_named(bridge, "Task 0")
    bridge.pms.update("tasks", task_id, description="Edited in PMS")
    bridge.trello.call("PUT", f"/cards/{card['id']}", name="Edited on Trello")
    report = bridge.sync()
    assert report.count("conflicts") == 0
    task = bridge.pms.get("tasks", task_id)
    assert (task["title"], task["description"]) == ("Edited on Trello", "Edited in PMS")
    card = bridge.trello.call("GET", f"/cards/{card['id']}")
    assert card["name"] == "Edited on Trello" and card["desc"].startswith("Edited in PMS\n\n---")


@on_both_stores
def test_same_property_edited_on_both_sides_newest_wins_and_loser_is_logged(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    task_id = data["tasks"][0]["id"]
    card = card_named(bridge, "Task 0")
    bridge.pms.update("tasks", task_id, title="Older title from PMS")
    time.sleep(0.05)
    bridge.trello.call("PUT", f"/cards/{card['id']}", name="Newer title from Trello")
    report = bridge.sync()
    assert report.count("conflicts") == 1
    assert bridge.pms.get("tasks", task_id)["title"] == "Newer title from Trello"

    with bridge.store() as store:
        [conflict] = store.conflicts()
    assert conflict.property == "title"
    assert conflict.custompms_value == "Older title from PMS"
    assert conflict.trello_value == "Newer title from Trello"
    assert conflict.winner == "trello"
    assert conflict.custompms_changed_at and conflict.trello_changed_at

    # A person prefers the losing value: it is applied to both sides.
    from typer.testing import CliRunner

    from pmbridge.cli import app

    env = {
        "PMBRIDGE_TRELLO_URL": bridge.settings.trello_url,
        "PMBRIDGE_TRELLO_KEY": bridge.settings.trello_key.get_secret_value(),
        "PMBRIDGE_TRELLO_TOKEN": bridge.settings.trello_token.get_secret_value(),
        "PMBRIDGE_CUSTOMPMS_URL": bridge.settings.custompms_url,
        "PMBRIDGE_CUSTOMPMS_TOKEN": bridge.settings.custompms_token.get_secret_value(),
        "PMBRIDGE_DATABASE_URL": bridge.settings.database_url,
    }
    result = CliRunner().invoke(
        app, ["conflicts", "resolve", str(conflict.id), "--take", "custompms"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "resolved" in result.output
    assert bridge.pms.get("tasks", task_id)["title"] == "Older title from PMS"
    assert bridge.trello.call("GET", f"/cards/{card['id']}")["name"] == "Older title from PMS"
    bridge.reset_counts()
    bridge.sync()
    assert bridge.counts()["trello"]["writes"] == bridge.counts()["custompms"]["writes"] == 0


def test_deleted_task_archives_its_card_and_deleted_card_deletes_its_task(bridge: Bridge):
    data = seed(bridge.pms, tasks=2, comments=False)
    bridge.sync()
    t0, t1 = (t["id"] for t in data["tasks"])
    bridge.pms.delete("tasks", t0)
    card1 = card_named(bridge, "Task 1")
    bridge.trello.call("DELETE", f"/cards/{card1['id']}")
    report = bridge.sync()
    assert report.errors == 0, report.problems
    assert card_named(bridge, "Task 0")["closed"] is True
    assert bridge.pms.get("tasks", t1) is None
    assert bridge.pms.get("tasks", t0) is None


def test_an_edit_beats_a_delete(bridge: Bridge):
    data = seed(bridge.pms, tasks=2, comments=False)
    bridge.sync()
    t0, t1 = (t["id"] for t in data["tasks"])
    # Deleted in Custompms, edited on Trello: the task comes back with the edit.
    bridge.pms.delete("tasks", t0)
    card0 = card_named(bridge, "Task 0")
    bridge.trello.call("PUT", f"/cards/{card0['id']}", name="Task 0 still matters")
    # Deleted on Trello, edited in Custompms: a new card is made with the edit.
    card1 = card_named(bridge, "Task 1")
    bridge.trello.call("DELETE", f"/cards/{card1['id']}")
    bridge.pms.update("tasks", t1, title="Task 1 still matters")
    report = bridge.sync()
    assert report.errors == 0, report.problems
    assert bridge.pms.get("tasks", t0)["title"] == "Task 0 still matters"
    assert card_named(bridge, "Task 0 still matters")["closed"] is False
    assert bridge.pms.get("tasks", t1)["title"] == "Task 1 still matters"
    assert card_named(bridge, "Task 1 still matters")["id"] != card1["id"]


def test_a_card_made_again_after_its_deletion_gets_its_tasks_comments_again(bridge: Bridge):
    data = seed(bridge.pms, tasks=1)
    bridge.sync()
    task_id = data["tasks"][0]["id"]
    old = card_named(bridge, "Task 0")
    # Deleted on Trello (its comments with it), edited in Custompms: a new card is made …
    bridge.trello.call("DELETE", f"/cards/{old['id']}")
    bridge.pms.update("tasks", task_id, title="Task 0 still matters")
    report = bridge.sync()
    assert report.errors == 0, report.problems

    # … and the task's comment is made again on it, once.
    new = card_named(bridge, "Task 0 still matters")
    assert new["id"] != old["id"]
    board = bridge.only_board()
    on_new = [
        c["data"]["text"]
        for c in bridge.trello.comments(board["id"])
        if c["data"]["card"]["id"] == new["id"]
    ]
    assert on_new == ["On Task 0"]
    assert sorted(c["text"] for c in bridge.pms.all("comments")) == [
        "Kick-off on Monday",
        "On Task 0",
    ]
    bridge.reset_counts()
    assert bridge.sync(full=True).errors == 0
    assert bridge.counts()["trello"]["writes"] == bridge.counts()["custompms"]["writes"] == 0


def test_a_board_made_again_after_its_deletion_gets_its_cards_and_comments_again(
    bridge: Bridge,
):
    data = seed(bridge.pms, tasks=2)
    bridge.sync()
    old = bridge.only_board()
    # Deleted on Trello with its cards and their comments; edited in Custompms meanwhile.
    bridge.trello.call("DELETE", f"/boards/{old['id']}")
    bridge.pms.update("projects", data["project"]["id"], description="Still on")
    report = bridge.sync()
    assert report.errors == 0, report.problems

    board = bridge.only_board()
    assert board["id"] != old["id"] and board["desc"] == "Still on"
    cards = {c["id"]: c["name"] for c in bridge.trello.cards(board["id"])}
    assert sorted(cards.values()) == ["About this project", "Task 0", "Task 1"]
    comments = sorted(
        (cards[c["data"]["card"]["id"]], c["data"]["text"])
        for c in bridge.trello.comments(board["id"])
    )
    assert comments == [
        ("About this project", "Kick-off on Monday"),
        ("Task 0", "On Task 0"),
        ("Task 1", "On Task 1"),
    ]
    assert [t["title"] for t in bridge.pms.all("tasks")] == ["Task 0", "Task 1"]
    assert len(bridge.pms.all("comments")) == 3
    bridge.reset_counts()
    assert bridge.sync(full=True).errors == 0
    assert bridge.counts()["trello"]["writes"] == bridge.counts()["custompms"]["writes"] == 0


def test_comment_deletions_go_both_ways(bridge: Bridge):
    data = seed(bridge.pms, tasks=2)
    bridge.sync()
    board = bridge.only_board()
    comments = {c["data"]["text"]: c["id"] for c in bridge.trello.comments(board["id"])}
    pms_comments = {c["text"]: c["id"] for c in bridge.pms.all("comments")}
    bridge.pms.delete("comments", pms_comments["On Task 0"])
    bridge.trello.call("DELETE", f"/actions/{comments['On Task 1']}")
    # Trello does not list comment deletions in board actions; a full read finds them.
    report = bridge.sync(full=True)
    assert report.errors == 0, report.problems
    left_on_trello = {c["data"]["text"] for c in bridge.trello.comments(board["id"])}
    assert left_on_trello == {"Kick-off on Monday"}
    assert {c["text"] for c in bridge.pms.all("comments")} == {"Kick-off on Monday"}
    assert data  # seeded


def test_comment_edits_on_trello_are_found_by_a_full_read(bridge: Bridge):
    seed(bridge.pms, tasks=1)
    bridge.sync()
    board = bridge.only_board()
    action = next(
        c for c in bridge.trello.comments(board["id"]) if c["data"]["text"] == "On Task 0"
    )
    bridge.sync()  # the feeds move past the comment
    bridge.trello.call("PUT", f"/actions/{action['id']}", text="On Task 0 (edited)")
    bridge.sync(full=True)
    assert "On Task 0 (edited)" in {c["text"] for c in bridge.pms.all("comments")}


@on_both_stores
def test_circuit_breaker_holds_a_mass_delete_until_allowed(bridge: Bridge):
    data = seed(bridge.pms, tasks=8, comments=False)
    bridge.sync()
    for task in data["tasks"][:7]:
        bridge.pms.delete("tasks", task["id"])
    report = bridge.sync()
    assert len(report.held_deletes) == 7
    assert any("--allow-deletes" in p for p in report.problems)
    board = bridge.only_board()
    assert not any(c["closed"] for c in bridge.trello.cards(board["id"]))
    # Held, not forgotten: the next run holds them again, and --allow-deletes applies them.
    assert len(bridge.sync().held_deletes) == 7
    report = bridge.sync(allow_deletes=True)
    assert report.held_deletes == []
    closed = [c["name"] for c in bridge.trello.cards(board["id"]) if c["closed"]]
    assert sorted(closed) == [f"Task {i}" for i in range(7)]
    with bridge.store() as store:
        assert store.dead_letters() == []


def test_a_rejected_record_is_dead_lettered_and_the_others_go_on(bridge: Bridge):
    data = seed(bridge.pms, tasks=2, comments=False)
    # Trello allows 16384 characters in a description; with the backlink footer this is more.
    bridge.pms.update("tasks", data["tasks"][0]["id"], description="x" * 16384)
    bridge.pms.create("comments", task_id=data["tasks"][0]["id"], author="Al", text="Waits")
    report = bridge.sync()
    assert report.errors == 1
    assert "desc" in report.problems[0]
    board = bridge.only_board()
    assert [c["name"] for c in bridge.trello.cards(board["id"])] == ["Task 1"]
    # Its comment waits for the card instead of failing or landing elsewhere.
    assert report.waiting == 1 and bridge.trello.comments(board["id"]) == []
    with bridge.store() as store:
        letters = {d.operation: d for d in store.dead_letters()}
    assert letters["sync"].record_id == data["tasks"][0]["id"]
    assert letters["sync"].attempts == 1 and "waiting" in letters["wait"].error
    # Retried on the next cycle; once fixed, it goes through and leaves the list.
    bridge.sync()
    with bridge.store() as store:
        assert {d.operation: d.attempts for d in store.dead_letters()}["sync"] == 2
    bridge.pms.update("tasks", data["tasks"][0]["id"], description="short now")
    report = bridge.sync()
    assert report.errors == 0 and report.waiting == 0, report.problems
    assert sorted(c["name"] for c in bridge.trello.cards(board["id"])) == ["Task 0", "Task 1"]
    assert [c["data"]["text"] for c in bridge.trello.comments(board["id"])] == ["Waits"]
    with bridge.store() as store:
        assert store.dead_letters() == []


def test_every_nth_cycle_is_a_full_one_and_finds_what_feeds_miss(bridge: Bridge):
    seed(bridge.pms, tasks=1)
    first = bridge.sync(full_every=3)
    assert first.full  # nothing read yet: the first cycle reads everything
    board = bridge.only_board()
    comment = next(
        c for c in bridge.trello.comments(board["id"]) if c["data"]["text"] == "On Task 0"
    )
    bridge.trello.call("DELETE", f"/actions/{comment['id']}")
    for _ in range(2):  # cycles 2 and 3 read changes only, and cannot see the deletion
        assert not bridge.sync(full_every=3).full
        assert "On Task 0" in {c["text"] for c in bridge.pms.all("comments")}
    assert bridge.sync(full_every=3).full  # cycle 4
    assert "On Task 0" not in {c["text"] for c in bridge.pms.all("comments")}


def test_a_task_restored_in_custompms_reopens_its_archived_card(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    task_id = data["tasks"][0]["id"]
    bridge.pms.delete("tasks", task_id)
    bridge.sync()
    assert card_named(bridge, "Task 0")["closed"] is True
    bridge.pms.update("tasks", task_id, deleted=False)
    report = bridge.sync()
    assert report.errors == 0, report.problems
    assert card_named(bridge, "Task 0")["closed"] is False
    bridge.reset_counts()
    bridge.sync()
    assert bridge.counts()["trello"]["writes"] == bridge.counts()["custompms"]["writes"] == 0


def test_a_malformed_record_from_custompms_is_set_aside_and_the_run_goes_on(bridge: Bridge):
    from sqlalchemy import text

    data = seed(bridge.pms, tasks=3, comments=False)
    bad = data["tasks"][1]["id"]
    # An adapter sends a date pmbridge cannot read (written past the server's validation).
    with bridge.pms_app.store.engine.begin() as conn:
        conn.execute(text("UPDATE tasks SET due_at = '31/12/2026' WHERE id = :id"), {"id": bad})
    report = bridge.sync()
    assert report.errors == 1
    assert any(bad in p and "31/12/2026" in p for p in report.problems)
    names = sorted(c["name"] for c in bridge.trello.cards(bridge.only_board()["id"]))
    assert names == ["Task 0", "Task 2"]
    with bridge.store() as store:
        assert [d.record_id for d in store.dead_letters()] == [bad]
    # Fixed in Custompms, it goes through on the next cycle and leaves the list.
    bridge.pms.update("tasks", bad, due_at="2026-12-31")
    report = bridge.sync()
    assert report.errors == 0, report.problems
    names = sorted(c["name"] for c in bridge.trello.cards(bridge.only_board()["id"]))
    assert names == ["Task 0", "Task 1", "Task 2"]
    with bridge.store() as store:
        assert store.dead_letters() == []


def test_description_edits_in_different_lines_on_both_sides_both_arrive(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    task_id = data["tasks"][0]["id"]
    bridge.pms.update("tasks", task_id, description="Scope\n\nBudget: tbd\n\nOwner: tbd")
    bridge.sync()
    card = card_named(bridge, "Task 0")
    bridge.pms.update("tasks", task_id, description="Scope\n\nBudget: tbd\n\nOwner: Kim")
    desc = bridge.trello.call("GET", f"/cards/{card['id']}")["desc"]
    bridge.trello.call("PUT", f"/cards/{card['id']}", desc=desc.replace("Scope", "Scope: web"))
    report = bridge.sync()
    assert report.count("conflicts") == 0, report.problems
    expected = "Scope: web\n\nBudget: tbd\n\nOwner: Kim"
    assert bridge.pms.get("tasks", task_id)["description"] == expected
    assert bridge.trello.call("GET", f"/cards/{card['id']}")["desc"].startswith(expected + "\n")


def test_a_failed_read_never_turns_into_deletions(bridge: Bridge):
    seed(bridge.pms, tasks=3)
    bridge.sync()
    # Trello fails every read of board activity: a full cycle cannot list the boards.
    bridge.trello_app.state.control.set_faults(
        error_rate=1.0, methods=["GET"], path_prefix="/1/boards"
    )
    from pmbridge.errors import CycleStopped

    with pytest.raises(CycleStopped, match="Trello"):
        bridge.sync(full=True)
    bridge.trello_app.state.control.clear_faults()
    assert len(bridge.pms.all("tasks")) == 3
    assert len(bridge.pms.all("comments")) == 4
    report = bridge.sync(full=True)
    assert report.count("deleted") == 0 and report.errors == 0, report.problems
