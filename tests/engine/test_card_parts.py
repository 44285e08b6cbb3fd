"""Tags ↔ labels, assignees ↔ members, checklist ↔ checklist, links ↔ URL attachments, over
both sandboxes: each way, an idle cycle afterwards writes nothing, and a label or checklist
whose create answer was lost is made once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from pmbridge.cli import app
from pmbridge.flows.loader import default_flows_path
from tests.engine.test_cli import env_of
from tests.fixtures.bridge import Bridge, seed


def one_task(bridge: Bridge, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A synced task (with ``fields``) and its card, read with its parts."""
    data = seed(bridge.pms, tasks=1, comments=False)
    task = data["tasks"][0]
    if fields:
        task = bridge.pms.update("tasks", task["id"], **fields)
    bridge.sync()
    return task, the_card(bridge)


def the_card(bridge: Bridge) -> dict[str, Any]:
    board = bridge.only_board()
    (card,) = [c for c in bridge.trello.cards(board["id"]) if not c["closed"]]
    return bridge.trello.call(
        "GET", f"/cards/{card['id']}", checklists="all", attachments="true", members="true"
    )


def assert_idle(bridge: Bridge) -> None:
    """The next cycle writes nothing anywhere (our own writes come back as no change)."""
    bridge.sync()  # reads our own write's actions back
    bridge.reset_counts()
    bridge.sync()
    counts = bridge.counts()
    assert counts["trello"]["writes"] == 0, counts["trello"]
    assert counts["custompms"]["writes"] == 0, counts["custompms"]


def label_names(card: dict[str, Any]) -> list[str]:
    return sorted(label["name"] for label in card["labels"])


def items(card: dict[str, Any]) -> list[tuple[str, bool]]:
    (checklist,) = [c for c in card["checklists"] if c["name"] == "Checklist"]
    ordered = sorted(checklist["checkItems"], key=lambda i: i["pos"])
    return [(i["name"], i["state"] == "complete") for i in ordered]


def test_tags_and_labels_sync_both_ways_and_labels_are_made_once(bridge: Bridge):
    task, card = one_task(bridge, tags=["urgent", "web"])
    assert label_names(card) == ["urgent", "web"]
    board_labels = bridge.trello.call("GET", f"/boards/{card['idBoard']}/labels")
    assert {lb["name"]: lb["color"] for lb in board_labels if lb["name"]}["urgent"] == "red"
    assert_idle(bridge)

    # Trello: a label taken off, another put on; Custompms: a tag added, at the same time.
    web = next(lb for lb in card["labels"] if lb["name"] == "web")
    bridge.trello.call("DELETE", f"/cards/{card['id']}/idLabels/{web['id']}")
    bridge.trello.call("POST", f"/cards/{card['id']}/labels", name="design", color="blue")
    bridge.pms.update("tasks", task["id"], tags=["urgent", "web", "seo"])
    bridge.sync()
    assert bridge.pms.get("tasks", task["id"])["tags"] == ["design", "seo", "urgent"]
    assert label_names(the_card(bridge)) == ["design", "seo", "urgent"]
    assert_idle(bridge)
    names = [lb["name"] for lb in bridge.trello.call("GET", f"/boards/{card['idBoard']}/labels")]
    assert names.count("urgent") == names.count("seo") == 1


def test_a_label_whose_create_answer_was_lost_is_not_made_twice(bridge: Bridge):
    task, card = one_task(bridge)
    control = bridge.trello_app.state.control
    control.set_faults(drop_after_rate=1.0, methods=["POST"], path_prefix="/1/boards")
    bridge.pms.update("tasks", task["id"], tags=["blocked"])
    bridge.sync()
    control.clear_faults()
    bridge.sync()
    names = [lb["name"] for lb in bridge.trello.call("GET", f"/boards/{card['idBoard']}/labels")]
    assert names.count("blocked") == 1
    assert label_names(the_card(bridge)) == ["blocked"]
    assert_idle(bridge)


def test_checklist_items_sync_both_ways_item_by_item(bridge: Bridge):
    checklist = [{"text": "Draft", "done": False}, {"text": "Review", "done": False}]
    task, card = one_task(bridge, checklist=checklist)
    assert items(card) == [("Draft", False), ("Review", False)]
    assert_idle(bridge)

    # Trello checks one item and adds one; Custompms renames the other, at the same time.
    (trello_list,) = card["checklists"]
    draft = next(i for i in trello_list["checkItems"] if i["name"] == "Draft")
    bridge.trello.call("PUT", f"/cards/{card['id']}/checkItem/{draft['id']}", state="complete")
    bridge.trello.call("POST", f"/checklists/{trello_list['id']}/checkItems", name="Ship")
    current = bridge.pms.get("tasks", task["id"])["checklist"]
    renamed = [dict(i, text="Review twice") if i["text"] == "Review" else i for i in current]
    bridge.pms.update("tasks", task["id"], checklist=renamed)
    bridge.sync()
    expected = [("Draft", True), ("Review twice", False), ("Ship", False)]
    assert items(the_card(bridge)) == expected
    pms_items = bridge.pms.get("tasks", task["id"])["checklist"]
    assert [(i["text"], i["done"]) for i in pms_items] == expected
    assert_idle(bridge)

    # Custompms removes an item and reorders the rest.
    pms_items = bridge.pms.get("tasks", task["id"])["checklist"]
    bridge.pms.update("tasks", task["id"], checklist=[pms_items[2], pms_items[0]])
    bridge.sync()
    assert items(the_card(bridge)) == [("Ship", False), ("Draft", True)]
    assert_idle(bridge)


