"""A Custompms that speaks contract 1.0 (no tags, assignees, checklist or links; it refuses
them as unknown properties), or 1.1 with some optional parts only, over both sandboxes:
cards with labels, members, a checklist and link attachments still sync, nothing is sent
that the server lacks, nothing is set aside, and idle cycles write nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tests.engine.test_card_parts import assert_idle, label_names, the_card
from tests.fixtures.bridge import Bridge, seed

OPTIONAL = ("tags", "assignees", "checklist", "links")


@pytest.fixture
def custompms_features() -> Sequence[str]:
    return ()  # a contract 1.0 server; a test may parametrize another


def card_with_every_part(bridge: Bridge) -> dict[str, Any]:
    """A card made in Trello with a label, a member, a checklist and a link attachment."""
    seed(bridge.pms, tasks=0, comments=False)
    bridge.sync()
    board = bridge.only_board()
    member = bridge.trello_app.state.world.add_member("bob", "Bob", "")
    bridge.trello.call("PUT", f"/boards/{board['id']}/members/{member.id}")
    todo = bridge.trello.call("POST", "/lists", name="To Do", idBoard=board["id"])["id"]
    card = bridge.trello.call("POST", "/cards", idList=todo, name="From Trello", desc="Details")
    bridge.trello.call("POST", f"/cards/{card['id']}/labels", name="ops", color="sky")
    bridge.trello.call("POST", f"/cards/{card['id']}/idMembers", value=member.id)
    checklist = bridge.trello.call("POST", f"/cards/{card['id']}/checklists", name="Checklist")
    bridge.trello.call("POST", f"/checklists/{checklist['id']}/checkItems", name="First")
    bridge.trello.call("POST", f"/cards/{card['id']}/attachments", url="https://example.com/a")
    return card


def assert_nothing_set_aside(bridge: Bridge) -> None:
    assert bridge.store().dead_letters() == []
    assert all(not report.problems for report in bridge.reports), bridge.reports[-1].problems
    assert bridge.store().conflicts() == []


def test_a_card_with_every_part_becomes_a_1_0_task_and_label_edits_write_nothing(
    bridge: Bridge,
):
    card = card_with_every_part(bridge)
    bridge.sync()

    (task,) = bridge.pms.all("tasks")
    assert (task["title"], task["description"].split("\n")[0]) == ("From Trello", "Details")
    assert not set(OPTIONAL) & set(task)
    assert_nothing_set_aside(bridge)
    assert_idle(bridge)
    # One question about the optional parts per run (a run's connector asks once).
    assert bridge.counts()["custompms"]["by_route"]["GET /capabilities"] == 1

    # The card's labels change: nothing to write to a Custompms without tags.
    (ops,) = the_card(bridge)["labels"]
    bridge.trello.call("DELETE", f"/cards/{card['id']}/idLabels/{ops['id']}")
    bridge.trello.call("POST", f"/cards/{card['id']}/labels", name="design", color="green")
    bridge.reset_counts()
    report = bridge.sync()
    assert bridge.counts()["custompms"]["writes"] == 0, bridge.counts()["custompms"]
    assert report.writes == 0, report.as_json()  # not even planned
    assert_nothing_set_aside(bridge)
    assert_idle(bridge)

    # Edits of what the server has still sync both ways, and the card keeps its parts.
    bridge.trello.call("PUT", f"/cards/{card['id']}", name="Renamed in Trello")
    bridge.sync()
    assert bridge.pms.get("tasks", task["id"])["title"] == "Renamed in Trello"
    bridge.pms.update("tasks", task["id"], title="Renamed in Custompms")
    bridge.sync()
    card = the_card(bridge)
    assert card["name"] == "Renamed in Custompms"
    assert label_names(card) == ["design"]
    assert [m["username"] for m in card["members"]] == ["bob"]
    assert [i["name"] for c in card["checklists"] for i in c["checkItems"]] == ["First"]
    assert [a["url"] for a in card["attachments"]] == ["https://example.com/a"]
    assert_nothing_set_aside(bridge)
    assert_idle(bridge)


@pytest.mark.parametrize("custompms_features", [("tags", "people")])
def test_a_1_1_server_with_tags_only_gets_the_labels_and_nothing_else(bridge: Bridge):
    card_with_every_part(bridge)
    bridge.sync()

    (task,) = bridge.pms.all("tasks")
    assert task["tags"] == ["ops"]
    assert not {"assignees", "checklist", "links"} & set(task)
    assert_nothing_set_aside(bridge)
    assert_idle(bridge)

    bridge.pms.update("tasks", task["id"], tags=["ops", "urgent"])
    bridge.sync()
    assert label_names(the_card(bridge)) == ["ops", "urgent"]
    assert [i["name"] for c in the_card(bridge)["checklists"] for i in c["checkItems"]] == ["First"]
    assert_nothing_set_aside(bridge)
    assert_idle(bridge)
