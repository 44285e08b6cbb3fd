"""Canonical values: the same normalisation both ways, so values never drift."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from pmbridge.flows import load_flows
from pmbridge.flows.values import canonical, native

FLOWS = load_flows()
TASKS = FLOWS.get("tasks")


def no_links(flow, via, side, id):
    return None


def test_text_normalises_line_endings_and_trailing_space_both_ways():
    desc = TASKS.property("description")
    assert canonical(desc, "trello", "a  \r\nb\r\n\r\n", no_links) == "a\nb"
    assert canonical(desc, "custompms", "a\nb", no_links) == "a\nb"


def test_instants_compare_in_utc_with_milliseconds():
    due = TASKS.property("due_at")
    oslo = timezone(timedelta(hours=1))
    a = canonical(due, "custompms", datetime(2026, 3, 1, 14, 30, tzinfo=oslo), no_links)
    b = canonical(due, "trello", datetime(2026, 3, 1, 13, 30, 0, 999, tzinfo=UTC), no_links)
    assert a == b == "2026-03-01T13:30:00.000Z"


def test_date_only_values_stay_dates_through_a_round_trip():
    due = TASKS.property("due_at")
    day = canonical(due, "custompms", date(2026, 3, 1), no_links)
    assert day == "2026-03-01"
    on_trello = native(due, "trello", day, no_links)
    assert isinstance(on_trello, datetime) and on_trello.tzinfo is not None
    assert canonical(due, "trello", on_trello, no_links) == "2026-03-01"
    assert native(due, "custompms", day, no_links) == date(2026, 3, 1)


def test_instants_round_trip_without_drift_over_many_cycles():
    due = TASKS.property("due_at")
    value = canonical(due, "custompms", datetime(2026, 5, 17, 8, 30, 15, 123000, UTC), no_links)
    for _ in range(10):
        value = canonical(due, "trello", native(due, "trello", value, no_links), no_links)
        value = canonical(due, "custompms", native(due, "custompms", value, no_links), no_links)
    assert value == "2026-05-17T08:30:15.123Z"


def test_status_maps_to_list_names_and_back():
    status = TASKS.property("status")
    assert native(status, "trello", "in_progress", no_links) == "Doing"
    assert canonical(status, "trello", "Doing", no_links) == "in_progress"
