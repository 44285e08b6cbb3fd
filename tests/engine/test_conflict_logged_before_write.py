"""A conflict's losing value reaches the conflict log even when the winning write acted but
its answer was lost (issue 8.11: found by ``bench.torture``'s storm, where a title edited on
both sides ended with the winner on both sides and nothing in the log).

The planner puts a pair's ``Conflict`` actions before its ``Update``, so the conflict is
logged before the winning write; a write that fails before it acts makes the next cycle
find the same conflict again, which is not logged twice.
"""

from __future__ import annotations

from pmbridge.errors import CycleStopped
from tests.fixtures.bridge import Bridge, seed


def test_the_losing_value_is_logged_when_the_winning_write_acted_but_failed(bridge: Bridge):
    data = seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    task = data["tasks"][0]
    (card,) = bridge.trello.cards(bridge.only_board()["id"])
    bridge.trello.call("PUT", f"/cards/{card['id']}", name="Title typed on Trello")
    bridge.pms.update("tasks", task["id"], title="Title typed in Custompms")  # newer: wins
    # Every card write acts, then loses its answer.
    bridge.trello_app.state.control.set_faults(
        drop_after_rate=1.0, methods=["PUT"], path_prefix="/1/cards"
    )
    try:
        bridge.sync()
    except CycleStopped:
        pass  # whether the run stops or goes on, the conflict was seen
    bridge.trello_app.state.control.clear_faults()
    bridge.sync()

    assert bridge.pms.get("tasks", task["id"])["title"] == "Title typed in Custompms"
    with bridge.store() as store:
        losing = [c.trello_value for c in store.conflicts(flow="tasks")]
    assert losing == ["Title typed on Trello"]
