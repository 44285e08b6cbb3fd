"""Each flow, both directions, over real HTTP against both sandboxes."""

from __future__ import annotations

from tests.fixtures.bridge import Bridge, on_both_stores, seed


def by_name(items: list[dict], key: str = "name") -> dict[str, dict]:
    return {item[key]: item for item in items}


@on_both_stores
def test_first_sync_creates_workspace_board_cards_and_comments(bridge: Bridge):
    data = seed(bridge.pms, tasks=2)
    report = bridge.sync()

    assert report.errors == 0, report.problems
    orgs = bridge.trello.organizations()
    assert [o["displayName"] for o in orgs] == ["Acme"]
    assert orgs[0]["desc"] == "Anvils" and orgs[0]["website"] == "https://acme.example"
    board = bridge.only_board()
    assert board["name"] == "Website" and board["desc"] == "New site"
    lists = bridge.trello.lists(board["id"])
    cards = by_name(bridge.trello.cards(board["id"]))
    assert set(cards) == {"Task 0", "Task 1", "About this project"}
    task0 = data["tasks"][0]
    assert lists[cards["Task 0"]["idList"]] == "To Do"
    assert cards["Task 0"]["desc"].startswith("Do thing 0\n\n---\n")
    assert f"Custompms task {task0['id']}" in cards["Task 0"]["desc"]
    comments = {
        c["data"]["text"]: c["data"]["card"]["id"] for c in bridge.trello.comments(board["id"])
    }
    assert comments == {
        "On Task 0": cards["Task 0"]["id"],
        "On Task 1": cards["Task 1"]["id"],
        "Kick-off on Monday": cards["About this project"]["id"],
    }
    assert report.count("created") == 1 + 1 + 2 + 3 + 1  # org, board, cards, comments, about card


@on_both_stores
def test_an_idle_second_cycle_writes_nothing_anywhere(bridge: Bridge):
    seed(bridge.pms, tasks=3)
    bridge.sync()
    bridge.reset_counts()
    report = bridge.sync()
    counts = bridge.counts()
    assert counts["trello"]["writes"] == 0, counts["trello"]["by_route"]
    assert counts["custompms"]["writes"] == 0, counts["custompms"]["by_route"]
    assert report.writes == 0


def test_after_the_demos_moves_no_sync_writes_anything_even_a_full_one(bridge: Bridge):
    """The demo's path: a person moves a card to another list on Trello and pmbridge moves
    another (a status edited in Custompms). Trello renumbers the siblings in those lists
    without recording an action; that is no one's edit, so nothing is written after."""
    data = seed(bridge.pms, tasks=4, comments=False)
    for task in data["tasks"][2:]:
        bridge.pms.update("tasks", task["id"], status="in_progress")
    bridge.sync()
    board = bridge.only_board()
    lists = {name: id for id, name in bridge.trello.lists(board["id"]).items()}
    cards = {c["name"]: c for c in bridge.trello.cards(board["id"])}
    bridge.trello.call("PUT", f"/cards/{cards['Task 0']['id']}", idList=lists["Doing"])
    bridge.pms.update("tasks", data["tasks"][1]["id"], status="in_progress")
    bridge.sync()
    renumbered = {c["name"]: c["pos"] for c in bridge.trello.cards(board["id"])}
    assert any(renumbered[n] != cards[n]["pos"] for n in ("Task 2", "Task 3")), renumbered
    bridge.reset_counts()

    assert bridge.sync().writes == 0
    assert bridge.sync(full=True).writes == 0
    counts = bridge.counts()
    assert counts["trello"]["writes"] == counts["custompms"]["writes"] == 0


def test_a_card_a_person_drags_carries_its_position_to_custompms_even_on_a_full_read(
    bridge: Bridge,
):
    data = seed(bridge.pms, tasks=2, comments=False)
    bridge.sync()
    board = bridge.only_board()
    card = next(c for c in bridge.trello.cards(board["id"]) if c["name"] == "Task 1")
    bridge.trello.call("PUT", f"/cards/{card['id']}", pos="top")
    moved = bridge.trello.call("GET", f"/cards/{card['id']}")["pos"]

    bridge.sync(full=True)

    assert bridge.pms.get("tasks", data["tasks"][1]["id"])["position"] == moved


