"""Feed cursors and the write journal (intents recorded before a create, completed after)."""

from __future__ import annotations

from datetime import UTC

import pytest

from pmbridge.errors import StoreError
from pmbridge.store import DuplicateIntentError, Store, open_store


def test_cursors_are_kept_per_side_kind_and_scope(store: Store) -> None:
    assert store.get_cursor("custompms", "task") is None
    store.set_cursor("custompms", "task", "41")
    store.set_cursor("custompms", "task", "42")
    store.set_cursor("trello", "board-actions", "a1", scope="board-1")
    store.set_cursor("trello", "board-actions", "b1", scope="board-2")
    assert store.get_cursor("custompms", "task") == "42"
    assert store.get_cursor("custompms", "project") is None
    assert store.get_cursor("trello", "board-actions", "board-1") == "a1"
    assert store.get_cursor("trello", "board-actions", scope="board-2") == "b1"
    assert store.get_cursor("trello", "board-actions") is None
    assert store.cursors() == {("custompms", "task"): "42"}
    assert store.cursors("board-2") == {("trello", "board-actions"): "b1"}


def test_an_intent_is_open_until_completed(store: Store) -> None:
    intent = store.add_intent("task", "trello", "cp-1", "task:cp-1", {"name": "Ship", "pos": 2})
    assert intent.is_open and intent.operation == "create"
    assert intent.payload == {"name": "Ship", "pos": 2}
    assert intent.created_at.tzinfo == UTC
    assert store.open_intents() == [intent]
    assert store.find_intent("task:cp-1") == intent

    done = store.complete_intent(intent.id, "tr-9")
    assert not done.is_open and done.result_id == "tr-9"
    assert done.completed_at is not None and done.completed_at >= intent.created_at
    assert store.open_intents() == []
    assert store.find_intent("task:cp-1") == done
    assert store.find_intent("task:cp-2") is None


def test_open_intents_by_flow_oldest_first(store: Store) -> None:
    a = store.add_intent("task", "trello", "cp-1", "k1", {})
    b = store.add_intent("project", "custompms", "tr-5", "k2", {})
    c = store.add_intent("task", "custompms", "tr-6", "k3", [1, 2])
    assert store.open_intents() == [a, b, c]
    assert store.open_intents("task") == [a, c]
    assert store.open_intents(flow="customer") == []


def test_completing_twice_with_the_same_result_is_harmless(store: Store) -> None:
    intent = store.add_intent("task", "trello", "cp-1", "k1", {})
    first = store.complete_intent(intent.id, "tr-9")
    assert store.complete_intent(intent.id, "tr-9") == first
    with pytest.raises(StoreError, match="already completed as tr-9, not tr-10"):
        store.complete_intent(intent.id, "tr-10")
    with pytest.raises(StoreError, match="journal intent 999 does not exist"):
        store.complete_intent(999, "tr-9")


def test_an_idempotency_key_is_journaled_once(store_url: str) -> None:
    with open_store(store_url) as first, open_store(store_url) as second:
        held = first.add_intent("task", "trello", "cp-1", "task:cp-1", {})
        with pytest.raises(DuplicateIntentError) as caught:
            second.add_intent("task", "trello", "cp-1", "task:cp-1", {})
        assert caught.value.existing == held
        assert str(caught.value) == (
            f"a write with idempotency key 'task:cp-1' is already journaled "
            f"(intent {held.id}, still open)"
        )
        assert len(second.open_intents()) == 1


def test_bad_intents_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="target_side must be 'custompms' or 'trello', not 'jira'"):
        store.add_intent("task", "jira", "cp-1", "k1", {})
    with pytest.raises(ValueError, match="the intent's payload must be plain JSON"):
        store.add_intent("task", "trello", "cp-1", "k1", {"x": {1, 2}})
    assert store.open_intents() == []
