"""The events the viewer holds, per scope (one thread, or a whole session's stream).

Pure data: no UI, no I/O.  Events are deduplicated by id, kept oldest first,
and tool calls are paired with their results by `tool_use_id` whichever
arrives first (a result can come in a page older than its call never, but a
call can be on an older page than a result that is already loaded).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .api.models import (
    REORDER_SLACK,
    Event,
    ModelRequestEnd,
    ModelRequestStart,
    Session,
    StatusChange,
    Thread,
    ThreadCreated,
    ThreadMessage,
    ToolResult,
    ToolUse,
    Usage,
    UsageSnapshot,
    UserMessage,
    normalise_status,
    parse_ts,
)
from .rows import ID, PROCESSED_AT, EventRows, Row, code_of, field_at, pack, usage_of


@dataclass(frozen=True)
class TurnStats:
    """A turn: from a user message to its thread going idle (or to now, while it runs)."""

    duration: float
    model: float
    """Seconds inside model requests."""
    tools: float
    """Seconds inside tool calls (call to result)."""
    tokens: int
    credits: float | None
    ended: bool

    @property
    def other(self) -> float:
        """Time in neither: waiting on children, approvals, queues."""
        return max(0.0, self.duration - self.model - self.tools)


TURN_SCAN = 5_000
"""A turn's stats look at most this many events after its user message."""

TRIM_STEP = 1_000
"""Events one trim lets go at most: a store over its window gets back to it over a few
drains, not in one (5,000 at once took 23-31 ms of a drain in tmux traces, where a key
pressed then waited)."""


@dataclass
class Change:
    """What an update did: events added (and where) and events whose look changed."""

    added: list[Event] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    prepended: bool = False
    refused: list[Event] = field(default_factory=list)
    """Appended events older than the newest one held: history is paged in, never appended."""
    trimmed: int = 0
    """Oldest events let go from the front (the window is full); they page in again."""
    rebuilt: bool = False
    """The view was built anew (the merged view, when a live event went before shown ones)."""
    sparse: bool = False
    """A prepended page the server filtered by type (EventStore.sparse)."""


ALL_THREADS = "*"
"""The scope key (in place of a thread id) of a session's merged view: every thread's events."""
_NO_TIME = datetime.min.replace(tzinfo=UTC)

DEFAULT_WINDOW = 50_000
"""Events a view keeps in memory; older ones are let go and paged in again on demand."""


