"""The event log: a Line API ScrollView that draws only what is visible.

It keeps one integer height per event (a cheap estimate until the event is
first drawn, then exact) and a prefix sum of them.  Rendering happens only
for events that intersect the viewport, and the resulting Strips live in a
small LRU cache keyed by event, width and fold state.  There is no widget
per event and no I/O while drawing.

When heights change above the reader (an older page is prepended, an
estimate is corrected, a block is unfolded), the scroll position is moved
by the same amount, so the line under the reader's eye stays put.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import accumulate
from math import ceil
from typing import Any, ClassVar, NamedTuple, Self, overload

from rich.cells import cell_len, chop_cells, set_cell_size
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from ..api.models import (
    Event,
    ModelRequestEnd,
    ModelRequestStart,
    StatusChange,
    ThreadMessage,
    ToolUse,
    UserMessage,
)
from ..filters import Filter
from ..render.events import (
    INDENT,
    MARKDOWN_KINDS,
    LongBody,
    Palette,
    RenderContext,
    agent_column,
    draw_lines,
    estimate_height,
    long_body,
    render_event,
)
from ..render.summary import summarize, type_label
from ..store import ALL_THREADS, Change, EventStore, TurnStats

GUTTER = 2
PREFETCH_SCREENS = 2
_FREE = object()


BURST_FRAME_BUDGET = 0.001
"""Seconds a frame spends drawing new events while a burst floods the view (EventLog.flooded):
a few one-line events; the rest are placeholders until the burst pauses.  (4 ms until
2026-11-28: in the ingest figure's bursts, frames took 171 ms a burst at 4 ms and 98 ms at
1 ms, with messages waiting too; the app's CPU 52.8 against 44.2 µs an event.)"""


class EventLog(ScrollView, can_focus=True):
    """Shows one EventStore.  The screen feeds it changes; it never does I/O."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Prev", show=False),
        Binding("down,j", "cursor(1)", "Next", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "top", "Top", show=False),
        Binding("end,G", "follow", "Follow", id="follow"),
        Binding("t", "to_start", "Thread start", show=False),
        Binding("enter", "activate", "Open/Jump", id="activate"),
        Binding("space", "toggle_fold", "Fold", id="fold"),
        Binding("z", "fold_all", "Fold all", id="fold-all"),
        Binding("r", "raw", "Raw JSON", id="raw"),
        Binding("c", "copy", "Copy", id="copy"),
        Binding("n", "search_next(True)", "Next match", show=False),
        Binding("N", "search_next(False)", "Previous match", show=False),
        Binding("escape", "cancel_search", "Stop search", show=False),
        Binding("e", "jump('error', True)", "Next error", show=False),
        Binding("E", "jump('error', False)", "Previous error", show=False),
        Binding("w", "jump('pending', True)", "Next waiting call", show=False),
        Binding("W", "jump('pending', False)", "Previous waiting call", show=False),
        Binding("o", "jump('handoff', True)", "Next handoff", show=False),
        Binding("O", "jump('handoff', False)", "Previous handoff", show=False),
        Binding("s", "jump('slow', True)", "Next slow model call", show=False),
        Binding("S", "jump('slow', False)", "Previous slow model call", show=False),
    ]

    follow: reactive[bool] = reactive(True, init=False, repaint=False)
    """Whether the view stays on the newest events.  Nothing is drawn from it here (the title
    says it), so a change repaints nothing: every change of it comes with a scroll or a
    refresh of what did change (the selection's lines, when a key stops following)."""

    frame_budget: float | None = 0.012
    """Seconds of Rich rendering per frame; visible events beyond it draw next frame.
    None renders everything in one frame (snapshots and screenshots use that)."""

    key_waiting: Callable[[], bool] | None = None
    """Whether a key is on its way to its binding: a frame drawn then draws no event it has
    not drawn before (placeholders instead, drawn by the frame after), as that key's frame
    waits for it to be over."""

    on_drawn: Callable[[], None] | None = None
    """Called after each time the log is drawn (the frame it is part of is then written
    before anything else runs): the screen learns when a key's effect is on screen."""

    # ------------------------------------------------------------------ messages

    class NeedOlder(Message):
        """The reader is near the top and older events exist."""

        def __init__(self, store: EventStore) -> None:
            super().__init__()
            self.store = store

    class NeedNewer(Message):
        """The reader is near the bottom of a view opened at its start: newer events exist."""

        def __init__(self, store: EventStore) -> None:
            super().__init__()
            self.store = store

    class ToStart(Message):
        """t: show this thread from its very first event."""

    class ToNewest(Message):
        """End in a view opened at its start: back to the newest events, live."""

    class Jump(Message):
        """Enter on a handoff: show the other side."""

        def __init__(self, event: ThreadMessage) -> None:
            super().__init__()
            self.event = event

    class ShowRaw(Message):
        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class CopyEvent(Message):
        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class SearchNext(Message):
        """n / N: the next match, older (n) or newer (N) than the selected event."""

        def __init__(self, older: bool) -> None:
            super().__init__()
            self.older = older

    class JumpTo(Message):
        """e w o s (older) / E W O S (newer): the next event of a kind (filters.JUMPS)."""

        def __init__(self, kind: str, older: bool) -> None:
            super().__init__()
            self.kind = kind
            self.older = older

    class CancelSearch(Message):
        """Escape: stop a search that is paging back, or stop marking matches."""

    class FollowState(Message):
        """Following changed, or events arrived while not following."""

        def __init__(self, following: bool, new_events: int) -> None:
            super().__init__()
            self.following = following
            self.new_events = new_events

        def can_replace(self, message: Message) -> bool:
            # A burst posts one per slice; only the newest matters.
            return isinstance(message, EventLog.FollowState)

    # ------------------------------------------------------------------ state

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.store: EventStore | None = None
        self.heights: list[int] = []
        self.offsets: list[int] = [0]
        """Where each event's lines begin (prefix sums of the heights, one more than them).
        Always this list, refilled in place: a trim or a prepend made a new one, and a new
        list of 50,000 ints is one the collector's next young collection walks item by item
        (16-27 ms here, with a key waiting); this one is old by then."""
        self._cache: LRUCache[tuple[object, ...], Sequence[Strip]] = LRUCache(250)
        self._frame_options: dict[int, ConsoleOptions] = {}
        self._drawn_style: Style | None = None
        """The background the cached lines carry."""
        self.toggled: set[str] = set()
        self.expand_all = False
        self.cursor_id: str | None = None
        self.loading_older = False
        self.new_events = 0
        self.label_agents = False
        self.agent_name: Callable[[str | None], str] = lambda _tid: ""
        self.waiting_on: frozenset[str] = frozenset()
        self.palette = Palette()
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._render_w = 0
        self._programmatic = False
        self._drawing = False
        """Inside render_lines: a move made while measuring is drawn by this very frame."""
        self._whole_asked = True
        """The whole log was asked to be drawn since the last frame (not only some lines)."""
        self._frame: dict[int, Sequence[Strip]] = {}
        self._line_style: Style | None = None
        self._rows: dict[object, tuple[object, Strip]] = {}
        """The rows of the last frame (see _plain_lines): what each showed, and its line."""
        self._rows_look: tuple[object, ...] = ()
        """What the kept rows were drawn for (styles, sizes, search, palette)."""
        self._estimate_ctx = RenderContext(width=80)
        self._turns: LRUCache[str, tuple[tuple[int, str | None], TurnStats | None]] = LRUCache(256)
        self._behind = False
        self._bar_behind = False
        """The scrollbar shows an older height or place (see _sync_bar)."""
        self._bar_was: object = _FREE
        """Inside _one_bar_move: where the scrollbar's thumb was when it began."""
        self.bursting = False
        """A burst is coming in (changes applied with paint=False, until burst_over): a
        frame spends BURST_FRAME_BUDGET on drawing events not drawn before, and shows the
        rest as placeholders.  Those lines are out of date at the burst's next paint, a
        quarter of a second later, and drawing them kept keys waiting."""
        self._answering = False
        """The next frame answers a key that moved the selection during a burst: it draws
        the selection and leaves what the burst left undrawn for the frame after it."""
        self._answer_lines = False
        """...and asks for the selection's lines only: it draws no event not drawn before."""
        self._dimmed: dict[str, Style] = {}
        """The style a placeholder is drawn in, for each palette's muted colour."""
        self._placeholders = False
        """The last frame left placeholders on screen (a burst's, or one drawn while a key
        was on its way): a key's frame leaves them for the frame after it, as in a burst."""
        self._screen_stale = False
        """An event on screen changed height since the log was last drawn whole (a burst's
        changes are drawn at its paints): a frame of a few lines would leave lines out of
        place."""
        self.filter: Filter | None = None
        """What the reader narrowed the log to (events that do not match take no place)."""
        self.search_query = ""
        """What the reader searched for: its occurrences are marked on screen."""

    # ------------------------------------------------------------------ public API

    def show(self, store: EventStore | None, *, label_agents: bool) -> None:
        """Show another store (or nothing), at its newest events (at its first, when it was
        opened at its start)."""
        self.store = store
        self.label_agents = label_agents
        self.cursor_id = None
        self.new_events = 0
        self.loading_older = False
        self._frame.clear()
        self._render_w = self._render_width()
        self._reestimate_all()
        if store is not None and store.has_newer:
            self._set_follow(False)
            self._scroll_y_to(0)
            self.refresh()
            self.call_after_refresh(self._maybe_need_newer)
            return
        self._set_follow(True)
        self._scroll_to_end()
        self.refresh()
        # Only once it is drawn do we know whether the page fills the view.
        self.call_after_refresh(self._maybe_need_older)

    def apply(self, change: Change, *, paint: bool = True) -> None:
        """The store changed: insert heights, re-measure changed events, keep the anchor.

        With `paint=False` (a burst still coming in), a following view does not
        move or redraw yet: `catch_up` does both, once for the whole burst.
        """
        if not paint and not change.prepended and not change.trimmed:
            self._apply(change, paint)  # (held for catch_up: nothing moves, the bar neither)
            return
        with self._one_bar_move():
            self._apply(change, paint)

    def _apply(self, change: Change, paint: bool) -> None:
        store = self.store
        if store is None or (not change.added and not change.changed and not change.trimmed):
            return
        n_added = len(change.added)
        # The store already holds the new events; our heights do not yet.  On a
        # prepend, the old index i is now i + n_added; after a trim, i - trimmed.
        anchor = self._anchor(shift=n_added if change.prepended else -change.trimmed)
        first_changed = len(self.heights)
        if change.trimmed:
            del self.heights[: change.trimmed]
            first_changed = 0
            if self.cursor_id is not None and self.cursor_id not in store:
                self.cursor_id = None
        if change.prepended:
            self.heights[0:0] = [self._estimate(e) for e in change.added]
            first_changed = 0
        elif n_added:
            first_changed = min(first_changed, len(self.heights))
            self.heights.extend(self._estimate(e) for e in change.added)
        if len(self.heights) != len(store.events):  # defensive: resynchronise
            self._reestimate_all()
        for event_id in change.changed:
            index = store.index_of(event_id)
            if index is not None:
                self.heights[index] = self._estimate(store.events[index])
                first_changed = min(first_changed, index)
        self._reindex(first_changed, resize=paint or change.prepended or bool(change.trimmed))
        host = self._selection_to_host(change.changed)
        if not change.prepended and n_added and not self.follow:
            self.new_events += n_added
            if paint:
                self.post_message(self.FollowState(False, self.new_events))
        if not paint and not change.prepended and not change.trimmed:
            self._behind = True  # nothing on screen moves until catch_up (the scrollbar neither)
            self.bursting = True
            self._screen_stale |= not self._starts_below_view(first_changed)
            return
        self._keep_place(anchor)
        if host is not None and not change.prepended and not self.follow:
            self._reveal_index(host, center=False)  # (a page paged in above stays put)
        elif (
            not self.follow
            and not change.prepended
            and not change.trimmed
            and self._starts_below_view(first_changed)
        ):
            return  # only what is below the view changed: the scrollbar has its new size
        self.refresh()
        if change.prepended:
            self._maybe_need_older()

    def _selection_to_host(self, changed: AbstractSet[str]) -> int | None:
        """When the selected event is now drawn inside another (a model request's start
        inside its end's line, a tool result inside its call's block), the selection moves
        to that one, which is what the reader sees: it stayed on an event with no line of
        its own, and no line showed it (in the demo, the first `k` often selected a
        running request, which ended a moment later).  Returns the new selection's index."""
        store = self.store
        if self.cursor_id is None or self.cursor_id not in changed or store is None:
            return None
        event = store.get(self.cursor_id)
        host = store.shown_as(event) if event is not None else None
        index = store.index_of(host.id) if host is not None and host is not event else None
        if host is None or index is None:
            return None
        self.cursor_id = host.id
        return index

    def _on_screen(self, index: int) -> bool:
        """Whether any line of the event at `index` is in the view (by the heights known)."""
        if not 0 <= index < min(len(self.heights), len(self.offsets) - 1):
            return False
        ends = 1 + self.offsets[index] + self.heights[index]  # (line 0 is the header)
        return ends > round(self.scroll_y) and not self._starts_below_view(index)

    def _starts_below_view(self, index: int) -> bool:
        """Whether the event at `index` begins below the last line on screen."""
        if index >= len(self.heights):
            return True
        view = self.scrollable_content_region.height or self.size.height
        return 1 + self.offsets[index] >= round(self.scroll_y) + view

    def burst_over(self) -> None:
        """The burst ended: frames draw every visible event again (see `bursting`)."""
        if self.bursting:
            self.bursting = False
            if self._bar_behind:
                self._sync_bar()
            self.refresh()

    def catch_up(self) -> None:
        """Move to the newest events and draw, after changes applied with `paint=False`."""
        if not self._behind:
            return
        self._behind = False
        with self._one_bar_move():
            self._resize_virtual()
            if self._bar_behind:
                self._sync_bar()
            if self.follow:
                self._scroll_to_end()
        if self.follow:
            self.refresh()
        elif self.new_events:
            self.post_message(self.FollowState(False, self.new_events))

    def set_loading_older(self, loading: bool) -> None:
        self.loading_older = loading
        self.refresh_lines(0, 1) if self.size.height else None

    def set_filter(self, query: Filter | None) -> None:
        """Show only the events that match (None: all), keeping the reader's place."""
        anchor = self._anchor()
        self.filter = query
        self.cursor_id = None
        self._reestimate_all()
        self._keep_place(anchor)
        self.refresh()
        # Few matches leave the view short: older pages then load until it fills.
        self.call_after_refresh(self._maybe_need_older)

    @property
    def reading_at(self) -> str | None:
        """The event the reader is at: the selected one, else the one on the top line (None
        while following the newest events)."""
        if self.cursor_id is not None:
            return self.cursor_id
        anchor = None if self.follow else self._anchor()
        return anchor[0] if anchor is not None else None

    @property
    def shown_count(self) -> int:
        """How many events take a place in the log (with a filter: how many match)."""
        return sum(1 for height in self.heights if height)

    def refresh_everything(self) -> None:
        """Theme or agent names changed: render again."""
        self._cache.clear()
        self.refresh()

    def select(self, event_id: str, *, center: bool = True) -> bool:
        store = self.store
        if store is None:
            return False
        index = store.index_of(event_id)
        if index is None:
            return False
        self.cursor_id = event_id
        self._set_follow(False)
        self._reveal_index(index, center=center)
        self.refresh()
        return True

    @property
    def selected(self) -> Event | None:
        store = self.store
        if store is None or self.cursor_id is None:
            return None
        return store.get(self.cursor_id)

    def is_expanded(self, event: Event) -> bool:
        return (event.id in self.toggled) != self.expand_all

    # ------------------------------------------------------------------ geometry

    def _render_width(self) -> int:
        width = self.scrollable_content_region.width or self.size.width or 80
        return max(20, width - GUTTER)

    def _ctx_for(self, event: Event) -> RenderContext:
        store = self.store
        ctx = RenderContext(
            width=self._render_w,
            expanded=self.is_expanded(event),
            agent=self.agent_name(event.thread_id) if self.label_agents else None,
            waiting_on=self.waiting_on,
            settled=store.settled(event) if store is not None else False,
            now=self.clock(),
            palette=self.palette,
        )
        fill = _CONTEXT_BY_KIND.get(type(event))
        if fill is not None and store is not None:
            fill(self, event, store, ctx)
        return ctx

    # What drawing an event of each kind needs from elsewhere (see _CONTEXT_BY_KIND).

    def _call_context(self, event: ToolUse, store: EventStore, ctx: RenderContext) -> None:
        ctx.result = store.result_for(event)

    def _request_end_context(
        self, event: ModelRequestEnd, store: EventStore, ctx: RenderContext
    ) -> None:
        ctx.started_at = store.span_start_time(event)

    def _handoff_context(self, event: ThreadMessage, store: EventStore, ctx: RenderContext) -> None:
        peer_id = event.peer_thread_id
        ctx.peer_name = self.agent_name(peer_id) if peer_id else None

    def _status_context(self, event: StatusChange, store: EventStore, ctx: RenderContext) -> None:
        if event.stop_reason and event.stop_reason.event_ids:
            ctx.waiting_calls = tuple(self._describe_call(i) for i in event.stop_reason.event_ids)

    def _user_context(self, event: UserMessage, store: EventStore, ctx: RenderContext) -> None:
        ctx.turn = self._turn(event, store)

    def _turn(self, event: UserMessage, store: EventStore) -> TurnStats | None:
        """The turn a user message starts: an ended turn is computed once, a running one
        again only when the store changed."""
        version = (len(store), store.newest_id)
        cached = self._turns.get(event.id)
        if cached is not None and (
            (cached[1] is not None and cached[1].ended) or cached[0] == version
        ):
            return cached[1]
        stats = store.turn_stats(event, self.clock())
        self._turns[event.id] = (version, stats)
        return stats

    def _describe_call(self, event_id: str) -> str:
        store = self.store
        event = store.get(event_id) if store is not None else None
        if isinstance(event, ToolUse):
            who = f"{self.agent_name(event.thread_id)}: " if event.thread_id else ""
            return f"{who}{summarize(event, limit=100)}"
        return event_id

    def _estimate(self, event: Event) -> int:
        store = self.store
        if store is not None and store.is_folded(event):
            return 0
        if (
            self.filter is not None
            and store is not None
            and not self.filter.matches(event, store, self.agent_name)
        ):
            return 0  # filtered out: it takes no place, like a folded result
        # The estimate reads only width, fold state and a call's result: one reused
        # context instead of a full one per event (this runs for every arriving event).
        ctx = self._estimate_ctx
        ctx.width = self._render_w
        ctx.expanded = self.is_expanded(event)
        ctx.result = (
            store.result_for(event) if store is not None and isinstance(event, ToolUse) else None
        )
        return estimate_height(event, ctx)

    def _reestimate_all(self) -> None:
        store = self.store
        self.heights = [self._estimate(e) for e in store.events] if store is not None else []
        self._rebuild_offsets()

    def _rebuild_offsets(self) -> None:
        self._reindex(0)

    def _reindex(self, start: int, *, resize: bool = True) -> None:
        """The prefix sums of the heights from index `start` on.

        Appending k events costs O(k), and so does re-measuring an event near the
        end: a live stream never rebuilds the whole index (a prepend or a trim
        does, once per page, in C).
        """
        start = max(0, min(start, len(self.heights), len(self.offsets) - 1))
        if start == 0:
            self.offsets[:] = accumulate(self.heights, initial=0)
        else:
            del self.offsets[start + 1 :]
            sums = accumulate(self.heights[start:], initial=self.offsets[start])
            next(sums)
            self.offsets.extend(sums)
        if resize:
            self._resize_virtual()

    def _resize_virtual(self) -> None:
        # Width 0: the log never scrolls sideways (every line is cut to the view), and a
        # width that followed the content region flipped with the vertical scrollbar,
        # showing a horizontal one and laying the screen out again each time.
        self._set_virtual_size(Size(0, self.offsets[-1] + 1))

    def _set_virtual_size(self, size: Size) -> None:
        """Update the scrollable size without a layout pass when only the scrollbar cares.

        `virtual_size` is a layout reactive: assigning it re-lays out and repaints
        the whole screen.  Growing content that already overflows changes nothing
        but the scrollbar, so then only the scrollbar is updated (a live stream
        changes the height on every drain).
        """
        old = self.virtual_size
        view = self.scrollable_content_region.height or self.size.height
        if old == size:
            return
        if (
            old.width != size.width
            or old.height <= view
            or size.height <= view
            or not self.is_mounted
        ):
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        self._programmatic = True
        try:
            if self._drawing and self.bursting:
                self._bar_behind = True  # see _sync_bar
            else:
                self._sync_bar()
            self.scroll_y = self.scroll_y  # validated again: clamped to the new height
        finally:
            self._programmatic = False

    def _sync_bar(self) -> None:
        """Bring the scrollbar to the log's height and place.

        A frame drawn during a burst leaves it behind when measuring changed either: an
        update asks for another frame, and that one drew more of the burst's events (its
        frame budget's worth) and asked again, frame after frame until the next drain.
        The burst's next paint (catch_up) or its end brings the bar along instead.
        """
        self._bar_behind = False
        self._move_bar(
            self.scroll_y,
            self.virtual_size.height,
            self.container_size.height - self.scrollbar_size_horizontal,
        )

    def _move_bar(
        self, position: float, virtual: int | None = None, window: int | None = None
    ) -> None:
        """Give the scrollbar a new place (and sizes); draw it again only if it looks different.

        Assigning a scrollbar's reactives repaints it, and its one-cell lines (41 in a
        44-row terminal) cost Textual's whole per-line work (1.3-6 ms a frame here): on a
        live stream its height and place change on every drain while its thumb, one cell
        at the bottom of a long log, stays where it is.
        """
        if not self.show_vertical_scrollbar:
            return
        bar = self.vertical_scrollbar
        with self._one_bar_move():
            if virtual is not None:
                bar.set_reactive(ScrollBar.window_virtual_size, virtual)
            if window is not None:
                bar.set_reactive(ScrollBar.window_size, window)
            bar.set_reactive(ScrollBar.position, int(position * 8) / 8)  # its validator's eighths

    @contextmanager
    def _one_bar_move(self) -> Iterator[None]:
        """The scrollbar's moves inside are one: drawn again only if where it ends differs
        from where it began (a live view grows, and the bar rises a little, then follows
        to the end, back where it was)."""
        if self._bar_was is not _FREE or not self.show_vertical_scrollbar:
            yield
            return
        bar = self.vertical_scrollbar
        self._bar_was = _thumb(bar)
        try:
            yield
        finally:
            was, self._bar_was = self._bar_was, _FREE
            now = _thumb(bar)
            if now != was:
                rows = changed_rows(was, now)
                if rows is None:
                    bar.refresh()
                else:
                    # Only the cells that look different: Textual's per-line work for each
                    # of the bar's lines was 3.2-3.6 ms of a frame here.
                    bar.refresh(Region(0, rows[0], bar.size.width, rows[1] - rows[0]))

    def _locate(self, line: int) -> tuple[int, int]:
        """(event index, line within it) of a virtual line (line 0 is the header)."""
        li = max(0, line - 1)
        index = bisect_right(self.offsets, li) - 1
        index = min(max(index, 0), max(0, len(self.heights) - 1))
        return index, li - self.offsets[index]

    def _anchor(self, shift: int = 0) -> tuple[str, int] | None:
        """The event under the top line, and how far into it the top line is."""
        store = self.store
        if store is None or not store.events or not self.heights:
            return None
        top = round(self.scroll_y)
        if top <= 0:
            if 0 < shift < len(store.events):  # a page went in above the header: keep below it
                return store.events[shift].id, -1
            return None
        index, offset = self._locate(top)
        if not 0 <= index + shift < len(store.events):
            return None  # (a trim let the top line's event go: only a following view allows it)
        return store.events[index + shift].id, offset

    def _restore(self, anchor: tuple[str, int] | None) -> None:
        store = self.store
        if anchor is None or store is None:
            return
        index = store.index_of(anchor[0])
        if index is None:
            return
        height = self.heights[index]
        if anchor[1] < 0:  # the header line was at the top: keep the old first event just below it
            self._scroll_y_to(self.offsets[index])
            return
        target = 1 + self.offsets[index] + min(anchor[1], max(0, height - 1))
        self._scroll_y_to(target)

    def _keep_place(self, anchor: tuple[str, int] | None) -> None:
        """After heights changed: at the end when following, else the same line on top."""
        if self.follow:
            self._scroll_to_end()
        else:
            self._restore(anchor)

    def _scroll_y_to(self, y: float, *, reader: bool = False) -> None:
        """Move the view.  A `reader` move is the reader's own: reaching the end follows
        again (see watch_scroll_y).

        Not Textual's `scroll_to`: that does nothing while the log has not been laid out
        since its height changed (no scrollbar yet), and a key pressed right after a view
        was shown (`t` on a short thread) was lost that way."""
        self._programmatic = not reader
        try:
            y = max(0, min(y, self.max_scroll_y))
            self.scroll_target_y = y
            self.scroll_y = y
        finally:
            self._programmatic = False

    def _scroll_to_end(self) -> None:
        self._scroll_y_to(self.max_scroll_y)

    def _reveal_index(self, index: int, *, center: bool) -> None:
        top = 1 + self.offsets[index]
        height = max(1, self.heights[index])
        view = self.scrollable_content_region.height or self.size.height
        y = self.scroll_y
        if center:
            self._scroll_y_to(top - max(0, (view - height) // 3))
        elif top < y:
            self._scroll_y_to(top)
        elif top + height > y + view:
            self._scroll_y_to(top + height - view if height <= view else top)

    # ------------------------------------------------------------------ drawing

    def _strips_for(self, index: int, *, render: bool = True) -> Sequence[Strip] | None:
        """The event's lines, each already carrying the (unselected) gutter: full width.

        With `render=False`, only what is cached (None if it would need rendering).
        """
        store = self.store
        assert store is not None
        event = store.events[index]
        ctx = self._ctx_for(event)
        key = self._strip_key(event, ctx)
        strips = self._cache.get(key)
        if strips is None and not render:
            return None
        if strips is None:
            console = self.app.console
            options = self._options_for(console, ctx.width)
            # (the widget's style and the console's options are worked out once per frame:
            # computing them is a fifth of what drawing a one-line event costs)
            style = self._line_style or self.rich_style
            try:
                body = long_body(event, ctx)
                if body is not None:
                    strips = LongStrips(console, body, ctx.width, style)
                    self._cache[key] = strips
                    return strips
                lines = draw_lines(console, render_event(event, ctx), options, style)
            except Exception as exc:  # one odd event must not take the log down
                note = Text(
                    f"{event.hhmmss}  {event.type}: could not be drawn ({type(exc).__name__}: {exc})"
                )
                note.stylize(self.palette.error)
                lines = console.render_lines(note, options, style=style, pad=True)
            gutter = Segment(" " * GUTTER, style)
            strips = SegmentLines([[gutter, *line] for line in lines], ctx.width + GUTTER)
            self._cache[key] = strips
        return strips

    def _options_for(self, console: Console, width: int) -> ConsoleOptions:
        options = self._frame_options.get(width)
        if options is None:
            options = console.options.update_width(width).update(height=None)
            if self._line_style is not None:  # inside a frame: kept until its end
                self._frame_options[width] = options
        return options

    def _strip_key(self, event: Event, ctx: RenderContext) -> tuple[object, ...]:
        live_of = _LIVE_BY_KIND.get(type(event))
        live = live_of(event, ctx) if live_of is not None else None
        return (event.id, ctx.width, ctx.expanded, ctx.agent, ctx.peer_name, live, self.palette)

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if not regions:
            self._whole_asked = True
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _measure_viewport(self, *, whole: bool = True) -> None:
        """Render the visible events; fix their heights and keep the top line still.

        When heights change, the lines below move (and the view may too): a frame asked
        for only some lines (a key that moved the selection) writes only those to the
        terminal, and the rest would stay as they were, out of place.  Such a frame asks
        for the whole log to be drawn next.
        """
        store = self.store
        self._frame = {}
        if store is None or not store.events:
            return
        width = self._render_width()
        if width != self._render_w:
            anchor = self._anchor()
            self._render_w = width
            self._reestimate_all()
            self._keep_place(anchor)
        view = self.scrollable_content_region.height or self.size.height
        budget = self.frame_budget
        later: frozenset[type[Event]] = frozenset()
        if budget is not None and (self.flooded or self._answering):
            budget = 0.0 if self._answer_lines else min(budget, BURST_FRAME_BUDGET)
            # Messages wait too: one message's Markdown can take a frame's whole budget,
            # for lines the next paint has moved past (in the ingest figure's bursts, 37
            # of them took 161 ms of 441 ms of frames).  A key's frame in a burst waits
            # for nothing more: it shows the lines as the burst left them, with the new
            # selection, and the frame after it draws the placeholders (12-16 ms of
            # drawing that held the key's frame, in tmux traces).
            later = MARKDOWN_KINDS
        self._answering = self._answer_lines = False
        if budget is not None and self.key_waiting is not None and self.key_waiting():
            budget = 0.0
        deadline = None if budget is None else time.perf_counter() + budget
        events = store.events
        deferred = False
        moved = False
        scrolled_from = self.scroll_y
        # The selected event first, whatever the budget: the key that moved the selection
        # is answered by drawing it, not its placeholder (frames draw from the top down,
        # and a key that selects the newest event of a burst found the budget spent above it).
        selected = store.index_of(self.cursor_id) if self.cursor_id is not None else None
        if selected is not None and self._on_screen(selected) and self.heights[selected]:
            self._strips_for(selected)
        for _ in range(4):
            anchor = self._anchor()
            top = round(self.scroll_y)
            index, _ = self._locate(top)
            changed = False
            covered = -self._locate(top)[1] if top > 0 else 0
            i = index
            first_changed = len(self.heights)
            while i < len(self.heights) and covered < view + 1:
                if self.heights[i] == 0:
                    i += 1
                    continue
                over = deadline is not None and time.perf_counter() > deadline
                strips = self._strips_for(i, render=not over and type(events[i]) not in later)
                if strips is None:
                    # Out of time for this frame: a placeholder of the estimated
                    # height now, the real lines next frame (keys stay answered).
                    strips = self._placeholder(i)
                    deferred = True
                elif len(strips) != self.heights[i]:
                    self.heights[i] = len(strips)
                    first_changed = min(first_changed, i)
                    changed = True
                self._frame[i] = strips
                covered += len(strips)
                i += 1
            if not changed:
                break
            moved = True
            self._frame = {}
            self._reindex(first_changed)
            self._keep_place(anchor)
        if not whole and (moved or self.scroll_y != scrolled_from):
            self.refresh()
        self._placeholders = deferred
        if deferred:
            self.set_timer(0.01, self._finish_deferred)

    @property
    def flooded(self) -> bool:
        """A burst is coming in and the view follows it: what a frame draws now is soon
        gone.  (A reader who stopped following, or scrolled up, has lines that stay.)"""
        return self.bursting and self.follow

    def _finish_deferred(self) -> None:
        # The rest of a frame's lines, drawn next.  Not while a burst floods the view: its
        # next paint (or its end, burst_over) draws them, and a frame now would show lines
        # the burst has already moved past.
        if not self.flooded:
            self.refresh()

    def _placeholder(self, index: int) -> SegmentLines:
        """An event not drawn yet (out of frame budget): its line and the start of its text,
        plain and dimmed, in the lines its estimated height keeps for it.  No Rich markup,
        markdown or wrapping: a few dozen microseconds, where drawing can take milliseconds."""
        store = self.store
        assert store is not None
        event = store.events[index]
        style = self._line_style or self.rich_style
        width = self._render_w + GUTTER
        muted = self.palette.muted
        room = max(10, width - GUTTER - INDENT)
        agent = self.agent_name(event.thread_id) if self.label_agents else ""
        who = agent_column(agent) if agent else ""  # (the columns of a drawn event's line)
        lines = [f"{event.hhmmss}  {who}{type_label(event):<8} {summarize(event, limit=room)}"]
        body = getattr(event, "text", None)
        height = max(1, self.heights[index])
        if isinstance(body, str) and height > 1:
            pad = " " * INDENT
            lines += [pad + line[:room] for line in body.split("\n", height)[1:height]]
        # A segment or two a line, as a cached event's lines are kept (SegmentLines): no
        # Rich Text, crop or Strip of their own, and a row shows them the way it shows a
        # drawn event's line (_new_row), not through render_line.
        dimmed = self._dimmed.get(muted)
        if dimmed is None:
            dimmed = self._dimmed[muted] = self.app.console.get_style(muted, default=Style.null())
        rows: list[list[Segment]] = []
        for line in lines[:height]:
            text = " " * GUTTER + line
            head = text[:width]
            if head.isascii() and head.isprintable() and text[width : width + 1].isascii():
                # One cell a character, so the first `width` of them are the line (and the
                # next starts a new one: an accent there would combine with the last): no
                # need for Rich's cut, which splits the whole text into graphemes first (a
                # summary cut short ends in "…", further along).
                text, cells = head, len(head)
            else:
                cells = cell_len(text)
                if cells > width:
                    text, cells = set_cell_size(text, width), width
            segments = [Segment(text, dimmed)]
            if cells < width:
                segments.append(Segment(" " * (width - cells), style))
            rows.append(segments)
        blank = [Segment(" " * width, style)]
        return SegmentLines(rows + [blank] * (height - len(rows)), width)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._line_style = style = self.rich_style
        if style != self._drawn_style:
            # Focus tints the background (and a theme or CSS change may alter it): lines
            # drawn with the old background would otherwise stay on screen.
            self._cache.clear()
            self._drawn_style = style
        self._drawing = True
        whole, self._whole_asked = self._whole_asked, False
        if whole:
            self._screen_stale = False
        try:
            self._measure_viewport(whole=whole)
            if self._plain_box():
                return self._plain_lines(crop, style)
            return super().render_lines(crop)
        finally:
            self._drawing = False
            self._line_style = None
            self._frame = {}
            self._frame_options = {}
            if self.on_drawn is not None:
                self.on_drawn()

    def _plain_box(self) -> bool:
        """Whether the log's styles draw nothing around or over its lines: no border,
        outline, padding, hatch, tint or opacity (the app's stylesheet gives it none)."""
        styles = self.styles
        return (
            not self.BLANK
            and not any(edge for edge, _ in styles.border)
            and not any(edge for edge, _ in styles.outline)
            and not any(styles.padding)
            and not styles.tint.a
            and styles.text_opacity == 1.0
            and self.opacity == 1.0
            and (not styles.has_rule("hatch") or styles.hatch == "none")
        )

    def _plain_lines(self, crop: Region, style: Style) -> list[Strip]:
        """What Widget.render_lines draws for a plain box, without its per-line work.

        Textual's styles cache makes every line of a refreshed widget again: a new Strip
        (seven caches of its own) and a filtered copy of it, 100-160 µs a line here, a
        third of a live frame.  In a plain box that work leaves the line as it was.  Here
        a row's finished line (selection mark, search marks, width, the app's line
        filters) is kept for as long as the row shows the same cached line the same way:
        a frame that scrolls or moves the selection makes only the rows that look
        different (_new_row), and the compositor's own cut of a line kept is kept too.
        """
        base_background, background = self.background_colors
        # (what the styles cache pads a line with: the background alone)
        pad = Style(bgcolor=(base_background + background).rich_color)
        filters = tuple(self.get_line_filters())
        width = self.size.width
        content_width, content_height = self.content_region.size
        inner = self.scrollable_content_region.width
        looks = _Looks(pad, background, filters, content_width, content_height, inner)
        if (looks, width, self.search_query, self.palette) != self._rows_look:
            self._rows_look = (looks, width, self.search_query, self.palette)
            self._rows = {}
        kept = self._rows
        rows: dict[object, tuple[object, Strip]] = {}
        top = round(self.scroll_y)
        cursor_id = self.cursor_id
        strips: list[Strip] = []
        for y in crop.line_range:
            line = top + y
            source: object = None
            key: tuple[object, bool]
            drawn: Sequence[Strip] = ()
            row = None if y >= content_height or line == 0 else self._event_line(line)
            if row is None:
                # Below the content, the header, or past the last event (each drawn alike).
                if y >= content_height:
                    key = ("below", False)
                else:
                    key = (self.header_text().markup if line == 0 else "past", False)
            else:
                event, drawn, offset = row
                if offset < len(drawn):
                    source = drawn.lines[offset] if type(drawn) is SegmentLines else drawn[offset]
                key = (id(source) if source is not None else None, event.id == cursor_id)
            hit = kept.get(key)
            if hit is not None and hit[0] is source:
                strip = hit[1]
            else:
                strip = self._new_row(y, source, drawn, key[1], looks)
            rows[key] = (source, strip)
            strips.append(strip)
        # (a burst's frames keep none: its next paint has moved every row, and the Strips
        # kept till then were old enough for the collector's oldest generation)
        self._rows = {} if self.flooded else rows
        x1, x2 = crop.column_span
        if (x1, x2) != (0, width):
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _new_row(
        self, y: int, source: object, drawn: Sequence[Strip], selected: bool, looks: _Looks
    ) -> Strip:
        """Row y's finished line, made anew (see _plain_lines)."""
        pad, background, filters, content_width, content_height, inner = looks
        if (
            type(source) is list
            and not selected
            and not self.search_query
            and type(drawn) is SegmentLines
            and drawn.width == inner <= content_width
        ):
            # A cached line as render_line draws it, in one Strip rather than three.
            segments: list[Segment] = source
            if inner < content_width:
                segments = [*segments, Segment(" " * (content_width - inner), pad)]
            for line_filter in filters:
                segments = line_filter.apply(segments, background)
            return Strip(segments, content_width)
        if y < content_height:
            strip = self.render_line(y).adjust_cell_length(content_width, pad)
        else:
            strip = Strip.blank(content_width, pad)
        for line_filter in filters:
            strip = strip.apply_filter(line_filter, background)
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        style = self._line_style or self.rich_style
        line = round(self.scroll_y) + y
        if line == 0:
            return self._header_strip(width, style)
        row = self._event_line(line)
        if row is None:
            return Strip.blank(width, style)
        event, strips, offset = row
        if offset >= len(strips):
            return Strip.blank(width, style)
        strip = strips[offset]
        if event.id == self.cursor_id:
            marker = Segment("▌ ", Style(color=self.palette.accent, bold=True))
            strip = Strip.join([Strip([marker], GUTTER), strip.crop(GUTTER)])
        if strip.cell_length != width:
            strip = strip.crop_extend(0, width, style)
        if self.search_query:
            strip = self._highlight(strip)
        return strip

    def _event_line(self, line: int) -> tuple[Event, Sequence[Strip], int] | None:
        """Content line `line` (1 onwards, below the header): the event drawn there, its
        lines this frame, and the line's offset in them; None past the last event."""
        store = self.store
        if store is None or not store.events or line - 1 >= self.offsets[-1]:
            return None
        index, offset = self._locate(line)
        strips = self._frame.get(index) or self._strips_for(index) or ()
        return store.events[index], strips, offset

    def _highlight(self, strip: Strip) -> Strip:
        """The search query's occurrences in a line, marked (on screen only: not cached)."""
        text = strip.text
        folded = text.casefold()
        needle = self.search_query.casefold()
        if needle not in folded or len(folded) != len(text):
            return strip
        cuts: list[int] = []
        at = folded.find(needle)
        while at >= 0:
            cuts += [cell_len(text[:at]), cell_len(text[: at + len(needle)])]
            at = folded.find(needle, at + len(needle))
        pieces = strip.divide([*cuts, strip.cell_length])
        mark = Style(reverse=True, bold=True)
        return Strip.join(
            piece.apply_style(mark) if i % 2 else piece for i, piece in enumerate(pieces)
        )

    def _header_strip(self, width: int, style: Style) -> Strip:
        segments = list(self.header_text().render(self.app.console))
        return Strip(segments).crop_extend(0, width, style).apply_style(style)

    def header_text(self) -> Text:
        """The first line: loading, older events to come (or unloaded), or the start."""
        store = self.store
        p = self.palette
        if store is None:
            text = Text("")
        elif not store.started:
            text = Text("  ⟳ loading…", style=p.warning)
        elif self.loading_older:
            text = Text("  ⟳ loading older events…", style=p.warning)
        elif store.has_older and store.unloaded:
            text = Text(
                f"  ↑ {store.unloaded:,} older events unloaded to save memory: "
                "they load again as you scroll up",
                style=p.muted,
            )
        elif store.has_older:
            text = Text("  ↑ older events load as you scroll up", style=p.muted)
        elif not store.events:
            text = Text("  ── no events yet ──", style=p.muted)
        else:
            what = (
                "every thread"
                if store.thread_id == ALL_THREADS
                else "thread"
                if store.thread_id
                else "session"
            )
            text = Text(f"  ── start of {what} ──", style=p.muted)
        return text

    # ------------------------------------------------------------------ scrolling & following

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        # The bar appears with the layout after the view was put at its place (a view
        # opened at its newest events): Textual gives it the sizes, not the place, and its
        # thumb sat at the top while the log showed the end.
        if shown:
            self._move_bar(self.scroll_y)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        if self._drawing:
            # Measuring moved the view (heights became known): the frame being drawn
            # already shows the new place, so only the scrollbar follows.  Asking for
            # another frame here chained one after every frame that drew new events.
            if self.bursting:
                self._bar_behind = True  # (see _sync_bar)
            else:
                self._move_bar(new_value)
        else:
            # ScrollView's own, with the scrollbar drawn again only when it moves.
            self._move_bar(new_value)
            if round(old_value) != round(new_value):
                self.refresh(self.size.region)
        if not self._programmatic and self.store is not None:
            at_end = round(new_value) >= self.max_scroll_y
            if at_end and not self.follow and not self.store.has_newer:
                self._set_follow(True)
            elif not at_end and self.follow and new_value < old_value:
                self._set_follow(False)
        self._maybe_need_older()
        self._maybe_need_newer()

    def _maybe_need_newer(self) -> None:
        store = self.store
        if store is None or not store.has_newer:
            return
        view = self.scrollable_content_region.height or self.size.height
        if view and self.scroll_y >= self.max_scroll_y - view * PREFETCH_SCREENS:
            self.post_message(self.NeedNewer(store))

    def _maybe_need_older(self) -> None:
        store = self.store
        if store is None or not store.started or not store.has_older or self.loading_older:
            return
        view = self.scrollable_content_region.height or self.size.height
        if not view:
            return  # not laid out yet: scroll positions mean nothing
        if self.scroll_y <= view * PREFETCH_SCREENS:
            self.post_message(self.NeedOlder(store))

    def _set_follow(self, value: bool) -> None:
        if value:
            self.new_events = 0
        if self.follow != value:
            self.follow = value
        self.post_message(self.FollowState(value, self.new_events))

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()

    # ------------------------------------------------------------------ actions

    def first_visible_index(self) -> int | None:
        """The index of the event under the top line (what a trim must keep)."""
        if self.store is None or not self.heights:
            return None
        return self._locate(round(self.scroll_y))[0]

    def _bottom_index(self) -> int | None:
        if not self.heights:
            return None
        view = self.scrollable_content_region.height or self.size.height
        index, _ = self._locate(round(self.scroll_y) + max(0, view - 1))
        while index > 0 and self.heights[index] == 0:
            index -= 1
        return index

    def _current_index(self) -> int | None:
        store = self.store
        if store is None or not store.events:
            return None
        if self.cursor_id is not None:
            index = store.index_of(self.cursor_id)
            if index is not None:
                return index
        return self._bottom_index()

    def _refresh_moved(self, before: float, *indices: int | None) -> None:
        """After the selection moved: when the view did not scroll, only the two events whose
        look changed are drawn again (a frame of a few lines, not of the whole log).

        During a burst (or after a frame drawn while the key was on its way) the view shows
        placeholders of estimated height, and drawing one moves the lines below it: the
        frame draws no event not drawn before then (the one after it does), and the two
        events are measured here; if either changes height, or an event on screen did since
        the log was last drawn whole, the whole log is drawn.
        """
        held_back = self.bursting or self._placeholders
        if self.scroll_y != before:
            self._answering = held_back
            self.refresh()
            return
        if held_back:
            self._answering = True
            if self._screen_stale or not self._heights_hold(indices):
                self.refresh()
                return
            self._answer_lines = True
        for index in indices:
            if index is not None and index < len(self.heights):
                self.refresh_lines(1 + self.offsets[index], max(1, self.heights[index]))

    def _heights_hold(self, indices: tuple[int | None, ...]) -> bool:
        """Whether these events, drawn now, keep the heights the view gives them."""
        for index in indices:
            if index is None or not 0 <= index < len(self.heights) or not self.heights[index]:
                continue
            strips = self._strips_for(index)
            if strips is not None and len(strips) != self.heights[index]:
                return False
        return True

    def _cursor_index(self) -> int | None:
        store = self.store
        if store is None or self.cursor_id is None:
            return None
        return store.index_of(self.cursor_id)

    def action_cursor(self, delta: int) -> None:
        store = self.store
        if store is None or not store.events:
            return
        index = self._current_index()
        if index is None:
            return
        before, was = self.scroll_y, self._cursor_index()
        if self.cursor_id is not None:
            step = 1 if delta > 0 else -1
            j = index + step
            while 0 <= j < len(self.heights) and self.heights[j] == 0:
                j += step
            if not 0 <= j < len(self.heights):
                if delta > 0:
                    self.action_follow()
                return
            index = j
        self.cursor_id = store.events[index].id
        if delta < 0 or index < len(self.heights) - 1:
            self._set_follow(False)
        self._reveal_index(index, center=False)
        self._refresh_moved(before, was, index)

    def action_page(self, direction: int) -> None:
        view = self.scrollable_content_region.height or self.size.height
        if direction < 0:
            self._set_follow(False)  # paging up is reading back: live events stop moving it
        self._scroll_y_to(self.scroll_y + direction * max(1, view - 2), reader=True)

    def action_top(self) -> None:
        self._set_follow(False)
        self._scroll_y_to(0, reader=True)

    def action_to_start(self) -> None:
        self.post_message(self.ToStart())

    def action_follow(self) -> None:
        if self.store is not None and self.store.has_newer:
            self.post_message(self.ToNewest())  # the newest events are not loaded: fetch them
            return
        before, was = self.scroll_y, self._cursor_index()
        self.cursor_id = None
        self._set_follow(True)
        if self._behind:  # a burst's changes are held for its next paint: draw them now
            self.catch_up()
            return
        self._scroll_to_end()
        self._refresh_moved(before, was)

    def _action_target(self) -> Event | None:
        store = self.store
        index = self._current_index()
        if store is None or index is None:
            return None
        if self.cursor_id is None:
            self.cursor_id = store.events[index].id
            self.refresh()
        return store.events[index]

    def action_activate(self) -> None:
        event = self._action_target()
        if isinstance(event, ThreadMessage):
            self.post_message(self.Jump(event))
        elif event is not None:
            self.action_toggle_fold()

    def action_toggle_fold(self) -> None:
        event = self._action_target()
        store = self.store
        if event is None or store is None:
            return
        anchor = self._anchor()
        self.toggled ^= {event.id}
        index = store.index_of(event.id)
        if index is not None:
            self.heights[index] = self._estimate(event)
            self._rebuild_offsets()
        self._keep_place(anchor)
        self.refresh()

    def action_fold_all(self) -> None:
        anchor = self._anchor()
        self.expand_all = not self.expand_all
        self.toggled.clear()
        self._reestimate_all()
        self._keep_place(anchor)
        self.refresh()
        self.notify(
            "Everything unfolded" if self.expand_all else "Everything folded",
            timeout=2,
            markup=False,
        )

    def action_search_next(self, older: bool) -> None:
        self.post_message(self.SearchNext(older))

    def action_jump(self, kind: str, older: bool) -> None:
        self.post_message(self.JumpTo(kind, older))

    def action_cancel_search(self) -> None:
        self.post_message(self.CancelSearch())

    def action_raw(self) -> None:
        event = self._action_target()
        if event is not None:
            self.post_message(self.ShowRaw(event))

    def action_copy(self) -> None:
        event = self._action_target()
        if event is not None:
            self.post_message(self.CopyEvent(event))

    def on_click(self, event: events.Click) -> None:
        store = self.store
        if store is None or not store.events:
            return
        line = round(self.scroll_y) + event.y
        if line == 0 or line - 1 >= self.offsets[-1]:
            return
        index, _ = self._locate(line)
        target = store.events[index]
        if self.cursor_id == target.id and event.chain == 1:
            self.action_activate()
            return
        self.cursor_id = target.id
        self._set_follow(False)
        self.refresh()

    def tick(self) -> None:
        """Called every second: pending calls in view show their elapsed time (only their
        lines are drawn again)."""
        store = self.store
        if store is None or not store.events or not self.size.height:
            return
        top = round(self.scroll_y)
        view = self.scrollable_content_region.height or self.size.height
        first, _ = self._locate(top)
        last, _ = self._locate(top + view)
        for i in range(first, min(last + 1, len(store.events))):
            event = store.events[i]
            pending = (isinstance(event, ToolUse) and store.result_for(event) is None) or (
                isinstance(event, ModelRequestStart) and self.heights[i] > 0
            )
            if pending and not store.settled(event):
                self.refresh_lines(1 + self.offsets[i], max(1, self.heights[i]))


class _Looks(NamedTuple):
    """What a frame's rows are finished with (see EventLog._plain_lines)."""

    pad: Style
    """What the styles cache pads a line with (the background)."""
    background: Color
    filters: tuple[LineFilter, ...]
    content_width: int
    content_height: int
    inner: int
    """The width the log's own lines have (the scrollbar's column left out)."""


class SegmentLines(Sequence[Strip]):
    """An event's drawn lines as kept in the cache: segments, made into a Strip when read.

    A Textual Strip carries four caches of its own and keeps what is derived from it
    (crops, styled copies): kept for every cached line, they were most of what the
    garbage collector found promoted during a burst (traced: 16,900 FIFOCache objects at
    generation-1 collections in one 20,000-event burst, against 2,400 Strips).  A Strip made
    per read lives for a frame.
    """

    __slots__ = ("lines", "width")

    def __init__(self, lines: list[list[Segment]], width: int) -> None:
        self.lines = lines
        self.width = width

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, index: int) -> Strip: ...

    @overload
    def __getitem__(self, index: slice) -> list[Strip]: ...

    def __getitem__(self, index: int | slice) -> Strip | list[Strip]:
        if isinstance(index, slice):
            return [Strip(line, self.width) for line in self.lines[index]]
        return Strip(self.lines[index], self.width)


class LongStrips(Sequence[Strip]):
    """The lines of an unfolded LongBody, each drawn only when it is on screen.

    The head is rendered with Rich at once (a few lines); body lines are made
    into Strips one at a time as the log asks for them, and the last few
    hundred are kept.  Unfolding a 10 MB output or a 1 MB message therefore
    costs one frame, not seconds.
    """

    KEEP = 400

    def __init__(self, console: Console, body: LongBody, width: int, style: Style) -> None:
        self.console = console
        self.body = body
        self.width = width
        self.style = style
        options = console.options.update_width(width).update(height=None)
        gutter = Segment(" " * GUTTER, style)
        head = console.render_lines(body.head, options, style=style, pad=True)
        self.head = [Strip([gutter, *line], width + GUTTER) for line in head]
        self.text_width = max(10, width - body.indent)
        self.starts: list[int] = []
        """The first row of each run; a wrapped run also keeps each line's first row."""
        self.wrapped: list[list[int] | None] = []
        row = len(self.head)
        for run in body.runs:
            self.starts.append(row)
            if run.wrap:
                room = max(1, self.text_width - len(run.prefix))
                firsts = [0]
                for line in run.lines:
                    cells = cell_len(line) if _has_wide(line) else len(line)
                    firsts.append(firsts[-1] + max(1, -(-cells // room)))
                self.wrapped.append(firsts)
                row += firsts[-1]
            else:
                self.wrapped.append(None)
                row += len(run.lines)
        self.total = row
        self._made: dict[int, Strip] = {}

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.total))]
        if index < 0:
            index += self.total
        if not 0 <= index < self.total:
            raise IndexError(index)
        if index < len(self.head):
            return self.head[index]
        made = self._made.get(index)
        if made is None:
            if len(self._made) >= self.KEEP:
                self._made.clear()
            made = self._made[index] = self._make(index)
        return made

    def _make(self, row: int) -> Strip:
        r = bisect_right(self.starts, row) - 1
        run = self.body.runs[r]
        offset = row - self.starts[r]
        firsts = self.wrapped[r]
        if firsts is None:
            text = run.lines[offset]
            if len(text) > 2_000:
                text = text[:2_000]
        else:
            i = bisect_right(firsts, offset) - 1
            line = run.lines[i]
            room = max(1, self.text_width - len(run.prefix))
            part = offset - firsts[i]
            if _has_wide(line):
                pieces = chop_cells(line, room)
                text = pieces[part] if part < len(pieces) else ""
            else:
                text = line[part * room : (part + 1) * room]
        out = Text(" " * (GUTTER + self.body.indent - len(run.prefix)), no_wrap=True)
        if run.prefix:
            out.append(run.prefix, style=run.prefix_style)
        out.append(text, style=run.style)
        segments = list(out.render(self.console))
        return (
            Strip(segments).crop_extend(0, self.width + GUTTER, self.style).apply_style(self.style)
        )


_WIDE_CHARS = (
    "[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f"
    "\uff00-\uff60\uffe0-\uffe6\U0001f300-\U0001faff\U00020000-\U0003fffd]"
)
_wide: re.Pattern[str] | None = None
"""_WIDE_CHARS compiled on the first line that is not ASCII (compiling it takes 5 ms)."""


def _has_wide(line: str) -> bool:
    """Whether a line may hold double-width characters (CJK, emoji): only those lines are
    measured in cells, the rest by length (a 1 MB message is measured in milliseconds)."""
    if line.isascii():
        return False
    global _wide
    if _wide is None:
        _wide = re.compile(_WIDE_CHARS)
    return _wide.search(line) is not None


def _seconds(ctx: RenderContext) -> int:
    return int(ctx.now.timestamp()) if ctx.now is not None else 0


_CONTEXT_BY_KIND: dict[type[Event], Callable[[EventLog, Any, EventStore, RenderContext], None]] = {
    ToolUse: EventLog._call_context,
    ModelRequestEnd: EventLog._request_end_context,
    ThreadMessage: EventLog._handoff_context,
    StatusChange: EventLog._status_context,
    UserMessage: EventLog._user_context,
}
"""What drawing an event of each kind takes from the store and the log besides the event:
a call's result, a request's start, a handoff's other agent, what an approval stop waits on,
a user message's turn."""


def _call_live(event: ToolUse, ctx: RenderContext) -> object:
    result = ctx.result
    if result is not None:
        return result.id
    return ("pending", event.id in ctx.waiting_on, ctx.settled or _seconds(ctx))


_LIVE_BY_KIND: dict[type[Event], Callable[[Any, RenderContext], object]] = {
    ToolUse: _call_live,  # its result, or how long it has been waiting (and whether on us)
    ModelRequestStart: lambda event, ctx: ctx.settled or _seconds(ctx),  # running for so long
    ModelRequestEnd: lambda event, ctx: ctx.started_at,  # its duration
    StatusChange: lambda event, ctx: ctx.waiting_calls or None,  # what it waits on
    UserMessage: lambda event, ctx: ctx.turn,  # the turn's totals so far
}
"""What an event's lines show that changes without the event changing, per kind: part of
the key its drawn lines are cached under, so that they are drawn again when it changes."""


# Strip.join exists on textual's Strip; keep a typed alias for mypy's sake.
_ = Strip


def _thumb(bar: ScrollBar) -> tuple[int, int, int] | None:
    return thumb_cells(bar.size.height, bar.window_virtual_size, bar.window_size, bar.position)


def thumb_cells(
    size: int, virtual_size: float, window_size: float, position: float
) -> tuple[int, int, int] | None:
    """Where a vertical scrollbar of `size` cells draws its thumb, in eighths of a cell
    (its height, first and end), as Textual's ScrollBar and ScrollBarRender place it: the
    same numbers, the same drawing.  None: no thumb."""
    virtual = ceil(virtual_size)
    window = ceil(window_size) if window_size < virtual_size else 0
    if not (window and size and virtual and size != virtual) or virtual <= window:
        return None  # (the last: sizes whose ceilings meet, where Textual would divide by 0)
    thumb = max(1, window / (virtual / size))
    start = int((size - thumb) * (position / (virtual - window)) * 8)
    return size, start, start + ceil(thumb * 8)


def changed_rows(
    was: tuple[int, int, int] | None, now: tuple[int, int, int] | None
) -> tuple[int, int] | None:
    """The rows (first, end) of a vertical scrollbar that differ between two thumbs (as
    `thumb_cells` gives them); None: all of them (a bar of another size, or with no thumb).

    Textual draws the cells above the thumb and those below it alike, except for what a
    click on them does (a page up or down): every cell from the higher thumb's first to the
    lower thumb's last (where its partial glyph is) may change, and no other.
    """
    if was is None or now is None or was[0] != now[0]:
        return None
    size = now[0]
    first = min(was[1], now[1]) // 8
    end = min(size, max(was[2], now[2]) // 8 + 1)
    return (first, end) if first < end else None
