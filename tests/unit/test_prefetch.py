"""The prefetch window follows the consumer's pace."""

from __future__ import annotations

from jira_server.client.prefetch import MIN_AHEAD, PrefetchWindow


def test_the_window_starts_small_and_opens_while_the_consumer_waits() -> None:
    window = PrefetchWindow(8)
    assert window.size == MIN_AHEAD
    for _ in range(3):
        window.record(consumer_waited=True)
    assert window.size == MIN_AHEAD + 3


def test_slow_consumer_shrinks_the_window_to_a_couple_of_pages() -> None:
    window = PrefetchWindow(8)
    for _ in range(10):
        window.record(consumer_waited=False)
    assert window.size == MIN_AHEAD


def test_waiting_consumer_gets_every_slot_back() -> None:
    window = PrefetchWindow(8)
    for _ in range(10):
        window.record(consumer_waited=False)
    for _ in range(10):
        window.record(consumer_waited=True)
    assert window.size == 8


def test_a_limit_below_the_minimum_is_respected() -> None:
    window = PrefetchWindow(1)
    window.record(consumer_waited=False)
    assert window.size == 1
