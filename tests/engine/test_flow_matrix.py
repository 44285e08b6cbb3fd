"""Every flow row, both directions: create, update and delete starting from each side."""

from __future__ import annotations

from tests.fixtures.bridge import Bridge, seed


def test_customers_both_ways(bridge: Bridge):
    data = seed(bridge.pms, tasks=0, comments=False)
    bridge.sync()
    [org] = bridge.trello.organizations()
    # Update from Trello.
    bridge.trello.call(
        "PUT",
        f"/organizations/{org['id']}",
        desc="Edited on Trello",
        website="https://acme.example/new",
    )
    bridge.sync()
    customer = bridge.pms.get("customers", data["customer"]["id"])
    assert customer["description"] == "Edited on Trello"
    assert customer["website"] == "https://acme.example/new"
    # Create from Trello: new workspaces are found by the full reconciliation.
    bridge.trello.call("POST", "/organizations", displayName="Initech", desc="From Trello")
    bridge.sync(full=True)
    names = {c["name"]: c for c in bridge.pms.all("customers")}
    assert names["Initech"]["description"] == "From Trello"
    # Delete: workspaces are never deleted, and a deleted workspace deletes no customer.
    bridge.pms.delete("customers", data["customer"]["id"])
    initech = next(o for o in bridge.trello.organizations() if o["displayName"] == "Initech")
    bridge.trello.call("DELETE", f"/organizations/{initech['id']}")
    report = bridge.sync(full=True)
    assert report.errors == 0, report.problems
    assert any(o["id"] == org["id"] for o in bridge.trello.organizations())
    assert bridge.pms.get("customers", names["Initech"]["id"]) is not None
    with bridge.store() as store:
        assert store.links("customers") == []


def test_projects_both_ways(bridge: Bridge):
    data = seed(bridge.pms, tasks=0, comments=False)
    bridge.sync()
    board = bridge.only_board()
    bridge.pms.update("projects", data["project"]["id"], name="Website 2.0")
    bridge.sync()
    assert bridge.trello.call("GET", f"/boards/{board['id']}")["name"] == "Website 2.0"
    # Closing a board archives its project, and reopening brings it back.
    bridge.trello.call("PUT", f"/boards/{board['id']}", closed="true")
    bridge.sync()
    assert bridge.pms.get("projects", data["project"]["id"])["archived"] is True
    bridge.pms.update("projects", data["project"]["id"], archived=False)
    bridge.sync()
    assert bridge.trello.call("GET", f"/boards/{board['id']}")["closed"] is False
    # A deleted project archives (closes) its board.
    bridge.pms.delete("projects", data["project"]["id"])
    bridge.sync()
    assert bridge.trello.call("GET", f"/boards/{board['id']}")["closed"] is True
    # A board deleted on Trello archives its project.
    org = bridge.trello.organizations()[0]
    other = bridge.pms.create("projects", customer_id=data["customer"]["id"], name="Intranet")
    bridge.sync()
    made = next(b for b in bridge.trello.boards(org["id"]) if b["name"] == "Intranet")
    bridge.trello.call("DELETE", f"/boards/{made['id']}")
    report = bridge.sync()
    assert report.errors == 0, report.problems
    assert bridge.pms.get("projects", other["id"])["archived"] is True


def test_task_comments_edit_both_ways(bridge: Bridge):
    seed(bridge.pms, tasks=1)
    bridge.sync()
    board = bridge.only_board()
    [mine] = [c for c in bridge.pms.all("comments") if c["text"] == "On Task 0"]
    bridge.pms.update("comments", mine["id"], text="On Task 0, edited in PMS")
    bridge.sync()
    texts = {c["data"]["text"] for c in bridge.trello.comments(board["id"])}
    assert "On Task 0, edited in PMS" in texts and "On Task 0" not in texts


