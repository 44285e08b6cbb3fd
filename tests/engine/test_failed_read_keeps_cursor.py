"""A feed read that failed does not move its cursor: the changes it would have brought
arrive with the next cycle, and a ``sync --full`` afterwards finds nothing left to write
(issue 8.11, "incremental cycles missed changes")."""

from __future__ import annotations

import contextlib

from pmbridge.errors import CycleStopped
from tests.fixtures.bridge import Bridge, seed


def test_edits_behind_a_failed_trello_feed_read_arrive_with_the_next_cycle(bridge: Bridge):
    data = seed(bridge.pms, tasks=2, comments=False)
    bridge.sync()
    cards = {card["name"]: card for card in bridge.trello.cards(bridge.only_board()["id"])}
    bridge.trello.call("PUT", f"/cards/{cards['Task 0']['id']}", name="Renamed on Trello")
    bridge.pms.update("tasks", data["tasks"][1]["id"], title="Renamed in Custompms")
    # Every read of a board (its action feed among them) fails, however often it is tried.
    control = bridge.trello_app.state.control
    control.set_faults(error_rate=1.0, methods=["GET"], path_prefix="/1/boards/")
    with contextlib.suppress(CycleStopped):
        bridge.sync()
    control.clear_faults()
    assert bridge.pms.get("tasks", data["tasks"][0]["id"])["title"] == "Task 0"  # not read

    bridge.sync()
    titles = sorted(task["title"] for task in bridge.pms.all("tasks"))
    assert titles == ["Renamed in Custompms", "Renamed on Trello"]
    names = sorted(card["name"] for card in bridge.trello.cards(bridge.only_board()["id"]))
    assert names == titles
    bridge.reset_counts()
    bridge.sync(full=True)
    counts = bridge.counts()
    assert (counts["trello"]["writes"], counts["custompms"]["writes"]) == (0, 0)