def test_a_checklist_whose_create_answer_was_lost_is_made_once(bridge: Bridge):
    task, card = one_task(bridge)
    control = bridge.trello_app.state.control
    control.set_faults(drop_after_rate=1.0, methods=["POST"], path_prefix="/1/cards")
    bridge.pms.update("tasks", task["id"], checklist=[{"text": "One", "done": False}])
    bridge.sync()
    control.clear_faults()
    bridge.sync()
    card = the_card(bridge)
    assert [c["name"] for c in card["checklists"]] == ["Checklist"]
    assert items(card) == [("One", False)]
    assert_idle(bridge)


def test_links_and_url_attachments_sync_both_ways(bridge: Bridge):
    task, card = one_task(bridge, links=[{"title": "Spec", "url": "https://example.com/spec"}])
    assert [(a["name"], a["url"]) for a in card["attachments"]] == [
        ("Spec", "https://example.com/spec")
    ]
    assert_idle(bridge)
    bridge.trello.call(
        "POST", f"/cards/{card['id']}/attachments", url="https://example.com/mock", name="Mock"
    )
    bridge.sync()
    links = bridge.pms.get("tasks", task["id"])["links"]
    assert sorted((x["title"], x["url"]) for x in links) == [
        ("Mock", "https://example.com/mock"),
        ("Spec", "https://example.com/spec"),
    ]
    assert_idle(bridge)
    bridge.pms.update("tasks", task["id"], links=[x for x in links if x["title"] == "Mock"])
    bridge.sync()
    assert [a["name"] for a in the_card(bridge)["attachments"]] == ["Mock"]
    assert_idle(bridge)


def people_flow_file(tmp_path: Path, people: str) -> Path:
    text = default_flows_path().read_text(encoding="utf-8").replace("people: {}", people)
    path = tmp_path / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_assignees_and_members_sync_through_the_people_map(bridge: Bridge, tmp_path: Path):
    (tmp_path / "people.csv").write_text("email,trello\ncarol@example.com,@carol\n")
    flows = people_flow_file(
        tmp_path,
        "people: {bob@example.com: bob, erin@example.com: erin}\n        people_file: people.csv",
    )
    bridge.settings = bridge.settings.model_copy(update={"flows": flows})
    world = bridge.trello_app.state.world
    bob = world.add_member("bob", "Bob", "")
    carol = world.add_member("carol", "Carol", "")
    world.add_member("dave", "Dave", "")  # in no people map
    erin = world.add_member("erin", "Erin", "")  # on no board
    for email in ("bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"):
        bridge.pms.create("people", email=email, name=email.split("@")[0])
    seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    board = bridge.only_board()
    for member in (bob, carol):
        bridge.trello.call("PUT", f"/boards/{board['id']}/members/{member.id}")
    task = bridge.pms.all("tasks")[0]

    bridge.pms.update("tasks", task["id"], assignees=["bob@example.com"])
    bridge.sync()
    card = the_card(bridge)
    assert [m["username"] for m in card["members"]] == ["bob"]
    assert_idle(bridge)

    bridge.trello.call("POST", f"/cards/{card['id']}/idMembers", value=carol.id)
    bridge.sync()
    assert bridge.pms.get("tasks", task["id"])["assignees"] == [
        "bob@example.com",
        "carol@example.com",
    ]
    assert_idle(bridge)

    # Dave has no Trello username in the map: only the assignees are set aside, with what
    # to do; the title still syncs.
    bridge.pms.update(
        "tasks", task["id"], title="Renamed", assignees=["bob@example.com", "dave@example.com"]
    )
    report = bridge.sync()
    card = the_card(bridge)
    assert card["name"] == "Renamed"
    assert sorted(m["username"] for m in card["members"]) == ["bob", "carol"]
    letters = [d for d in bridge.store().dead_letters() if d.operation == "property:assignees"]
    assert len(letters) == 1 and "dave@example.com" in letters[0].error
    assert "people" in letters[0].error
    assert any("dave@example.com" in p for p in report.problems)

    # Erin is in the map but not on the board: the card gets what it can, the assignees
    # are set aside with what to do, and adding her to the board settles it.
    bridge.pms.update(
        "tasks",
        task["id"],
        title="Renamed again",
        assignees=["bob@example.com", "carol@example.com", "erin@example.com"],
    )
    bridge.sync()
    assert the_card(bridge)["name"] == "Renamed again"
    letters = [d for d in bridge.store().dead_letters() if d.operation == "property:assignees"]
    assert len(letters) == 1 and "@erin is not a member of board" in letters[0].error
    bridge.trello.call("PUT", f"/boards/{board['id']}/members/{erin.id}")
    bridge.sync()
    assert sorted(m["username"] for m in the_card(bridge)["members"]) == ["bob", "carol", "erin"]
    assert bridge.store().dead_letters() == []
    assert_idle(bridge)