def test_project_comments_both_ways(bridge: Bridge):
    data = seed(bridge.pms, tasks=0)
    bridge.sync()
    board = bridge.only_board()
    about = next(c for c in bridge.trello.cards(board["id"]) if c["name"] == "About this project")
    # Create on Trello → a project comment in Custompms.
    made = bridge.trello.call("POST", f"/cards/{about['id']}/actions/comments", text="From Trello")
    bridge.sync()
    comments = {c["text"]: c for c in bridge.pms.all("comments")}
    assert comments["From Trello"]["project_id"] == data["project"]["id"]
    assert comments["From Trello"]["task_id"] is None
    # Update from Custompms → Trello; delete on Trello → gone from Custompms.
    kick_off = comments["Kick-off on Monday"]
    bridge.pms.update("comments", kick_off["id"], text="Kick-off moved to Tuesday")
    bridge.trello.call("DELETE", f"/actions/{made['id']}")
    report = bridge.sync(full=True)
    assert report.errors == 0, report.problems
    texts = {c["data"]["text"] for c in bridge.trello.comments(board["id"])}
    assert texts == {"Kick-off moved to Tuesday"}
    assert {c["text"] for c in bridge.pms.all("comments")} == {"Kick-off moved to Tuesday"}
    # Delete in Custompms → gone from Trello.
    bridge.pms.delete("comments", kick_off["id"])
    bridge.sync()
    assert bridge.trello.comments(board["id"]) == []


def test_moving_a_task_to_another_project_moves_its_card(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    other = bridge.pms.create("projects", customer_id=data["customer"]["id"], name="Second")
    bridge.sync()
    bridge.pms.update("tasks", data["tasks"][0]["id"], project_id=other["id"], status="done")
    report = bridge.sync()
    assert report.errors == 0, report.problems
    org = bridge.trello.organizations()[0]
    boards = {b["name"]: b for b in bridge.trello.boards(org["id"])}
    cards = bridge.trello.cards(boards["Second"]["id"])
    assert [c["name"] for c in cards] == ["Task 0"]
    assert bridge.trello.lists(boards["Second"]["id"])[cards[0]["idList"]] == "Done"
    assert [c["name"] for c in bridge.trello.cards(boards["Website"]["id"])] == []
    # And back, from Trello: moving the card to the first board moves the task.
    first_list = next(iter(bridge.trello.lists(boards["Website"]["id"])), None)
    if first_list is None:
        first_list = bridge.trello.call(
            "POST", "/lists", name="To Do", idBoard=boards["Website"]["id"]
        )["id"]
    bridge.trello.call(
        "PUT", f"/cards/{cards[0]['id']}", idBoard=boards["Website"]["id"], idList=first_list
    )
    bridge.sync()
    assert bridge.pms.get("tasks", data["tasks"][0]["id"])["project_id"] == data["project"]["id"]


def test_a_card_moved_to_an_unmapped_list_is_unlinked_not_deleted(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    board = bridge.only_board()
    card = bridge.trello.cards(board["id"])[0]
    parked = bridge.trello.call("POST", "/lists", name="Parking lot", idBoard=board["id"])
    bridge.trello.call("PUT", f"/cards/{card['id']}", idList=parked["id"])
    report = bridge.sync()
    assert report.count("unlinked") == 1 and report.count("deleted") == 0
    assert bridge.pms.get("tasks", data["tasks"][0]["id"])["status"] == "todo"
    with bridge.store() as store:
        assert store.links("tasks") == []


def test_every_task_property_crosses_both_ways(bridge: Bridge):
    data = seed(bridge.pms, tasks=2, comments=False)
    bridge.sync()
    board = bridge.only_board()
    cards = {c["name"]: c for c in bridge.trello.cards(board["id"])}
    t0, t1 = (t["id"] for t in data["tasks"])
    # Trello → Custompms: archive, position, start, completion.
    bridge.trello.call(
        "PUT",
        f"/cards/{cards['Task 0']['id']}",
        closed="true",
        pos="12345",
        start="2026-03-02T09:00:00.000Z",
        dueComplete="true",
    )
    # Custompms → Trello: the same properties on the other task.
    bridge.pms.update(
        "tasks",
        t1,
        archived=True,
        position=777.5,
        completed=True,
        start_at="2026-04-01T10:30:00Z",
        due_at="2026-04-02",
    )
    report = bridge.sync()
    assert report.errors == 0, report.problems
    task0 = bridge.pms.get("tasks", t0)
    assert (task0["archived"], task0["position"], task0["completed"]) == (True, 12345.0, True)
    assert task0["start_at"].startswith("2026-03-02T09:00:00")
    card1 = bridge.trello.call("GET", f"/cards/{cards['Task 1']['id']}")
    assert (card1["closed"], card1["pos"], card1["dueComplete"]) == (True, 777.5, True)
    assert card1["start"] == "2026-04-01T10:30:00.000Z"
    assert card1["due"] == "2026-04-02T12:00:00.000Z"  # a date: noon UTC on Trello
    assert bridge.pms.get("tasks", t1)["due_at"] == "2026-04-02"  # and still a date here
