"""The conflict log, the dead-letter list and the run history."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pmbridge.errors import StoreError
from pmbridge.store import Conflict, Store, open_store


def _conflict(**changes: object) -> Conflict:
    values: dict[str, object] = {
        "flow": "task",
        "custompms_id": "cp-1",
        "trello_id": "tr-1",
        "property": "title",
        "base_value": "Ship",
        "custompms_value": "Ship it",
        "trello_value": "Ship now",
        "policy": "newest",
        "winner": "trello",
        "custompms_changed_at": datetime(2025, 1, 2, 10, 0, tzinfo=UTC),
        "trello_changed_at": datetime(2025, 1, 2, 12, 30, tzinfo=timezone(timedelta(hours=2))),
    }
    values.update(changes)
    return Conflict(**values)  # type: ignore[arg-type]


def test_a_conflict_settled_by_policy_keeps_both_values(store: Store) -> None:
    conflict_id = store.add_conflict(_conflict())
    stored = store.get_conflict(conflict_id)
    assert stored is not None
    assert stored.id == conflict_id
    assert stored.status == "resolved_by_policy" and stored.winner == "trello"
    assert (stored.base_value, stored.custompms_value, stored.trello_value) == (
        "Ship",
        "Ship it",
        "Ship now",
    )
    # Instants come back as the same instant, in UTC.
    assert stored.trello_changed_at == datetime(2025, 1, 2, 10, 30, tzinfo=UTC)
    assert stored.trello_changed_at is not None and stored.trello_changed_at.tzinfo == UTC
    assert stored.created_at is not None and stored.resolved_at is None
    assert stored.resolution is None
    assert store.get_conflict(conflict_id + 1) is None


def test_values_of_any_json_type_round_trip(store: Store) -> None:
    conflict_id = store.add_conflict(
        _conflict(base_value=None, custompms_value=[1, "two", None], trello_value={"a": 1.5})
    )
    stored = store.get_conflict(conflict_id)
    assert stored is not None
    assert stored.base_value is None
    assert stored.custompms_value == [1, "two", None]
    assert stored.trello_value == {"a": 1.5}


def test_a_held_conflict_waits_for_a_person(store: Store) -> None:
    policy_id = store.add_conflict(_conflict())
    held_id = store.add_conflict(_conflict(winner=None, policy="hold", property="due"))
    assert [c.id for c in store.conflicts()] == [policy_id, held_id]
    assert [c.id for c in store.conflicts("held")] == [held_id]
    assert [c.id for c in store.conflicts(status="resolved_by_policy")] == [policy_id]
    assert store.conflicts(flow="project") == []

    resolved = store.resolve_conflict(held_id, "custompms")
    assert (resolved.status, resolved.resolution, resolved.winner) == (
        "resolved",
        "custompms",
        None,
    )
    assert resolved.resolved_at is not None and resolved.resolved_at.tzinfo == UTC
    assert store.conflicts("held") == []
    assert store.get_conflict(held_id) == resolved


def test_a_person_can_override_a_policy_once(store: Store) -> None:
    conflict_id = store.add_conflict(_conflict(winner="trello"))
    assert store.resolve_conflict(conflict_id, "custompms").resolution == "custompms"
    with pytest.raises(StoreError, match=f"conflict {conflict_id} was already resolved"):
        store.resolve_conflict(conflict_id, "trello")
    with pytest.raises(StoreError, match="conflict 4242 does not exist"):
        store.resolve_conflict(4242, "trello")
    with pytest.raises(ValueError, match="take must be 'custompms' or 'trello', not 'both'"):
        store.resolve_conflict(conflict_id, "both")


def test_bad_conflicts_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="add_conflict takes a new conflict, not conflict 3"):
        store.add_conflict(_conflict(id=3))
    with pytest.raises(ValueError, match="status 'held' cannot have winner 'trello'"):
        store.add_conflict(_conflict(status="held"))
    with pytest.raises(ValueError, match="conflict status must be one of"):
        store.conflicts("open")
    assert store.conflicts() == []


def test_a_failing_write_is_dead_lettered_and_counted(store: Store) -> None:
    first = store.add_dead_letter("task", "trello", "cp-1", "create", "400 invalid due", {"a": 1})
    again = store.add_dead_letter("task", "trello", "cp-1", "create", "400 bad pos", {"a": 2})
    other = store.add_dead_letter("task", "trello", "cp-1", "update", "boom", {})
    assert first.attempts == 1 and first.first_failed_at == first.last_failed_at
    assert first.first_failed_at.tzinfo == UTC
    assert (again.id, again.attempts, again.error, again.payload) == (
        first.id,
        2,
        "400 bad pos",
        {"a": 2},
    )
    assert again.first_failed_at == first.first_failed_at
    assert again.last_failed_at >= first.last_failed_at
    assert store.dead_letters() == [again, other]
    assert store.dead_letters("project") == []

    assert store.clear_dead_letter("task", "trello", "cp-1", "create") is True
    assert store.clear_dead_letter("task", "trello", "cp-1", "create") is False
    assert store.dead_letters(flow="task") == [other]


def test_concurrent_failures_of_one_write_are_all_counted(store_url: str) -> None:
    workers = [open_store(store_url) for _ in range(2)]
    start = threading.Barrier(len(workers))

    def fail_ten_times(worker: Store) -> None:
        start.wait()
        for n in range(10):
            worker.add_dead_letter("task", "custompms", "tr-1", "create", f"500 #{n}", {})

    try:
        threads = [threading.Thread(target=fail_ten_times, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        [letter] = workers[0].dead_letters()
        assert letter.attempts == 20
    finally:
        for worker in workers:
            worker.close()


def test_runs_are_recorded_newest_first(store: Store) -> None:
    first = store.start_run()
    second = store.start_run()
    running = store.get_run(second)
    assert running is not None and running.status == "running" and running.finished_at is None
    finished = store.finish_run(first, "partial", {"created": 2, "dead_letters": 1}, "1 failed")
    assert finished.status == "partial"
    assert finished.summary == {"created": 2, "dead_letters": 1}
    assert finished.error == "1 failed"
    assert finished.finished_at is not None and finished.finished_at >= finished.started_at
    store.finish_run(second, "ok", {})
    third = store.start_run()
    assert [run.id for run in store.runs()] == [third, second, first]
    assert [run.id for run in store.runs(limit=2)] == [third, second]
    assert store.get_run(third + 1) is None


def test_a_run_ends_once(store: Store) -> None:
    run_id = store.start_run()
    store.finish_run(run_id, "failed", None, "Trello unavailable")
    with pytest.raises(StoreError, match=f"run {run_id} already finished as 'failed'"):
        store.finish_run(run_id, "ok", {})
    with pytest.raises(StoreError, match="run 999 does not exist"):
        store.finish_run(999, "ok", {})
    with pytest.raises(ValueError, match="a run ends as one of"):
        store.finish_run(run_id, "running", {})  # type: ignore[arg-type]
