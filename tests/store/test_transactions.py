"""``store.transaction()``: all or nothing."""

from __future__ import annotations

import pytest

from pmbridge.errors import StoreError
from pmbridge.store import Conflict, Link, Store, Transaction


class Crash(Exception):
    pass


def _write_everything(tx: Transaction) -> int:
    tx.put_link(Link("task", "cp-1", "tr-1", base={"title": "Ship"}))
    tx.set_cursor("custompms", "task", "42")
    intent = tx.add_intent("task", "trello", "cp-2", "task:cp-2", {})
    tx.add_conflict(Conflict("task", "cp-1", "tr-1", "title", "a", "b", "c", "hold"))
    tx.add_dead_letter("task", "trello", "cp-3", "create", "boom", {})
    return intent.id


def test_a_transaction_commits_when_its_block_ends(store: Store) -> None:
    with store.transaction() as tx:
        _write_everything(tx)
        # Its own writes are visible inside it.
        assert tx.get_link("task", trello_id="tr-1") is not None
        assert tx.count_links("task") == 1
    assert store.count_links("task") == 1
    assert store.get_cursor("custompms", "task") == "42"
    assert len(store.open_intents()) == 1
    assert len(store.conflicts("held")) == 1
    assert len(store.dead_letters()) == 1


def test_a_transaction_rolls_back_on_exception(store: Store) -> None:
    store.set_cursor("custompms", "task", "41")
    with pytest.raises(Crash), store.transaction() as tx:
        _write_everything(tx)
        tx.set_cursor("custompms", "task", "43")
        raise Crash
    assert store.count_links("task") == 0
    assert store.get_cursor("custompms", "task") == "41"
    assert store.open_intents() == []
    assert store.find_intent("task:cp-2") is None
    assert store.conflicts() == []
    assert store.dead_letters() == []


def test_a_store_error_inside_rolls_back_too(store: Store) -> None:
    with (
        pytest.raises(StoreError, match="journal intent 77 does not exist"),
        store.transaction() as tx,
    ):
        tx.put_link(Link("task", "cp-1", "tr-1"))
        tx.complete_intent(77, "tr-1")
    assert store.count_links("task") == 0
