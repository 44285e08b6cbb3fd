"""``ServerWindow``: what the client makes of Trello's ``x-rate-limit-*-remaining`` counts."""

from __future__ import annotations

from pmbridge.systems.trello.limiter import ServerWindow


def sent(window: ServerWindow, n: int) -> list[int]:
    return [window.count() for _ in range(n)]


def test_nothing_is_known_before_the_first_answer() -> None:
    window = ServerWindow(floor=2)
    sent(window, 500)
    assert window.blocked_until(now=0.0) is None


def test_requests_sent_since_an_answer_are_subtracted_from_its_count() -> None:
    window = ServerWindow(floor=2)
    first, *_ = sent(window, 10)
    window.observe(first, remaining=12, interval_s=10.0, now=1.0)  # 9 more on their way
    assert window.left() == 3
    assert window.blocked_until(now=1.5) is None
    window.count()
    assert window.left() == 2
    assert window.blocked_until(now=1.5) == 11.0  # the window ends 10 s after that answer


def test_an_older_answer_arriving_late_changes_nothing() -> None:
    window = ServerWindow(floor=0)
    one, two = sent(window, 2)
    window.observe(two, remaining=5, interval_s=10.0, now=1.0)
    window.observe(one, remaining=6, interval_s=10.0, now=1.2)
    assert window.left() == 5


def test_a_count_that_went_up_means_a_new_window() -> None:
    window = ServerWindow(floor=1)
    first = window.count()
    window.observe(first, remaining=99, interval_s=10.0, now=0.1)
    batch = sent(window, 98)
    window.observe(batch[-1], remaining=1, interval_s=10.0, now=9.0)
    assert window.blocked_until(now=9.0) == 10.1
    later = window.count()
    window.observe(later, remaining=99, interval_s=10.0, now=10.3)  # Trello started afresh
    assert window.left() == 99
    assert window.blocked_until(now=10.3) is None


def test_a_window_that_should_have_ended_but_did_not_is_given_another_interval() -> None:
    window = ServerWindow(floor=1)
    window.observe(window.count(), remaining=1, interval_s=10.0, now=0.0)
    assert window.blocked_until(now=5.0) == 10.0
    assert window.blocked_until(now=10.0) is None  # past the estimate: try
    window.observe(window.count(), remaining=0, interval_s=10.0, now=10.2)  # still spent
    assert window.blocked_until(now=10.2) == 20.2
