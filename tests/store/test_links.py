"""Links: one Custompms record ↔ one Trello object per flow, with the agreed base values."""

from __future__ import annotations

import threading
import time
from datetime import UTC

import pytest

from pmbridge.store import Link, LinkConflictError, Store, open_store


def test_a_link_is_found_by_either_id(store: Store) -> None:
    stored = store.put_link(
        Link(
            "task",
            "cp-1",
            "tr-1",
            base={"title": "Ship", "due": "2025-01-02T03:04:05.678Z", "done": False, "pos": 1.5},
            custompms_version="7",
        )
    )
    assert store.get_link("task", custompms_id="cp-1") == stored
    assert store.get_link("task", trello_id="tr-1") == stored
    assert store.get_link("task", custompms_id="cp-1", trello_id="tr-1") == stored
    assert store.get_link("task", custompms_id="cp-1", trello_id="tr-2") is None
    assert store.get_link("project", custompms_id="cp-1") is None
    assert stored.base == {
        "title": "Ship",
        "due": "2025-01-02T03:04:05.678Z",
        "done": False,
        "pos": 1.5,
    }
    assert stored.custompms_version == "7"
    assert stored.created_at is not None and stored.created_at.tzinfo == UTC
    assert stored.updated_at == stored.created_at


def test_get_link_needs_an_id(store: Store) -> None:
    with pytest.raises(ValueError, match="get_link needs custompms_id or trello_id"):
        store.get_link("task")


def test_put_link_replaces_the_link_of_a_custompms_record(store: Store) -> None:
    first = store.put_link(Link("task", "cp-1", "tr-1", base={"title": "Ship"}))
    second = store.put_link(Link("task", "cp-1", "tr-2", base={"title": "Ship it"}))
    assert store.count_links("task") == 1
    assert store.get_link("task", trello_id="tr-1") is None
    assert store.get_link("task", trello_id="tr-2") == second
    assert second.base == {"title": "Ship it"}
    assert second.created_at == first.created_at
    assert first.updated_at is not None and second.updated_at is not None
    assert second.updated_at >= first.updated_at


def test_links_are_listed_and_counted_per_flow(store: Store) -> None:
    for n in (3, 1, 2):
        store.put_link(Link("task", f"cp-{n}", f"tr-{n}"))
    store.put_link(Link("project", "cp-1", "tr-1"))
    assert [link.custompms_id for link in store.links("task")] == ["cp-1", "cp-2", "cp-3"]
    assert store.count_links("task") == 3
    assert store.count_links("project") == 1
    assert store.count_links("customer") == 0


def test_delete_link(store: Store) -> None:
    store.put_link(Link("task", "cp-1", "tr-1"))
    assert store.delete_link("task", "cp-1") is True
    assert store.delete_link("task", "cp-1") is False
    assert store.get_link("task", trello_id="tr-1") is None
    # The Trello object is free to be linked again.
    store.put_link(Link("task", "cp-2", "tr-1"))


def test_a_trello_object_cannot_have_two_custompms_partners(store: Store) -> None:
    store.put_link(Link("task", "cp-1", "tr-1"))
    with pytest.raises(LinkConflictError) as caught:
        store.put_link(Link("task", "cp-2", "tr-1"))
    assert str(caught.value) == (
        "cannot link custompms cp-2 to trello tr-1 in flow 'task': trello tr-1 is already "
        "linked to custompms cp-1 (another worker may have linked it first)"
    )
    assert caught.value.existing is not None and caught.value.existing.custompms_id == "cp-1"
    assert store.get_link("task", custompms_id="cp-2") is None
    # Another flow may link the same ids.
    store.put_link(Link("board", "cp-2", "tr-1"))


def test_a_refused_link_leaves_the_transaction_usable(store: Store) -> None:
    store.put_link(Link("task", "cp-1", "tr-1"))
    with store.transaction() as tx:
        tx.put_link(Link("task", "cp-3", "tr-3"))
        with pytest.raises(LinkConflictError):
            tx.put_link(Link("task", "cp-2", "tr-1"))
        tx.set_cursor("trello", "board-actions", "abc")
    assert store.get_link("task", custompms_id="cp-3") is not None
    assert store.get_cursor("trello", "board-actions") == "abc"


def test_base_must_be_plain_json(store: Store) -> None:
    with pytest.raises(ValueError, match=r"Link\.base must be plain JSON"):
        store.put_link(Link("task", "cp-1", "tr-1", base={"when": object()}))
    with pytest.raises(ValueError, match=r"Link\.base must be a JSON object, not list"):
        store.put_link(Link("task", "cp-1", "tr-1", base=["x"]))  # type: ignore[arg-type]
    assert store.count_links("task") == 0


def test_two_workers_linking_one_trello_object_at_once_exactly_one_wins(store_url: str) -> None:
    with open_store(store_url) as first, open_store(store_url) as second:
        outcomes: dict[str, object] = {}
        start = threading.Barrier(2)

        def link(worker: Store, custompms_id: str) -> None:
            start.wait()
            try:
                outcomes[custompms_id] = worker.put_link(Link("task", custompms_id, "tr-1"))
            except LinkConflictError as err:
                outcomes[custompms_id] = err

        threads = [
            threading.Thread(target=link, args=(first, "cp-a")),
            threading.Thread(target=link, args=(second, "cp-b")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        winners = [cp for cp, outcome in outcomes.items() if isinstance(outcome, Link)]
        losers = [cp for cp, outcome in outcomes.items() if isinstance(outcome, LinkConflictError)]
        assert len(winners) == 1 and len(losers) == 1
        assert "already linked to custompms " + winners[0] in str(outcomes[losers[0]])
        assert [link.custompms_id for link in first.links("task")] == winners


def test_a_worker_waits_for_an_open_transaction_then_loses_the_race(store_url: str) -> None:
    with open_store(store_url) as first, open_store(store_url) as second:
        outcome: list[object] = []

        def late_link() -> None:
            try:
                outcome.append(second.put_link(Link("task", "cp-b", "tr-1")))
            except LinkConflictError as err:
                outcome.append(err)

        with first.transaction() as tx:
            tx.put_link(Link("task", "cp-a", "tr-1"))
            late = threading.Thread(target=late_link)
            late.start()
            time.sleep(0.3)  # the second worker is now blocked behind this transaction
            assert outcome == []
        late.join(timeout=30)
        assert len(outcome) == 1 and isinstance(outcome[0], LinkConflictError)
        assert [link.custompms_id for link in second.links("task")] == ["cp-a"]