class EventStore:
    """One scope's events, oldest first, at most about `window` of them."""

    def __init__(
        self, session_id: str, thread_id: str | None = None, *, window: int = DEFAULT_WINDOW
    ) -> None:
        self.session_id = session_id
        self.thread_id = thread_id
        self.window = window
        """How many events to keep; beyond it (and some slack) the oldest are let go."""
        self.unloaded = 0
        """Events let go from the front and not paged in again since."""
        self.events = EventRows()
        """The events, as rows the collector need not scan (see rows.py); reading builds them."""
        self._rows = self.events.rows
        self._trimming = False
        """Over its window and slack lately, and not back to its window yet."""
        self.uses: dict[str, str] = {}
        """Tool call id -> the id of the call's event."""
        self.results: dict[str, str] = {}
        """Tool call id -> the id of its result's event."""
        self.span_ends: dict[str, str] = {}
        """Model request start id -> the id of its end's event."""
        self.has_older = True
        self.has_newer = False
        """Newer events exist on the server than the newest held: the view was opened at
        the start of its thread and pages forward; live events wait until it reaches now."""
        self.started = False
        """True once the newest (or, from the start, the first) page was loaded."""
        self.usage = Usage()
        self._settled: dict[str | None, int] = {}
        """Per thread key: the sequence number of its latest idle/terminated status."""
        self._seq: dict[str, int] = {}
        """Each event's sequence number; position = seq - seq of events[0].  O(1) index_of."""
        self._base = 0
        self.sparse = 0
        """The oldest `sparse` events came in pages the server filtered by type (a filter
        narrows the log to those types): between them, events of other types are missing."""
        self.sparse_types: frozenset[str] | None = None
        """The types older pages are asked for (None: every event)."""

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def oldest_id(self) -> str | None:
        return self._rows[0][ID] if self._rows else None

    @property
    def newest_id(self) -> str | None:
        return self._rows[-1][ID] if self._rows else None

    def id_at(self, index: int) -> str:
        """The id of the event at this position (without building the event)."""
        return str(self._rows[index][ID])

    def _time_at(self, index: int) -> datetime | None:
        return parse_ts(self._rows[index][PROCESSED_AT])

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._seq

    def get(self, event_id: str | None) -> Event | None:
        """The loaded event with this id, if any (O(1))."""
        index = self.index_of(event_id) if event_id is not None else None
        return self.events[index] if index is not None else None

    # ------------------------------------------------------------------ updates

    def _thread_key(self, event: Event) -> str | None:
        # A thread's own store is one thread; the session stream mixes the primary
        # (no thread id) with what children cross-post (their thread id), and the merged
        # view every thread (each event stamped with its own).
        if self.thread_id is None or self.thread_id == ALL_THREADS:
            return event.thread_id
        return self.thread_id

    def _index(self, event: Event, change: Change) -> None:
        index = _INDEX_BY_KIND.get(type(event))
        if index is not None:
            index(self, event, change)

    def _index_status(self, event: StatusChange, change: Change) -> None:
        if event.status in ("idle", "terminated", "deleted"):
            key = self._thread_key(event)
            seq = self._seq[event.id]
            if seq > self._settled.get(key, -(2**62)):
                self._settled[key] = seq

    def _index_use(self, event: ToolUse, change: Change) -> None:
        self.uses[event.call_id] = event.id
        result = self.results.get(event.call_id)
        if result is not None:
            change.changed.add(result)

    def _index_result(self, event: ToolResult, change: Change) -> None:
        if event.call_id:
            self.results[event.call_id] = event.id
            use = self.uses.get(event.call_id)
            if use is not None:
                change.changed.add(use)

    def _index_span_end(self, event: ModelRequestEnd, change: Change) -> None:
        if event.usage is not None:
            self.usage = self.usage + event.usage
        if event.start_id:
            self.span_ends[event.start_id] = event.id
            if event.start_id in self._seq:
                change.changed.add(event.start_id)

    def _index_span_start(self, event: ModelRequestStart, change: Change) -> None:
        end = self.span_ends.get(event.id)
        if end is not None:
            change.changed.add(end)

    def row_of(self, event_id: str) -> Row | None:
        """The row an event is kept as, if it is loaded."""
        index = self.index_of(event_id)
        return self._rows[index] if index is not None else None

    def _row(self, event: Event, shared: EventStore | None) -> Row:
        # A view made from another store (the primary thread's, from the session stream's)
        # keeps that store's row, not a copy of its own.
        row = shared.row_of(event.id) if shared is not None else None
        return row if row is not None else pack(event)

    def append(self, events: Iterable[Event], *, shared: EventStore | None = None) -> Change:
        """Newer events at the end.  One older than the newest held is refused, not appended
        out of order (a server replaying history on a live stream).  `shared`: a store
        holding the same events, whose rows are kept instead of new ones."""
        change = Change()
        rows, seq, added = self._rows, self._seq, change.added
        newest = self._time_at(-1) if rows else None
        position = self._base + len(rows)
        # (the shared store's rows are looked up here, not through row_of: a live burst
        # mirrors every event of the session stream into the primary thread's view)
        shared_seq = shared._seq if shared is not None else {}
        shared_rows = shared._rows if shared is not None else []
        shared_base = shared._base if shared is not None else 0
        start = position
        for event in events:
            event_id = event.id
            if event_id in seq:
                continue
            when = event.time
            if when is not None:
                if newest is None or when > newest:
                    newest = when
                elif when < newest - REORDER_SLACK:  # (worked out only for one out of order)
                    change.refused.append(event)
                    continue
            seq[event_id] = position
            position += 1
            at = shared_seq.get(event_id)
            rows.append(pack(event) if at is None else shared_rows[at - shared_base])
            index = _INDEX_BY_KIND.get(type(event))
            if index is not None:
                index(self, event, change)
            added.append(event)
        # Pairs formed inside the batch are new, not changed: only what was held before it
        # (a position before `start`) is changed.  (Asked of the few changed, not of every
        # event added.)
        if change.changed:
            change.changed = {i for i in change.changed if seq.get(i, start) < start}
        return change

    def prepend(
        self,
        events: Iterable[Event],
        *,
        has_older: bool,
        sparse: bool = False,
        shared: EventStore | None = None,
    ) -> Change:
        """Insert an older page (oldest first) before everything loaded (`sparse`: a page
        filtered by type; only such pages go before one)."""
        change = Change(prepended=True, sparse=sparse)
        fresh: list[Event] = []
        seen: set[str] = set()
        for event in events:
            if event.id in self._seq or event.id in seen:
                continue
            seen.add(event.id)
            fresh.append(event)
        self._base -= len(fresh)
        for offset, event in enumerate(fresh):
            self._seq[event.id] = self._base + offset
        # In place before indexing: pairing looks events up by position (a span's end
        # finds its start, which may be in this same page).
        self._rows[:0] = [self._row(event, shared) for event in fresh]
        for event in fresh:
            self._index(event, change)
        change.added = fresh
        change.changed.difference_update(e.id for e in fresh)
        self.has_older = has_older and bool(fresh)
        if sparse:
            self.sparse += len(fresh)
        else:
            self.unloaded = max(0, self.unloaded - len(fresh)) if self.has_older else 0
        return change

    @property
    def over_window(self) -> bool:
        """Whether a trim would let some go: the store holds more than its window and slack,
        or did lately and is not back to its window yet."""
        held = len(self._rows)
        slack = max(1_000, self.window // 10)
        return held > self.window + slack or (self._trimming and held > self.window)

    def trim(self, *, keep_from: int | None = None) -> int:
        """Let the oldest events go once the store holds more than its window (plus slack),
        at most TRIM_STEP a call, until it is back to its window.

        Never lets go of `keep_from` or anything after it (what the reader has on
        screen).  Returns how many went; they page in again with `before_id`.
        """
        if not self.over_window:
            return 0
        count = min(len(self._rows) - self.window, TRIM_STEP)
        if keep_from is not None:
            count = min(count, keep_from)
        if count <= 0:
            return 0
        self._drop_front(count)
        self._trimming = len(self._rows) > self.window
        self.has_older = True
        self.unloaded += count
        return count

    def drop_sparse(self) -> int:
        """Let go of the events paged in by type (the filter changed): the loaded events are
        whole again, and what is older pages in with `before_id`.  Returns how many went."""
        count, self.sparse = self.sparse, 0
        if count:
            self._drop_front(count)
            self.has_older = True
        return count

    def _drop_front(self, count: int) -> None:
        gone = self._rows[:count]
        # Undone from the rows, no event built: building them cost 10 us each (a call's
        # input parsed as JSON again), and a trim lets go of thousands at once.
        removed = Usage()
        undo = _UNINDEX_BY_CODE.get
        for row in gone:
            unindex = undo(row[0])
            if unindex is not None and (usage := unindex(self, row)) is not None:
                removed = removed + usage
        ids = [row[ID] for row in gone]
        del self._rows[:count]
        self.events.forget(ids)
        self._base += count
        seq = self._seq
        for event_id in ids:
            del seq[event_id]
        self.usage = self.usage - removed
        self.sparse = max(0, self.sparse - count)

    # What letting an event of each kind go undoes, and the usage it takes away (see
    # _UNINDEX_BY_KIND): read from its row.

    def _unindex_use(self, row: Row) -> Usage | None:
        self.uses.pop(row[_USE_CALL], None)
        return None

    def _unindex_result(self, row: Row) -> Usage | None:
        call_id = row[_RESULT_CALL]
        if self.results.get(call_id) == row[ID]:
            del self.results[call_id]
        return None

    def _unindex_span_end(self, row: Row) -> Usage | None:
        if start_id := row[_END_START]:
            self.span_ends.pop(start_id, None)
        return usage_of(row[_END_USAGE])

    def start(
        self, newest: list[Event], *, has_older: bool, shared: EventStore | None = None
    ) -> Change:
        """The newest page: the first thing loaded."""
        change = self.append(newest, shared=shared)
        self.has_older = has_older
        self.started = True
        return change

    # ------------------------------------------------------------------ queries

    def settled(self, event: Event) -> bool:
        """True when its thread went idle (or ended) after this event.

        A call with no result, or a model request with no end, is then not
        "running": it will never finish, and is shown as such.
        """
        seq = self._seq.get(event.id)
        last = self._settled.get(self._thread_key(event))
        return seq is not None and last is not None and last > seq

    def turn_stats(self, message: UserMessage, now: datetime | None = None) -> TurnStats | None:
        """Duration, model time, tool time, tokens and credits of the turn `message` starts.

        Only its own thread's events count (the session stream also carries what
        children cross-post); the turn ends at that thread's next idle or at the
        next user message.
        """
        index = self.index_of(message.id)
        start = message.time
        if index is None or start is None or index < self.sparse:
            return None  # (paged in by type: the turn's other events are not loaded)
        key = self._thread_key(message)
        turn = _Turn()
        for event in self.events.of_kinds(_TURN_KINDS, index + 1, index + 1 + TURN_SCAN):
            if self._thread_key(event) == key and _TURN_BY_KIND[type(event)](self, event, turn):
                break
        end = turn.end
        finish = end or now or (self._time_at(-1) if self._rows else None)
        if finish is None:
            return None
        duration = max(0.0, (finish - start).total_seconds())
        return TurnStats(
            duration, turn.model, turn.tools, turn.tokens, turn.credits, end is not None
        )

    # What an event of each kind adds to a turn's stats; True when it ends the turn (see
    # _TURN_BY_KIND).

    def _turn_next_message(self, event: UserMessage, turn: _Turn) -> bool:
        turn.end = event.time
        return True

    def _turn_request(self, event: ModelRequestEnd, turn: _Turn) -> bool:
        began = self.span_start_time(event)
        if began is not None and event.time is not None:
            turn.model += max(0.0, (event.time - began).total_seconds())
        if event.usage is not None:
            turn.tokens += event.usage.total_tokens
        return False

    def _turn_result(self, event: ToolResult, turn: _Turn) -> bool:
        use = self.use_for(event)
        if use is not None and use.time is not None and event.time is not None:
            turn.tools += max(0.0, (event.time - use.time).total_seconds())
        return False

    def _turn_status(self, event: StatusChange, turn: _Turn) -> bool:
        if event.status not in ("idle", "terminated"):
            return False
        turn.end = event.time
        if event.usage is not None and event.usage.credits is not None:
            turn.credits = event.usage.credits
        return True

    def peek(self, event_id: str | None) -> Event | None:
        """Like `get`, without keeping the event built (a look at the other half of a pair).

        `get` keeps what it builds for the next ask, which suits what is on screen; the log
        looks up a call's result for every call that arrives, and each one kept lived long
        enough for the collector to promote it (about 800 results in a 20,000-event burst).
        """
        index = self.index_of(event_id) if event_id is not None else None
        return self.events.peek(index) if index is not None else None

    def result_for(self, use: ToolUse) -> ToolResult | None:
        found = self.peek(self.results.get(use.call_id))
        return found if isinstance(found, ToolResult) else None

    def use_for(self, result: ToolResult) -> ToolUse | None:
        found = self.peek(self.uses.get(result.call_id))
        return found if isinstance(found, ToolUse) else None

    def is_folded(self, event: Event) -> bool:
        """Shown inside another event's line or block, so it takes no place of its own.

        A tool result is drawn inside its call's block; a model-request start
        inside its end's one-line span.
        """
        folded = _FOLDED_BY_KIND.get(type(event))
        return folded is not None and folded(self, event)

    def host_of(self, event: Event) -> Event | None:
        """The event whose line or block shows `event` once it is folded (see is_folded)."""
        host = _HOST_BY_KIND.get(type(event))
        return host(self, event) if host is not None else None

    def shown_as(self, event: Event) -> Event:
        """The event whose line shows `event`: its host when it is folded, else itself."""
        if self.is_folded(event):
            host = self.host_of(event)
            if host is not None:
                return host
        return event

    def span_start_time(self, end: ModelRequestEnd) -> datetime | None:
        start = self.peek(end.start_id)
        return start.time if start is not None else None

    def index_of(self, event_id: str) -> int | None:
        seq = self._seq.get(event_id)
        return None if seq is None else seq - self._base

    def find_handoff(self, message: ThreadMessage, from_thread: str | None) -> ThreadMessage | None:
        """The other side of a handoff: opposite direction, same text, pointing back at us."""
        want = "received" if message.direction == "sent" else "sent"
        best: ThreadMessage | None = None
        found = self.events.of_kinds((ThreadMessage,), 0, len(self._rows))
        for event in reversed(list(found)):
            if not isinstance(event, ThreadMessage) or event.direction != want:
                continue
            if event.text.strip() != message.text.strip():
                continue
            peer = event.peer_thread_id
            if from_thread is None or peer is None or peer == from_thread:
                return event
            best = best or event
        return best


_UNINDEX_BY_KIND: dict[type[Event], Callable[[EventStore, Row], Usage | None]] = {
    ToolUse: EventStore._unindex_use,
    ToolResult: EventStore._unindex_result,
    ModelRequestEnd: EventStore._unindex_span_end,
}
"""What letting an event of each kind go must undo, from its row: its pair, and the usage
summed (the other kinds need no undoing)."""

_UNINDEX_BY_CODE = {code_of(cls): unindex for cls, unindex in _UNINDEX_BY_KIND.items()}

_USE_CALL = field_at(ToolUse, "call_id")
_RESULT_CALL = field_at(ToolResult, "call_id")
_END_START, _END_USAGE = field_at(ModelRequestEnd, "start_id"), field_at(ModelRequestEnd, "usage")

_FOLDED_BY_KIND: dict[type[Event], Callable[[EventStore, Any], bool]] = {
    ToolResult: lambda store, event: event.call_id in store.uses,  # inside its call's block
    ModelRequestStart: lambda store, event: event.id in store.span_ends,  # inside its end's line
}
"""The kinds drawn inside another event once that one is loaded (see EventStore.is_folded)."""

_HOST_BY_KIND: dict[type[Event], Callable[[EventStore, Any], Event | None]] = {
    ToolResult: lambda store, event: store.use_for(event),
    ModelRequestStart: lambda store, event: store.peek(store.span_ends.get(event.id)),
}
"""For each kind of _FOLDED_BY_KIND: the event it is drawn inside (EventStore.host_of)."""


class _Turn:
    """A turn's stats as its events are read (EventStore.turn_stats)."""

    __slots__ = ("credits", "end", "model", "tokens", "tools")

    def __init__(self) -> None:
        self.model = 0.0
        self.tools = 0.0
        self.tokens = 0
        self.credits: float | None = None
        self.end: datetime | None = None


_TURN_BY_KIND: dict[type[Event], Callable[[EventStore, Any, _Turn], bool]] = {
    UserMessage: EventStore._turn_next_message,  # the next turn begins
    ModelRequestEnd: EventStore._turn_request,  # model time and tokens
    ToolResult: EventStore._turn_result,  # tool time
    StatusChange: EventStore._turn_status,  # idle or terminated: the end, and its credits
}
"""What each kind of event adds to a turn's stats (the rest of its events are not built)."""

_TURN_KINDS = tuple(_TURN_BY_KIND)

_INDEX_BY_KIND: dict[type[Event], Callable[[EventStore, Any, Change], None]] = {
    StatusChange: EventStore._index_status,
    ToolUse: EventStore._index_use,
    ToolResult: EventStore._index_result,
    ModelRequestEnd: EventStore._index_span_end,
    ModelRequestStart: EventStore._index_span_start,
}
"""What a store keeps track of for each kind of event it takes in (pairs, spans, settling)."""


# --------------------------------------------------------------------------- session


@dataclass
class ThreadInfo:
    """A thread as the tree shows it: state and since when, usage, failed calls."""

    thread: Thread
    status: str
    waiting_on: list[str] = field(default_factory=list)
    since: datetime | None = None
    """When it entered `status` (as far as the events seen tell)."""
    usage: Usage = field(default_factory=Usage)
    """What its turns reported when they went idle (events seen since it was loaded)."""
    failed_calls: set[str] = field(default_factory=set)
    """Its failed tool calls, by result id: among the events seen (loaded pages and live), and
    once its history's results were read (`failures_counted`), every one."""
    failures_counted: bool | None = None
    """True once every tool result of its history was read; False if that stopped short
    (too long a history, or the server failed): `failed_calls` is then a lower bound."""

    def set_status(self, event: StatusChange) -> None:
        word = status_word(event)
        if word != self.status or self.since is None:
            self.since = event.time
        self.status = word
        self.waiting_on = _waiting(event)
        if event.status == "idle" and event.usage is not None:
            self.usage = self.usage + event.usage

    @property
    def id(self) -> str:
        return self.thread.id

    @property
    def name(self) -> str:
        return self.thread.display_name


class SessionStore:
    """A session: its threads (as a tree), their live status, and one EventStore per scope."""

    def __init__(self, session: Session, *, window: int = DEFAULT_WINDOW) -> None:
        self.session = session
        self.window = window
        self.live_usage = Usage()
        """Model requests' usage that arrived live since the session was loaded."""
        self._counted: dict[str, None] = {}
        self.snapshot: Usage | None = None
        """The newest cumulative usage the server reported live (a `session.usage` event)."""
        self._shown: Usage | None = None
        """The highest totals given so far (totals never go down)."""
        self.status = session.display_status
        self.threads: dict[str, ThreadInfo] = {}
        """Every thread known, by id (add_thread adds them)."""
        self._primary: ThreadInfo | None = None
        self.scopes: dict[str | None, EventStore] = {}

    @property
    def id(self) -> str:
        return self.session.id

    @property
    def last_event_at(self) -> datetime | None:
        """When the session's stream last had an event (as far as it is loaded)."""
        stream = self.scopes.get(None)
        return stream.events[-1].time if stream is not None and stream.events else None

    @property
    def primary(self) -> ThreadInfo | None:
        return self._primary  # (asked for every live event: kept, not searched for)

    def set_threads(self, threads: Iterable[Thread]) -> None:
        for thread in threads:
            self.add_thread(thread)

    def add_thread(self, thread: Thread) -> ThreadInfo:
        info = self.threads.get(thread.id)
        status = thread.display_status
        waiting = thread.stop_reason.event_ids if thread.stop_reason else []
        if status == "idle" and thread.stop_reason and thread.stop_reason.type == "requires_action":
            status = "waiting"
        if info is None:
            info = ThreadInfo(thread=thread, status=status, waiting_on=list(waiting))
            self.threads[thread.id] = info
        else:
            info.thread = thread
            info.status = status
            info.waiting_on = list(waiting)
        self._primary = next((t for t in self.threads.values() if t.thread.is_primary), None)
        return info

    def children_of(self, thread_id: str | None) -> list[ThreadInfo]:
        """Its child threads (a thread is never its own child, whatever the server says)."""
        return [
            t
            for t in self.threads.values()
            if t.thread.parent_thread_id == thread_id and t.id != thread_id
        ]

    def name_of(self, thread_id: str | None) -> str:
        if thread_id and thread_id in self.threads:
            return self.threads[thread_id].name
        primary = self.primary
        if thread_id is None and primary is not None:
            return primary.name
        return thread_id[:14] if thread_id else "agent"

    def is_primary(self, thread_id: str | None) -> bool:
        primary = self.primary
        return thread_id is not None and primary is not None and thread_id == primary.id

    def source_of(self, thread_id: str | None) -> str | None:
        """Where a scope's events come from: the primary thread is a view of the session stream.

        The session stream carries the primary thread's events (plus what
        children cross-post), so following it once serves both views, and
        history and live events come from one ordered source: no seam between
        two streams to get wrong, and no event parsed twice.
        """
        return None if self.is_primary(thread_id) else thread_id

    def belongs_to_primary(self, event: Event) -> bool:
        primary = self.primary
        return event.thread_id is None or (primary is not None and event.thread_id == primary.id)

    def scope(self, thread_id: str | None) -> EventStore:
        if thread_id == ALL_THREADS:
            return self.merged()
        store = self.scopes.get(thread_id)
        if store is None:
            store = EventStore(self.id, thread_id, window=self.window)
            self.scopes[thread_id] = store
            if self.is_primary(thread_id):
                session = self.scopes.get(None)
                if session is not None and session.started:
                    store.start(
                        [e for e in session.events if self.belongs_to_primary(e)],
                        has_older=session.has_older,
                        shared=session,
                    )
                    store.has_newer = session.has_newer
                    store.sparse = sum(
                        1 for e in session.events[: session.sparse] if self.belongs_to_primary(e)
                    )
        return store

    # ------------------------------------------------------------------ every thread at once

    def count_live(self, event: Event) -> None:
        """A live event's part in the session's totals (each event once, whichever stream)."""
        count = _COUNT_BY_KIND.get(type(event))
        if count is not None:
            count(self, event)

    def _count_request(self, event: ModelRequestEnd) -> None:
        if event.usage is None or event.id in self._counted:
            return
        self._counted[event.id] = None
        if len(self._counted) > 5_000:
            del self._counted[next(iter(self._counted))]
        self.live_usage = self.live_usage + event.usage

    def _count_snapshot(self, event: UsageSnapshot) -> None:
        if event.usage is not None:
            self.snapshot = _field_max(self.snapshot, event.usage)

    def totals(self) -> Usage:
        """The session's usage over every thread, loaded or not, field by field the most of:
        what the API said when the session was loaded plus what came live since; the server's
        newest live snapshot; and what the loaded events of every thread add up to (a child's
        requests paged in after the session was loaded are in neither of the others).  Totals
        never go down, even when a view lets old events go."""
        base = self.session.usage_model or Usage()
        total = _field_max(self.snapshot, base + self.live_usage)
        loaded = Usage()
        for source in self.merged_sources():
            store = self.scopes.get(source)
            if store is not None:
                loaded = loaded + store.usage
        total = _field_max(total, loaded)
        for store in self.scopes.values():  # (a merged view may hold pages its threads do not)
            total = _field_max(total, store.usage)
        self._shown = _field_max(self._shown, total)
        return self._shown

    def merged_sources(self) -> list[str | None]:
        """What the merged view merges: each child thread, and the session stream (which
        carries the coordinator and what children cross-post)."""
        return [t.id for t in self.threads.values() if not t.thread.is_primary] + [None]

    def merge_ready(self) -> bool:
        return all(
            (store := self.scopes.get(source)) is not None and store.started
            for source in self.merged_sources()
        )

    def _edges(self, *, older: bool) -> list[tuple[str | None, datetime]]:
        """Each source with more on the server on that side: the time of its edge event there
        (its oldest loaded for `older`, else its newest)."""
        edges: list[tuple[str | None, datetime]] = []
        for source in self.merged_sources():
            store = self.scopes.get(source)
            if (
                store is None
                or not store.events
                or not (store.has_older if older else store.has_newer)
            ):
                continue
            edge = store.events[0] if older else store.events[-1]
            edges.append((source, edge.time or _NO_TIME))
        return edges

    def merge_frontier(self) -> datetime | None:
        """How far back every source is loaded: the merged view shows events from here on.

        A source with older events still on the server could have some between
        this time and its oldest loaded one, so nothing older is merged yet.
        """
        return max((t for _, t in self._edges(older=True)), default=None)

    def merge_blockers(self) -> list[str | None]:
        """The sources to page back next for the merged view: those the frontier waits on."""
        frontier = self.merge_frontier()
        return [source for source, t in self._edges(older=True) if t == frontier]

    def newer_frontier(self) -> datetime | None:
        """How far forward every source read from its start is loaded (None: each reaches its
        newest event).  The merged view shows nothing newer yet: a source still paging
        forward could have events before a newer one of another source."""
        return min((t for _, t in self._edges(older=False)), default=None)

    def newer_blockers(self) -> list[str | None]:
        """The sources to page forward next for the merged view: those its frontier waits on."""
        frontier = self.newer_frontier()
        return [source for source, t in self._edges(older=False) if t == frontier]

    def stamp(self, thread_id: str | None, events: Iterable[Event]) -> None:
        """A child thread's own events do not name their thread: name it, so that the merged
        view can say whose they are."""
        if thread_id is None or thread_id == ALL_THREADS or self.is_primary(thread_id):
            return
        for event in events:
            if event.thread_id is None:
                event.thread_id = thread_id

    def _merged_between(self, low: datetime | None, high: datetime | None) -> list[Event]:
        """Every source's events from `low` up to `high` (inclusive), once each, in time order."""
        seen: set[str] = set()
        keyed: list[tuple[datetime, int, int, Event]] = []
        for order, source in enumerate(self.merged_sources()):
            store = self.scopes.get(source)
            if store is None:
                continue
            for index, event in enumerate(store.events):
                when = event.time or _NO_TIME
                if (low is not None and when < low) or (high is not None and when > high):
                    continue
                if event.id in seen:
                    continue  # a child's event cross-posted to the session stream: the child's copy
                seen.add(event.id)
                keyed.append((when, order, index, event))
        keyed.sort(key=lambda k: (k[0], k[1], k[2]))
        return [k[3] for k in keyed]

    def merged(self) -> EventStore:
        """The merged view (built from the sources once they are all loaded)."""
        view = self.scopes.get(ALL_THREADS)
        if view is None or (not view.started and self.merge_ready()):
            view = EventStore(self.id, ALL_THREADS, window=self.window)
            self.scopes[ALL_THREADS] = view
            if self.merge_ready():
                frontier, high = self.merge_frontier(), self.newer_frontier()
                view.start(self._merged_between(frontier, high), has_older=frontier is not None)
                view.has_newer = high is not None
        return view

    def route_merged(self, change: Change) -> tuple[Change | None, bool]:
        """Carry a source's change into the merged view: (its change, whether it was rebuilt).

        Live events are appended as they come.  An older page of one source
        lets the view reach back to the new frontier.  When a source's newest
        page completes the set, or a live event would have to go before ones
        already shown, the view is built again.
        """
        view = self.scopes.get(ALL_THREADS)
        if view is None:
            return None, False
        if not view.started:
            if not self.merge_ready():
                return None, False
            del self.scopes[ALL_THREADS]
            view = self.merged()
            return Change(added=list(view.events)), True
        if change.prepended:
            frontier = self.merge_frontier()
            high = view.events[0].time if view.events else None
            fresh = [e for e in self._merged_between(frontier, high) if e.id not in view]
            merged = view.prepend(fresh, has_older=True, sparse=change.sparse)
            view.has_older = frontier is not None
            return merged, False
        if view.has_newer:
            # Read from the start: a source's newer page lets the view reach forward to the
            # new frontier (its events, and the other sources' up to there).
            high = self.newer_frontier()
            low = view.events[-1].time if view.events else None
            merged = view.append(e for e in self._merged_between(low, high) if e.id not in view)
            view.has_newer = high is not None
            return merged, False
        if not change.added:
            return None, False
        merged = view.append(change.added)
        if merged.refused:
            del self.scopes[ALL_THREADS]
            view = self.merged()
            return Change(added=list(view.events)), True
        return merged, False

    def restart(self, thread_id: str | None) -> EventStore:
        """A fresh store for a source (its start, or its newest page, loads into it); the
        views made from it (the primary thread's, the merged one) are made again."""
        fresh = EventStore(self.id, thread_id, window=self.window)
        self.scopes[thread_id] = fresh
        primary = self.primary
        if thread_id is None and primary is not None:
            self.scopes.pop(primary.id, None)
        self.scopes.pop(ALL_THREADS, None)
        return fresh

    def narrow(self, source: str | None, types: frozenset[str] | None) -> bool:
        """From now on, page a source's older events by type (`types`; None: all of them).

        What was paged in for other types goes (the views made from the source
        with it).  True if any loaded event went.
        """
        store = self.scopes.get(source)
        if store is None or store.sparse_types == types:
            return False
        store.sparse_types = types
        if not store.drop_sparse():
            return False
        primary = self.primary
        if source is None and primary is not None and primary.id in self.scopes:
            self.scopes[primary.id].drop_sparse()
        self.scopes.pop(ALL_THREADS, None)
        return True

    def unload(self) -> None:
        """Let go of every loaded event (nobody is viewing this session); threads stay."""
        self.scopes.clear()

    def route(self, change: Change) -> Change | None:
        """Mirror a change of the session scope into the primary thread's view, if it exists."""
        primary = self.primary
        session = self.scopes.get(None)
        view = self.scopes.get(primary.id) if primary is not None else None
        if view is None or session is None or primary is None:
            return None
        own = primary.id  # (belongs_to_primary, for each event of a burst)
        events = [e for e in change.added if e.thread_id is None or e.thread_id == own]
        if change.prepended:
            mirrored = view.prepend(
                events, has_older=session.has_older, sparse=change.sparse, shared=session
            )
        elif not view.started and session.started:
            mirrored = view.start(events, has_older=session.has_older, shared=session)
        else:
            mirrored = view.append(events, shared=session)
        view.has_older = session.has_older
        view.has_newer = session.has_newer
        return mirrored

    def observe(self, event: Event, *, current: bool = True) -> AbstractSet[str]:
        """Apply an event's news to thread/session status.  Returns thread ids that are new.

        `current` is False for events from an older page: they name threads, but
        their statuses are history and must not overwrite what is true now.
        """
        news = _OBSERVE_BY_KIND.get(type(event))
        thread_id = event.thread_id
        if news is None:  # (most events: no set made for each)
            return {thread_id} if thread_id and thread_id not in self.threads else _NONE
        unknown: set[str] = set()
        news(self, event, current, unknown)
        if thread_id and thread_id not in self.threads:
            unknown.add(thread_id)
        return unknown

    def _observe_result(self, event: ToolResult, current: bool, unknown: set[str]) -> None:
        if event.is_error:  # (an older page's failed calls count too)
            owner = self.threads.get(event.thread_id or "") or (
                self.primary if event.thread_id is None else None
            )
            if owner is not None:
                owner.failed_calls.add(event.id)

    def _observe_created(self, event: ThreadCreated, current: bool, unknown: set[str]) -> None:
        if event.child_thread_id and event.child_thread_id not in self.threads:
            unknown.add(event.child_thread_id)

    def _observe_status(self, event: StatusChange, current: bool, unknown: set[str]) -> None:
        if not current:
            return  # history: what is true now is not overwritten
        if event.scope == "session":
            self.status = status_word(event)
            primary = self.primary
            if primary is not None and event.status != "deleted":
                primary.set_status(event)
        elif event.thread_id:
            info = self.threads.get(event.thread_id)
            if info is None:
                unknown.add(event.thread_id)
            else:
                info.set_status(event)


_COUNT_BY_KIND: dict[type[Event], Callable[[SessionStore, Any], None]] = {
    ModelRequestEnd: SessionStore._count_request,
    UsageSnapshot: SessionStore._count_snapshot,
}
"""What each kind of live event adds to the session's totals."""

_NONE: frozenset[str] = frozenset()

_OBSERVE_BY_KIND: dict[type[Event], Callable[[SessionStore, Any, bool, set[str]], None]] = {
    ToolResult: SessionStore._observe_result,
    ThreadCreated: SessionStore._observe_created,
    StatusChange: SessionStore._observe_status,
}
"""What each kind of event tells a session about its threads (the threads every event
names are checked for all kinds)."""


def _field_max(a: Usage | None, b: Usage) -> Usage:
    if a is None:
        return b
    values = {}
    for name in Usage._SUMMED:
        x, y = getattr(a, name), getattr(b, name)
        values[name] = y if x is None else x if y is None else max(x, y)
    return Usage(**values)


def status_word(event: StatusChange) -> str:
    """The state a status event puts its thread or session in (waiting, errored, …)."""
    if event.status == "idle" and event.stop_reason is not None:
        if event.stop_reason.type == "requires_action":
            return "waiting"
        if event.stop_reason.type in ("retries_exhausted", "budget_reached"):
            return "errored"
    return normalise_status(event.status)


def _waiting(event: StatusChange) -> list[str]:
    if event.stop_reason is not None and event.stop_reason.type == "requires_action":
        return list(event.stop_reason.event_ids)
    return []
