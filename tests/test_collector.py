"""The schedule of the collector's full collections (no Textual: the app picks the moment)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from qoder_tui.collector import CHECK_EVERY, MIDDLE_COLLECTIONS, OUT_OF_REACH, FullCollections


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        yield gc.get_threshold()
    finally:
        gc.set_threshold(*before)


def _middle_collections(n: int) -> None:
    for _ in range(n):
        gc.collect(1)


def _grow_oldest(by: float) -> list[list[int]]:
    """Objects the collector tracks, moved into the oldest generation: `by` times as many
    as it holds now."""
    held = [[i] for i in range(int(len(gc.get_objects(generation=2)) * by) + 1)]
    gc.collect(1)  # (the middle generation's survivors move to the oldest)
    return held


def test_python_no_longer_starts_full_collections_and_gets_its_thresholds_back(
    thresholds: tuple[int, int, int],
) -> None:
    full = FullCollections()
    full.start(young=5000)
    try:
        assert gc.get_threshold() == (5000, 10, OUT_OF_REACH)
        before = gc.get_count()[2]
        _middle_collections(MIDDLE_COLLECTIONS * 3)
        assert gc.get_count()[2] == before + MIDDLE_COLLECTIONS * 3  # no full one in between
    finally:
        full.stop()
    assert gc.get_threshold() == thresholds


def test_a_full_collection_is_due_when_python_would_have_started_one(
    thresholds: tuple[int, int, int],
) -> None:
    clock = Clock()
    full = FullCollections(clock)
    full.start()
    try:
        gc.collect()
        assert not full.due()  # the middle generation not collected often enough yet
        _middle_collections(MIDDLE_COLLECTIONS + 1)
        assert not full.due()  # (the first count: growth is measured from it)
        held = _grow_oldest(0.1)
        clock.now += CHECK_EVERY
        assert not full.due(), "due after the oldest generation grew by a tenth"
        more = _grow_oldest(0.3)
        assert not full.due(), "counted again before CHECK_EVERY was over"
        clock.now += CHECK_EVERY
        assert full.due(), "not due after the oldest generation grew by a third"
        assert full.due_since == clock.now
        counts = full.counts
        assert full.due()  # (stays due until collected, without counting)
        assert full.counts == counts
        full.collect()
        assert full.collections == 1 and gc.get_count()[2] == 0
        assert full.due_since is None
        assert not full.due()
        del held, more
    finally:
        full.stop()


def test_the_oldest_generation_is_counted_only_after_a_middle_collection(
    thresholds: tuple[int, int, int],
) -> None:
    """Counting it takes milliseconds: an app whose middle generation is not collected (an
    idle one) counts it no more, however much time goes by."""
    clock = Clock()
    full = FullCollections(clock)
    full.start()
    try:
        _middle_collections(MIDDLE_COLLECTIONS + 1)
        assert not full.due() and full.counts == 1
        for _ in range(3):
            clock.now += CHECK_EVERY
            assert not full.due()
        assert full.counts == 1
        _middle_collections(1)
        clock.now += CHECK_EVERY
        assert not full.due() and full.counts == 2
    finally:
        full.stop()


def test_nothing_is_due_before_the_schedule_starts_or_after_it_stops(
    thresholds: tuple[int, int, int],
) -> None:
    clock = Clock()
    full = FullCollections(clock)
    _middle_collections(MIDDLE_COLLECTIONS + 1)
    assert not full.due() and not full.running
    full.start()
    full.stop()
    assert not full.due() and gc.get_threshold() == thresholds
