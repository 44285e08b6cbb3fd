"""Memos: what a connector keeps between runs, per system, as JSON values by key."""

from __future__ import annotations

import pytest

from pmbridge.store import Store, SystemMemo, open_store


def test_a_memo_keeps_json_values_per_system_across_openings(store_url: str) -> None:
    lists = {"lists": [{"id": "l1", "name": "To Do", "closed": False, "pos": 1.5}], "at": None}
    with open_store(store_url) as store:
        trello = SystemMemo(store, "trello")
        assert trello.load() == {}
        trello.save({"lists:b1": lists, "lists:b2": {"lists": []}})
        SystemMemo(store, "custompms").save({"lists:b1": "another system's"})
    with open_store(store_url) as again:
        assert SystemMemo(again, "trello").load() == {"lists:b1": lists, "lists:b2": {"lists": []}}
        assert SystemMemo(again, "custompms").load() == {"lists:b1": "another system's"}


def test_saving_replaces_a_value_and_none_deletes_it(store: Store) -> None:
    memo = SystemMemo(store, "trello")
    memo.save({"a": {"n": 1}, "b": {"n": 2}})
    memo.save({"a": {"n": 3}, "b": None, "gone": None})
    assert memo.load() == {"a": {"n": 3}}
    assert store.memo("custompms") == {}


def test_a_value_that_is_not_json_is_refused_before_anything_is_written(store: Store) -> None:
    memo = SystemMemo(store, "trello")
    with pytest.raises(ValueError, match="the memo value 'bad' must be plain JSON"):
        memo.save({"good": 1, "bad": {1, 2}})
    assert memo.load() == {}


def test_a_read_only_memo_reads_but_writes_nothing(store: Store) -> None:
    SystemMemo(store, "trello").save({"a": 1})
    dry = SystemMemo(store, "trello", read_only=True)
    dry.save({"a": 2, "b": 3})
    assert dry.load() == {"a": 1}
