"""Every linked card carries its backlink footer after the next cycle, even when the cycle
that created its task was killed, or failed, before writing the footer (issue 8.11).

A card made by a person gets its task created in Custompms; the executor writes the footer
on the card before it links the pair, so a kill in between leaves the create's journal
intent open, and the next cycle finds the same task again (its Idempotency-Key) and writes
the footer then.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from pmbridge.flows.backlink import BacklinkFooter
from pmbridge.flows.models import Backlink
from tests.fixtures.bridge import Bridge, seed
from tests.processes.conftest import start, wait_for

FOOTER = BacklinkFooter(Backlink(property="desc", text="Custompms task {id}", url=""))


def test_a_card_whose_task_was_created_in_a_killed_run_gets_its_footer(
    bridge: Bridge, tmp_path: Path
):
    seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    board = bridge.only_board()
    todo = next(i for i, name in bridge.trello.lists(board["id"]).items() if name == "To Do")
    card = bridge.trello.call("POST", "/cards", idList=todo, name="From Trello", desc="Typed")
    # The footer write (a card PUT) takes long to arrive: the kill lands before it acts.
    bridge.trello_app.state.control.set_faults(
        latency_ms=5000, methods=["PUT"], path_prefix="/1/cards"
    )
    process = start(bridge, tmp_path, "sync")

    def linked() -> bool:
        with bridge.store() as store:
            return any(link.trello_id == card["id"] for link in store.links("tasks"))

    wait_for(linked, within=30, what="the task made from the card and its link")
    time.sleep(0.3)  # the footer's PUT is on its way, held by the latency
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    bridge.trello_app.state.control.clear_faults()

    bridge.sync()
    (task,) = [t for t in bridge.pms.all("tasks") if t["title"] == "From Trello"]
    desc = bridge.trello.call("GET", f"/cards/{card['id']}", fields="desc")["desc"]
    assert FOOTER.strip(desc) == ("Typed", task["id"])
