"""When the collector's full collections run: at a moment no key is waiting on one.

Python starts a full collection (every generation) once the middle generation has been
collected more than ten times since the last one and the objects moved into the oldest
generation since then number more than a quarter of those it held after it.  With this
app's code and Textual loaded a full collection takes 50-90 ms here (85,000 objects
tracked, most of them functions, classes and their dicts, which no app can shed), and
during a live burst one starts about every 20,000 events: a key pressed meanwhile is not
even read until it is over (the collector holds the interpreter).

`FullCollections` takes that one decision over and keeps the rule: Python's own full
collections are put out of reach (the oldest generation's threshold), `due()` says when
Python would have started one, and the app runs it at a moment of its choosing (`collect`).
The young and middle generations are collected as before.  Nothing is frozen or skipped:
every object is still looked at, a little later.  No Textual here: the screen decides when.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

MIDDLE_COLLECTIONS = 10
"""Collections of the middle generation since the last full one before a full one can be
due (Python's own rule: its oldest generation's threshold)."""

GROWTH = 0.25
"""A full collection is due once the oldest generation has grown by this share of what it
held after the last one (Python's own rule)."""

CHECK_EVERY = 1.0
"""Seconds between two counts of the oldest generation (a count takes 2-5 ms here)."""

OUT_OF_REACH = 1_000_000
"""The oldest generation's threshold while this schedule runs: Python never gets there."""


class FullCollections:
    """Python's rule for full collections, run when the app says (see the module)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._thresholds: tuple[int, int, int] | None = None
        self._after_last: int | None = None
        """Objects in the oldest generation after the last full collection."""
        self._checked = float("-inf")
        self._counted_at = -1
        """The middle generation's collections (since the last full one) at the last count."""
        self._due = False
        self.due_since: float | None = None
        """When a full collection became due (by the clock), until it runs."""
        self.collections = 0
        """Full collections run by this schedule (for the bench and tests)."""
        self.counts = 0
        """Counts of the oldest generation made (for tests)."""

    @property
    def running(self) -> bool:
        return self._thresholds is not None

    def start(self, young: int | None = None) -> None:
        """Take over full collections (and set the young generation's threshold, if given)."""
        if self._thresholds is not None:
            return
        self._thresholds = thresholds = gc.get_threshold()
        gc.set_threshold(young or thresholds[0], thresholds[1], OUT_OF_REACH)

    def stop(self) -> None:
        """Give full collections back to Python, with its thresholds as they were."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def due(self) -> bool:
        """Whether Python would have started a full collection by now.  Counting the oldest
        generation (2-5 ms here) is done at most every CHECK_EVERY seconds, only once the
        middle one has been collected often enough, and only if it has been collected since
        the last count (as Python looks only then): an idle app counts nothing."""
        if self._thresholds is None or self._due:
            return self._due
        middle = gc.get_count()[2]
        if middle <= MIDDLE_COLLECTIONS or middle == self._counted_at:
            return False
        now = self._clock()
        if now - self._checked < CHECK_EVERY:
            return False
        self._checked, self._counted_at = now, middle
        self.counts += 1
        held = len(gc.get_objects(generation=2))
        if self._after_last is None:
            self._after_last = held  # (the first count: growth is measured from here)
            return False
        self._due = held - self._after_last > self._after_last * GROWTH
        if self._due:
            self.due_since = now
        return self._due

    def collect(self) -> None:
        """A full collection, now."""
        gc.collect()
        self.collections += 1
        self._due, self.due_since = False, None
        self._after_last = len(gc.get_objects(generation=2))
        self._checked, self._counted_at = self._clock(), -1
