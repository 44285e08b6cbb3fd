"""The board-feed cursor: Trello's ``since=<id>`` works to the second, so the actions of the
cursor's second come back; none may be read twice, and none may be lost."""

from __future__ import annotations

import pytest

from pmbridge.errors import ConfigError
from pmbridge.systems.trello.cursor import (
    BoardPosition,
    advance,
    dump,
    parse,
    start_position,
    unseen,
)

# Two actions made in the same second (same 8-hex time prefix), one a second later.
A = {"id": "6b0805b0" + "0" * 15 + "1"}
B = {"id": "6b0805b0" + "0" * 15 + "2"}
C = {"id": "6b0805b1" + "0" * 15 + "0"}


def test_the_boundary_second_is_not_read_twice() -> None:
    after_listing = start_position(A)
    # Trello answers since=A with everything from A's second on, A itself included.
    fresh = unseen(after_listing, [C, B, A])
    assert fresh == [C, B]
    position = advance(after_listing, fresh)
    assert position == BoardPosition(C["id"], frozenset({C["id"]}))
    assert unseen(position, [C]) == []


def test_an_action_of_the_same_second_that_sorts_lower_is_not_lost() -> None:
    # B was read first; A (same second, lower id, e.g. another server) shows up later.
    position = advance(start_position(B), [])
    assert unseen(position, [B, A]) == [A]
    assert advance(position, [A]).seen == frozenset({A["id"], B["id"]})


def test_a_board_without_actions_reads_its_feed_from_the_start() -> None:
    empty = start_position(None)
    assert empty.since is None
    assert unseen(empty, [B, A]) == [B, A]
    assert advance(empty, [B, A]).since == B["id"]


def test_the_cursor_text_round_trips_and_is_deterministic() -> None:
    positions = {"b2": advance(start_position(A), [B]), "b1": start_position(None)}
    text = dump(positions)
    assert parse(text) == positions
    assert dump(parse(text)) == text
    assert parse(None) == {}


@pytest.mark.parametrize("bad", ["", "[]", '{"v": 2, "boards": {}}', '{"v": 1}', "nope"])
def test_a_foreign_cursor_is_refused_with_what_to_do(bad: str) -> None:
    with pytest.raises(ConfigError, match="reset the cursor"):
        parse(bad)