def test_edits_on_trello_reach_custompms(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    board = bridge.only_board()
    card = by_name(bridge.trello.cards(board["id"]))["Task 0"]
    doing = bridge.trello.call("POST", "/lists", name="Doing", idBoard=board["id"])
    bridge.trello.call(
        "PUT",
        f"/cards/{card['id']}",
        name="Task 0, renamed on Trello",
        idList=doing["id"],
        due="2026-12-24T15:30:00.000Z",
        dueComplete="true",
    )
    bridge.trello.call("PUT", f"/boards/{board['id']}", desc="Board desc from Trello")
    report = bridge.sync()
    assert report.errors == 0, report.problems

    task = bridge.pms.get("tasks", data["tasks"][0]["id"])
    assert task["title"] == "Task 0, renamed on Trello"
    assert task["status"] == "in_progress"
    assert task["due_at"].startswith("2026-12-24T15:30:00")
    assert task["completed"] is True
    assert (
        bridge.pms.get("projects", data["project"]["id"])["description"] == "Board desc from Trello"
    )


def test_edits_in_custompms_reach_trello(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    task_id = data["tasks"][0]["id"]
    bridge.pms.update(
        "tasks", task_id, title="Renamed in PMS", status="done", description="New text"
    )
    bridge.pms.update("customers", data["customer"]["id"], name="Acme Corp")
    report = bridge.sync()
    assert report.errors == 0, report.problems

    board = bridge.only_board()
    card = by_name(bridge.trello.cards(board["id"]))["Renamed in PMS"]
    assert bridge.trello.lists(board["id"])[card["idList"]] == "Done"
    assert card["desc"].startswith("New text\n\n---\n")
    assert [o["displayName"] for o in bridge.trello.organizations()] == ["Acme Corp"]


def test_new_card_and_comment_on_trello_become_task_and_comment(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    board = bridge.only_board()
    todo = next(i for i, n in bridge.trello.lists(board["id"]).items() if n == "To Do")
    card = bridge.trello.call("POST", "/cards", idList=todo, name="Made on Trello", desc="by hand")
    bridge.trello.call("POST", f"/cards/{card['id']}/actions/comments", text="Looks good")
    report = bridge.sync()
    assert report.errors == 0, report.problems

    tasks = by_name(bridge.pms.all("tasks"), "title")
    made = tasks["Made on Trello"]
    assert made["project_id"] == data["project"]["id"]
    assert made["description"] == "by hand" and made["status"] == "todo"
    comments = [c for c in bridge.pms.all("comments") if c["task_id"] == made["id"]]
    assert [(c["text"], c["author"]) for c in comments] == [("Looks good", "Test User")]
    # The card now carries its backlink, and nothing is created twice.
    desc = bridge.trello.call("GET", f"/cards/{card['id']}")["desc"]
    assert desc.startswith("by hand\n\n---\n") and made["id"] in desc
    bridge.reset_counts()
    bridge.sync()
    assert bridge.counts()["custompms"]["writes"] == 0
    assert bridge.counts()["trello"]["writes"] == 0
    assert len(bridge.pms.all("tasks")) == 2


def test_new_workspace_content_on_trello_reaches_custompms(bridge: Bridge):
    data = seed(bridge.pms, tasks=0, comments=False)
    bridge.sync()
    org = bridge.trello.organizations()[0]
    board = bridge.trello.call(
        "POST", "/boards/", name="Made on Trello", idOrganization=org["id"], defaultLists="false"
    )
    report = bridge.sync()
    assert report.errors == 0, report.problems
    projects = by_name(bridge.pms.all("projects"))
    assert projects["Made on Trello"]["customer_id"] == data["customer"]["id"]
    # A project comment on the new board's "About this project" card.
    bridge.pms.create(
        "comments", project_id=projects["Made on Trello"]["id"], author="Eve", text="Hi"
    )
    bridge.sync()
    names = [c["name"] for c in bridge.trello.cards(board["id"])]
    assert names == ["About this project"]