def test_a_card_made_in_trello_brings_its_parts_and_a_renamed_label_renames_the_tag(
    bridge: Bridge,
):
    seed(bridge.pms, tasks=0, comments=False)
    bridge.sync()
    board = bridge.only_board()
    todo = bridge.trello.call("POST", "/lists", name="To Do", idBoard=board["id"])["id"]
    card = bridge.trello.call("POST", "/cards", idList=todo, name="From Trello")
    bridge.trello.call("POST", f"/cards/{card['id']}/labels", name="ops", color="sky")
    checklist = bridge.trello.call("POST", f"/cards/{card['id']}/checklists", name="Checklist")
    for name in ("First", "Second"):
        bridge.trello.call("POST", f"/checklists/{checklist['id']}/checkItems", name=name)
    bridge.trello.call("POST", f"/cards/{card['id']}/attachments", url="https://example.com/a")
    bridge.sync()
    (task,) = bridge.pms.all("tasks")
    assert task["tags"] == ["ops"]
    assert [(i["text"], i["done"]) for i in task["checklist"]] == [
        ("First", False),
        ("Second", False),
    ]
    assert [(x["title"], x["url"]) for x in task["links"]] == [("", "https://example.com/a")]
    assert_idle(bridge)

    # Renaming the board's label changes no card action, yet every card's labels changed.
    labels = bridge.trello.call("GET", f"/boards/{board['id']}/labels")
    (label,) = [x for x in labels if x["name"] == "ops"]
    bridge.trello.call("PUT", f"/labels/{label['id']}", name="operations")
    bridge.sync()
    assert bridge.pms.get("tasks", task["id"])["tags"] == ["operations"]
    assert_idle(bridge)


def test_a_set_added_to_the_flow_file_later_syncs_after_one_full_sync(
    bridge: Bridge, tmp_path: Path
):
    text = default_flows_path().read_text(encoding="utf-8")
    without = tmp_path / "without-tags.yaml"
    start = text.index("      - custompms: tags\n")
    end = text.index("      - custompms: assignees\n")
    without.write_text(text[:start] + text[end:], encoding="utf-8")
    bridge.settings = bridge.settings.model_copy(update={"flows": without})
    _, card = one_task(bridge, tags=["web"])
    assert card["labels"] == []  # not mapped yet

    bridge.settings = bridge.settings.model_copy(update={"flows": default_flows_path()})
    bridge.sync(full=True)
    assert label_names(the_card(bridge)) == ["web"]
    assert_idle(bridge)


def test_a_link_retitled_on_both_sides_is_one_conflict_that_resolve_settles(bridge: Bridge):
    url = "https://example.com/spec"
    task, card = one_task(bridge, links=[{"title": "Spec", "url": url}])
    (attachment,) = card["attachments"]
    bridge.pms.update("tasks", task["id"], links=[{"title": "Spec (PMS)", "url": url}])
    time.sleep(0.05)  # Trello's edit is the newer one
    bridge.trello.call("DELETE", f"/cards/{card['id']}/attachments/{attachment['id']}")
    bridge.trello.call("POST", f"/cards/{card['id']}/attachments", url=url, name="Spec (Trello)")
    assert bridge.sync().count("conflicts") == 1
    assert [a["name"] for a in the_card(bridge)["attachments"]] == ["Spec (Trello)"]
    (conflict,) = bridge.store().conflicts()
    assert conflict.property == "links"

    result = CliRunner().invoke(
        app, ["conflicts", "resolve", str(conflict.id), "--take", "custompms"], env=env_of(bridge)
    )
    assert result.exit_code == 0, result.output
    assert [a["name"] for a in the_card(bridge)["attachments"]] == ["Spec (PMS)"]
    links = bridge.pms.get("tasks", task["id"])["links"]
    assert [(x["title"], x["url"]) for x in links] == [("Spec (PMS)", url)]
    assert_idle(bridge)
