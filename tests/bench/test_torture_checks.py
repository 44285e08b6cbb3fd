"""The torture benchmark's checks find what they look for: a checker that cannot fail would
make the benchmark's zeros worthless."""

from __future__ import annotations

from typing import Any

from bench.torture_checks import Edit, World, check

FOOTER = "\n\n---\n[Custompms task {id}](http://pms/tasks/{id})"


def world(**changes: Any) -> World:
    """One customer, project, task and comment, linked and equal on both sides."""
    task = {
        "id": "t1",
        "project_id": "p1",
        "title": "Fix",
        "description": "Do it",
        "status": "todo",
        "archived": False,
    }
    base = World(
        pms={
            "customers": [{"id": "c1", "name": "Acme"}],
            "projects": [{"id": "p1", "customer_id": "c1", "name": "Web", "archived": False}],
            "tasks": [task],
            "comments": [{"id": "m1", "task_id": "t1", "text": "hi"}],
        },
        orgs=[{"id": "o1", "displayName": "Acme"}],
        boards=[{"id": "b1", "idOrganization": "o1", "name": "Web", "closed": False}],
        lists={"l1": {"id": "l1", "idBoard": "b1", "name": "To Do", "closed": False}},
        cards=[
            {
                "id": "k1",
                "idBoard": "b1",
                "idList": "l1",
                "name": "Fix",
                "desc": "Do it" + FOOTER.format(id="t1"),
                "closed": False,
            }
        ],
        comments=[{"id": "a1", "data": {"card": {"id": "k1"}, "text": "hi"}}],
        links={
            "customers": {"c1": "o1"},
            "projects": {"p1": "b1"},
            "tasks": {"t1": "k1"},
            "project_comments": {},
            "task_comments": {"m1": "a1"},
        },
        conflicts=[],
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_an_equal_linked_pair_is_clean():
    assert check(world(), [Edit("custompms", "t1", "title", "Fix")]).clean


def test_a_second_card_naming_the_same_task_is_a_duplicate():
    twin = {**world().cards[0], "id": "k2", "name": "Fix again"}
    found = check(world(cards=[*world().cards, twin]))
    assert found.duplicates == ["footer naming task 't1' ×2"]
    assert found.unpaired == ["card k2 'Fix again' has no task"]


def test_a_card_without_its_footer_and_a_changed_title_are_found():
    card = {**world().cards[0], "desc": "Do it", "name": "Fixed"}
    found = check(world(cards=[card]))
    assert found.missing_footers == ["card k1 'Fixed' of task t1: its footer names None"]
    assert found.unequal == ["task t1 title: Custompms 'Fix' ≠ Trello 'Fixed'"]


def test_an_edit_that_did_not_arrive_is_lost_unless_the_conflict_log_has_it():
    edit = Edit("trello", "k1", "title", "Fix now")
    assert len(check(world(), [edit]).lost_edits) == 1

    class Logged:
        custompms_id, custompms_value, trello_value = "t1", "Fix", "Fix now"

    assert check(world(conflicts=[Logged()]), [edit]).lost_edits == []
