"""First run over data that exists on both sides; values that never drift; dry runs."""

from __future__ import annotations

from collections import Counter

from tests.fixtures.bridge import Bridge, on_both_stores, seed


@on_both_stores
def test_first_run_links_existing_objects_by_match_key_without_duplicates(bridge: Bridge):
    data = seed(bridge.pms, tasks=2, comments=False)
    # The same customer, project and one task already exist on Trello, made by hand.
    org = bridge.trello.call("POST", "/organizations", displayName="ACME")
    board = bridge.trello.call(
        "POST", "/boards/", name="website", idOrganization=org["id"], defaultLists="false"
    )
    todo = bridge.trello.call("POST", "/lists", name="To Do", idBoard=board["id"])
    card = bridge.trello.call("POST", "/cards", idList=todo["id"], name="Task 0", desc="old")
    report = bridge.sync()
    assert report.errors == 0, report.problems

    assert len(bridge.trello.organizations()) == 1
    assert [b["id"] for b in bridge.trello.boards(org["id"])] == [board["id"]]
    names = Counter(c["name"] for c in bridge.trello.cards(board["id"]))
    assert names == {"Task 0": 1, "Task 1": 1}
    assert len(bridge.pms.all("customers")) == len(bridge.pms.all("projects")) == 1
    assert len(bridge.pms.all("tasks")) == 2
    assert report.count("linked") == 3
    with bridge.store() as store:
        assert store.get_link("tasks", trello_id=card["id"]).custompms_id == data["tasks"][0]["id"]
    # The linked card gained its backlink; the differing description was settled by the
    # conflict policy and the other value kept in the conflict log.
    desc = bridge.trello.call("GET", f"/cards/{card['id']}")["desc"]
    assert data["tasks"][0]["id"] in desc
    with bridge.store() as store:
        assert {c.property for c in store.conflicts()} >= {"description"}


def test_ambiguous_matches_are_not_linked_but_created(bridge: Bridge):
    pms = bridge.pms
    customer = pms.create("customers", name="Solo", description="", website=None)
    project = pms.create("projects", customer_id=customer["id"], name="P", description="")
    for _ in range(2):
        pms.create(
            "tasks",
            project_id=project["id"],
            title="Same",
            description="",
            status="todo",
            completed=False,
            archived=False,
        )
    org = bridge.trello.call("POST", "/organizations", displayName="Solo")
    board = bridge.trello.call(
        "POST", "/boards/", name="P", idOrganization=org["id"], defaultLists="false"
    )
    todo = bridge.trello.call("POST", "/lists", name="To Do", idBoard=board["id"])
    bridge.trello.call("POST", "/cards", idList=todo["id"], name="Same")
    report = bridge.sync()
    assert report.errors == 0, report.problems
    # Two tasks and one card share a name: no guess is made; each is created on the other side.
    assert Counter(c["name"] for c in bridge.trello.cards(board["id"]))["Same"] == 3
    assert Counter(t["title"] for t in pms.all("tasks"))["Same"] == 3


def test_no_value_drifts_over_ten_cycles_of_edits_on_alternating_sides(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    task_id = data["tasks"][0]["id"]
    bridge.pms.update(
        "tasks",
        task_id,
        due_at="2026-07-01",
        start_at="2026-06-01T08:15:30.250Z",
        description="line one  \r\nline two\r\n",
    )
    bridge.sync()
    board = bridge.only_board()
    card_id = next(c["id"] for c in bridge.trello.cards(board["id"]) if c["name"] == "Task 0")
    for cycle in range(10):
        if cycle % 2:
            bridge.trello.call("PUT", f"/cards/{card_id}", name=f"title {cycle}")
        else:
            bridge.pms.update("tasks", task_id, title=f"title {cycle}")
        report = bridge.sync()
        assert report.errors == 0 and report.count("conflicts") == 0, report.problems
        task = bridge.pms.get("tasks", task_id)
        card = bridge.trello.call("GET", f"/cards/{card_id}")
        assert task["title"] == card["name"] == f"title {cycle}"
        assert task["due_at"] == "2026-07-01"
        assert task["start_at"].startswith("2026-06-01T08:15:30.25")
        assert task["description"].replace("\r\n", "\n").rstrip() in (
            "line one  \nline two",
            "line one\nline two",
        )
        assert card["desc"].count("---") == 1 and len(card["desc"]) < 200
        assert card["start"] == "2026-06-01T08:15:30.250Z"
    bridge.reset_counts()
    bridge.sync()
    assert bridge.counts()["trello"]["writes"] == bridge.counts()["custompms"]["writes"] == 0


def test_dry_run_reports_the_plan_and_writes_nothing(bridge: Bridge):
    seed(bridge.pms, tasks=3)
    bridge.reset_counts()
    report = bridge.sync(dry_run=True)
    assert report.dry_run and report.count("created") == 1 + 1 + 3 + 4 + 1
    assert bridge.counts()["trello"]["writes"] == bridge.counts()["custompms"]["writes"] == 0
    assert bridge.trello.organizations() == []
    with bridge.store() as store:
        assert store.links("tasks") == [] and store.runs() == []
    assert bridge.sync().count("created") == 10
