"""Session control without a UI: fetching, following, buffering, draining, jumps.

The main screen owns widgets; this owns everything behind them, and is tested
without Textual.  It talks to the screen only through `emit(notice)`: one
small dataclass per kind of news, which the screen turns into a message for
itself (so nothing here touches a widget, and nothing runs outside the
screen's message loop that changes what it shows).

Races it rules out by construction:
- a session is loaded once at a time (a second request waits for the first);
- a thread that events name but the tree does not know is fetched once;
- a page or an error from a scope the reader has left does not change what is
  shown (every request carries the generation it was made in);
- a follower's generators are closed when it stops, whatever stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Coroutine
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from .api.client import EVENTS_PAGE, SESSIONS_PAGE, QoderClient
from .api.errors import QoderError, redact
from .api.follower import Follower, StreamState
from .api.models import (
    HANDOFF_TYPES,
    TOOL_RESULT_TYPES,
    AgentMessage,
    Event,
    ModelRequestStart,
    Page,
    Session,
    SystemMessage,
    Thinking,
    Thread,
    ThreadMessage,
    ToolResult,
    ToolUse,
    UsageSnapshot,
    UserMessage,
    is_terminal,
    load_fast_json,
)
from .api.record import Record
from .attention import (
    NEEDS_ATTENTION,
    Finding,
    LedgerRow,
    SessionHint,
    age_text,
    diagnose,
    handoff_ledger,
    session_hint,
)
from .render.summary import search_text
from .store import ALL_THREADS, DEFAULT_WINDOW, Change, EventStore, SessionStore

Scope = tuple[str, str | None]
"""(session id, thread id; None for the session's stream, ALL_THREADS for every thread merged)."""

PAGE_SIZE = EVENTS_PAGE
PROBE_EVENTS = 20
"""Newest events fetched per listed session to learn its real state."""
LEDGER_PAGES = 50
LEDGER_TYPES = (
    *HANDOFF_TYPES,
    "session.thread_status_running",
    "session.thread_status_idle",
    "session.thread_status_terminated",
)
"""What the handoff ledger reads: the server's type filter leaves everything else out."""
LOOK_THREADS = 8
"""Running children whose newest events a look at a session not opened fetches."""
LOOK_SESSIONS = 10
SESSIONS_REFRESH = 30.0
"""Seconds between readings of the session list's first page: sessions created since appear,
and listed ones whose status changed are looked at again (a first listing that failed is
retried)."""
"""Running sessions not opened that are looked into (the newest listed first)."""
CENSUS_PAGES = 50
"""Pages of tool results read per thread to count its failed calls (5,000 results)."""
MAX_JUMP_PAGES = 50
NEAR_PAGES = 3
"""A jump to a known event pages back this far; beyond, it fetches the page at the event."""
MAX_SEARCH_PAGES = 1_000
"""A search reads at most this many older pages (100,000 events) before it says no."""
YIELD_EVERY = 0.005
FRESH_PAGE = 5.0
"""Seconds a view's newest page counts as the server's newest, when no live stream keeps it
so (a diagnosis reads it instead of asking again)."""
BURST_EVENTS = 100
"""A drain that moves this many live events means a burst is coming in."""
BURST_QUIET = 0.25
"""Background reads go on once this long (seconds) passed without such a drain."""


# --------------------------------------------------------------------------- notices


@dataclass(repr=False, eq=False)
class Deferred(Record):
    """Work a task finished, to be applied where the UI applies its changes.

    Tasks only fetch; what they bring is applied by `run()` on the UI's own
    loop turn (the screen runs it from a message), so a store never changes
    between the view's updates.  Notices emitted while it runs are handled at
    once, in the same turn.
    """

    run: Callable[[], None]


@dataclass(repr=False, eq=False)
class SessionsListed(Record):
    """A page of the session list arrived."""

    sessions: list[Session]
    has_more: bool
    fresh: bool = False
    """The list's first page read again (refresh_sessions): new sessions go on top."""


@dataclass(repr=False, eq=False)
class SessionReady(Record):
    """A session and its threads are loaded; `open_scope` is the view to show, if any."""

    session_id: str
    open_scope: Scope | None


@dataclass(repr=False, eq=False)
class TreeChanged(Record):
    """Threads or statuses of these sessions changed."""

    session_ids: frozenset[str]
    named: bool = False
    """A thread became known: lines drawn with its id instead of its agent's name are stale."""


@dataclass(repr=False, eq=False)
class ViewChanged(Record):
    """A scope's events changed.  `reset`: its newest page arrived (show it from the end)."""

    scope: Scope
    change: Change
    reset: bool = False


@dataclass(repr=False, eq=False)
class LoadingOlder(Record):
    """A scope's older page is being read (or no longer is)."""

    scope: Scope
    loading: bool


@dataclass(repr=False, eq=False)
class LiveWaiting(Record):
    """Live events wait in a buffer: call `drain` (posted once until the next drain)."""


@dataclass(repr=False, eq=False)
class StreamChanged(Record):
    """A followed stream's state changed (live, reconnecting, ended...)."""

    scope: Scope
    state: StreamState


@dataclass(repr=False, eq=False)
class Failed(Record):
    """A request failed: one line to show, and what was being done."""

    text: str
    """The error as one line, token removed, ready to show."""
    doing: str
    scope: Scope | None
    fatal: bool
    error: QoderError


@dataclass(repr=False, eq=False)
class Select(Record):
    """Put the cursor on this event (a jump's target, or going back)."""

    scope: Scope
    event_id: str


@dataclass(repr=False, eq=False)
class Notice(Record):
    """A line for the person (a toast)."""

    text: str
    severity: str = "information"


POSTED: tuple[type, ...] = (Deferred, LiveWaiting)
"""Notices that come from tasks: the UI queues these.  Every other notice comes from
controller code the UI itself called (or a Deferred it runs), and is handled at once."""


@dataclass(repr=False, eq=False)
class DiagnosisReady(Record):
    """Why a session is stuck, per thread (the `d` panel, or above the log by itself)."""

    session_id: str
    findings: list[Finding]
    asked: bool = True
    """False when it came by itself (the session needs attention): shown above the log."""


@dataclass(repr=False, eq=False)
class LedgerReady(Record):
    """A session's handoffs, one row each (the `h` ledger)."""

    session_id: str
    rows: list[LedgerRow]
    complete: bool = True
    """False when the read stopped at LEDGER_PAGES with more history unread."""


@dataclass(repr=False, eq=False)
class Alert(Record):
    """A thread being followed now needs the reader (waiting for approval, errored)."""

    scope: Scope
    text: str


@dataclass(repr=False, eq=False)
class SearchProgress(Record):
    """A search reading older pages: how far it got, and whether it ended."""

    scope: Scope
    pages: int
    """Older pages read so far."""
    done: bool


@dataclass
class Seek:
    """An event wanted in a scope, found by `look`, paging back at most `pages_left` times."""

    scope: Scope
    look: Callable[[EventStore], Event | None]
    pages_left: int
    missing: str
    """What to say when it is not there ({name}: the scope's agent)."""
    search: bool = False
    pages: int = 0
    beyond: Callable[[], None] | None = None
    """What to do once the pages are used up (instead of saying it is missing)."""
    newer: bool = False
    """Looks forward: pages in newer events (a view read from its start), not older ones."""


@dataclass
class DrainResult:
    """What a drain did: the views it changed, the sessions whose tree changed."""

    views: list[tuple[Scope, Change]] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    """Sessions whose tree (threads, statuses) changed."""
    applied: int = 0
    more: bool = False
    """Events are still buffered: drain again soon."""


# --------------------------------------------------------------------------- controller


class SessionController:
    """Everything the viewer knows and does, minus the drawing."""

    def __init__(
        self,
        client: QoderClient,
        emit: Callable[[object], None],
        *,
        live: bool = True,
        page_size: int = PAGE_SIZE,
        window: int = DEFAULT_WINDOW,
        clock: Callable[[], datetime] | None = None,
        background_after_first_paint: bool = False,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.client = client
        self.emit = emit
        self.live = live
        self.page_size = page_size
        self.window = window
        """Events each view keeps; older ones are let go and paged in again on demand."""
        self.keep_from: Callable[[Scope], int | None] = lambda _scope: None
        """Set by the UI: the first event index a scope's view shows (a trim keeps it)."""
        self.recent_sessions: list[str] = []
        """Sessions opened, most recent last: only the last two keep their events."""
        self.sessions: dict[str, Session] = {}
        self.stores: dict[str, SessionStore] = {}
        self.sessions_page: str | None = None
        self.current: Scope | None = None
        self.generation = 0
        """Moves on every change of what is shown; requests carry the one they began in."""
        self.followers: dict[Scope, asyncio.Task[None]] = {}
        self.stream_states: dict[Scope, StreamState] = {}
        self.buffers: dict[Scope, list[Event]] = {}
        self.fetching: set[Scope] = set()
        self.session_credits: dict[str, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._finished: deque[Callable[[], None]] = deque()
        """What tasks brought, in the order they finished, waiting for the UI's turn."""
        self._session_loads: dict[str, asyncio.Task[None]] = {}
        self._wanted_open: dict[str, Scope | None] = {}
        self._thread_loads: set[tuple[str, str]] = set()
        self.hints: dict[str, SessionHint] = {}
        """Each listed session's state from its newest events, before it is opened."""
        self.looks: dict[str, SessionStore] = {}
        """Running sessions not opened: their threads and each running child's newest events."""
        self._probing: set[str] = set()
        self._listed = False
        """A page of the session list has been read."""
        self._refreshing_sessions = False
        self._probe_slots = asyncio.Semaphore(4)
        self._census_slots = asyncio.Semaphore(2)
        self._counted: set[tuple[str, str]] = set()
        """Threads whose failed calls were (or are being) counted over their whole history."""
        self._censuses = 0
        self._probes_waiting: list[str] = []
        self._prefetched: dict[Scope, Page[Event]] = {}
        """Newest pages fetched with their session, waiting for their scope to open."""
        self._newest_at: dict[Scope, float] = {}
        """When each scope's newest page came in (time.monotonic)."""
        self._live_signalled = False
        self.last_arrival = 0.0
        """When a follower last handed over live events (monotonic seconds)."""
        self._released_at = 0.0
        """When input last stopped holding the followers (monotonic seconds)."""
        self.idle_alert_after: float | None = None
        """Seconds a thread that went idle live may stay idle before an Alert (None: never)."""
        self._went_idle: dict[Scope, datetime] = {}
        """Threads seen going idle live, and since when: check_idle watches them."""
        self._jump: Seek | None = None
        """An event wanted in a scope (a handoff's other side, a search), paging back to it."""
        self._live_drained = asyncio.Event()
        """Set while no live events wait to be drained: background reads wait for it."""
        self._live_drained.set()
        self._burst_until = 0.0
        """A burst is coming in until then (monotonic seconds): background reads wait."""
        self._painted = asyncio.Event()
        """Set once the UI has drawn what it opened with (`first_paint_done`): until then,
        background reads (probes of listed sessions, failed-call counts) wait."""
        if not background_after_first_paint:
            self.first_paint_done()
        self._resumed = asyncio.Event()
        """Cleared while input is being answered (hold_live): followers pause."""
        self._resumed.set()
        self.parked = 0
        """Followers stopped at a yield while input is answered (hold_live)."""
        self.batches_taken = 0
        """Batches the followers have put in the buffers (a chunk of the stream each)."""
        self._resume_timer: asyncio.TimerHandle | None = None
        self.filter_types: frozenset[str] | None = None
        """The log's filter matches only these types: older pages are asked for by type."""

    # ------------------------------------------------------------------ plumbing

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _later(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """From a task: apply `fn(*args)` on the UI's next turn (or sooner: run_finished)."""
        self._finished.append(partial(fn, *args, **kwargs))
        self.emit(Deferred(self.run_finished))

    def run_finished(self) -> None:
        """Apply, in order, what finished tasks brought and the UI has not applied yet.

        Each task's result also comes as a Deferred notice; whichever runs first applies it.
        The screen calls this as it mounts: a session whose answers were fetched while the
        app started opens in the first frame, not in one after it."""
        finished = self._finished
        while finished:
            finished.popleft()()

    def _safe(self, text: str) -> str:
        token = self.client.settings.token
        return redact(text, token.reveal() if token else None)

    def _fail(
        self,
        error: QoderError,
        doing: str,
        scope: Scope | None,
        *,
        fatal: bool = False,
        generation: int | None = None,
    ) -> None:
        if scope is not None:
            self.fetching.discard(scope)
        stale = generation is not None and generation != self.generation
        # A request the reader has moved away from can still say it failed, but it no
        # longer takes the screen over.
        self.emit(Failed(self._safe(str(error)), doing, scope, fatal and not stale, error))

    async def aclose(self) -> None:
        """Stop every follower and request, and wait until they have closed."""
        tasks = [*self.followers.values(), *self._tasks]
        self.followers.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    def source_of(self, scope: Scope) -> Scope:
        """The scope whose stream feeds this one (the primary thread is fed by the session)."""
        store = self.stores.get(scope[0])
        return (scope[0], store.source_of(scope[1])) if store is not None else scope

    def store_for(self, scope: Scope) -> EventStore | None:
        session = self.stores.get(scope[0])
        return session.scope(scope[1]) if session is not None else None

    # ------------------------------------------------------------------ sessions

    def list_sessions(self, page: str | None = None) -> None:
        self._spawn(self._list_sessions(page))

    async def _list_sessions(self, page: str | None) -> None:
        try:
            result = await self.client.list_sessions(limit=SESSIONS_PAGE, page=page)
        except QoderError as exc:
            self._later(self._fail, exc, "listing sessions", None, fatal=True)
            return
        self._later(self._sessions_listed, result.data, result.next_page, result.has_more)

    def _sessions_listed(self, sessions: list[Session], next_page: str | None, more: bool) -> None:
        for session in sessions:
            self.sessions[session.id] = session
        self.sessions_page = next_page if more else None
        self._listed = True
        self.emit(SessionsListed(sessions, more))
        self._probe_listed([s.id for s in sessions])

    def _probe_listed(self, ids: list[str]) -> None:
        if self._session_loads:
            self._probes_waiting.extend(ids)  # after the session being opened: it comes first
        else:
            self.probe_sessions(ids)

    def refresh_sessions(self) -> None:
        """Read the list's first page again (see SESSIONS_REFRESH)."""
        if not self._refreshing_sessions:
            self._refreshing_sessions = True
            self._spawn(self._refresh_sessions())

    async def _refresh_sessions(self) -> None:
        try:
            result = await self.client.list_sessions(limit=SESSIONS_PAGE)
        except QoderError:
            self._later(self._sessions_refreshed, None, None, False)  # the next one tries again
            return
        self._later(self._sessions_refreshed, result.data, result.next_page, result.has_more)

    def _sessions_refreshed(
        self, sessions: list[Session] | None, next_page: str | None, more: bool
    ) -> None:
        self._refreshing_sessions = False
        if sessions is None:
            return
        # Looked at again: new sessions, and those whose status changed (not merely their
        # time: a running session's changes every few seconds, and a look costs requests).
        changed = [
            s.id
            for s in sessions
            if (old := self.sessions.get(s.id)) is None or old.status != s.status
        ]
        for session in sessions:
            self.sessions[session.id] = session
        if not self._listed:  # the first listing had failed: this one is it
            self.sessions_page = next_page if more else None
            self._listed = True
        self.emit(SessionsListed(sessions, self.sessions_page is not None, fresh=True))
        self._probe_listed(changed)

    def _probe_waiting(self) -> None:
        """Probe the sessions listed while one was being opened, once no open is under way."""
        if self._probes_waiting and not self._session_loads:
            waiting, self._probes_waiting = self._probes_waiting, []
            self.probe_sessions(waiting)

    @property
    def probing(self) -> bool:
        """Whether some listed session's state is still being fetched."""
        return bool(self._probing)

    def probe_sessions(self, session_ids: list[str]) -> None:
        """Fetch each session's newest events (a few at a time) to learn its real state."""
        for session_id in session_ids:
            if session_id not in self._probing:
                self._probing.add(session_id)
                self._spawn(self._probe(session_id))

    async def _probe(self, session_id: str) -> None:
        look: SessionStore | None = None
        try:
            await self._live_first()
            async with self._probe_slots:
                page = await self.client.newest_events(session_id, None, limit=PROBE_EVENTS)
                session = self.sessions.get(session_id)
                opened = self.stores.get(session_id)
                if session is not None and not (opened is not None and opened.scopes):
                    hint = session_hint(page.data, session.display_status)
                    if hint.status == "running" and (
                        session_id in self.looks or len(self.looks) < LOOK_SESSIONS
                    ):
                        look = await self._look_into(session, page.data)
        except QoderError:
            self._later(self._probing.discard, session_id)
            return  # the list's own status stays; opening the session will say what is wrong
        self._later(self._probed, session_id, page.data, look)

    async def _look_into(self, session: Session, stream: list[Event]) -> SessionStore:
        """A running session, not opened: its threads and the newest events of each running
        child, enough to tell (`attention`) a call unanswered for long or a child waited on."""
        look = SessionStore(session, window=PROBE_EVENTS)
        look.set_threads(await self.client.all_threads(session.id))
        look.scope(None).start(stream, has_older=True)
        running = [
            t.id for t in look.threads.values() if t.status == "running" and not t.thread.is_primary
        ]
        for thread_id in running[:LOOK_THREADS]:
            page = await self.client.newest_events(session.id, thread_id, limit=PROBE_EVENTS)
            look.stamp(thread_id, page.data)
            look.scope(thread_id).start(page.data, has_older=page.has_more)
        return look

    def _probed(self, session_id: str, events: list[Event], look: SessionStore | None) -> None:
        self._probing.discard(session_id)
        session = self.sessions.get(session_id)
        if session is None:
            return
        self.hints[session_id] = session_hint(events, session.display_status)
        if look is not None:
            self.looks[session_id] = look
        else:
            self.looks.pop(session_id, None)
        self.emit(TreeChanged(frozenset({session_id})))

    def status_of(self, session: Session) -> str:
        """What the tree shows: the loaded session's live state, else what its events said."""
        store = self.stores.get(session.id)
        if store is not None and store.scopes:
            return store.status
        hint = self.hints.get(session.id)
        return hint.status if hint is not None else session.display_status

    def last_event_of(self, session_id: str) -> datetime | None:
        store = self.stores.get(session_id)
        if store is not None and store.last_event_at is not None:
            return store.last_event_at
        hint = self.hints.get(session_id)
        return hint.last_event_at if hint is not None else None

    def attention(self) -> list[Scope]:
        """Every session and thread that needs the reader: first what waits for approval or
        errored (in the order the tree lists them), then threads with a tool call unanswered
        for STUCK_CALL_SECONDS and children the coordinator waits on (in sessions not opened,
        as the newest events of their running threads tell)."""
        out: list[Scope] = []
        softer: list[Scope] = []
        now = self.clock()
        for session_id, session in self.sessions.items():
            store = self.stores.get(session_id)
            if self.status_of(session) in NEEDS_ATTENTION:
                out.append((session_id, None))
            if store is None or not store.scopes:
                # Not open: what a look at its newest events found (running sessions only).
                store = self.looks.get(session_id)
                if store is None:
                    continue
            waited_on = _children_waited_on(store)
            for info in store.threads.values():
                scope = (session_id, info.id)
                if info.status in NEEDS_ATTENTION and not info.thread.is_primary:
                    out.append(scope)
                elif info.status == "running" and (
                    info.id in waited_on or _long_unanswered(store, info.id, now)
                ):
                    softer.append(scope)
        return out + softer

    # ------------------------------------------------------------------ answers

    def diagnose(self, session_id: str, *, asked: bool = True) -> None:
        """Why is it stuck: fetch every thread's newest events, then say what blocks each."""
        self._spawn(self._diagnose(session_id, asked))

    async def _diagnose(self, session_id: str, asked: bool) -> None:
        store = self.stores.get(session_id)
        if store is None:
            return
        primary = store.primary
        scopes: list[tuple[str | None, str]] = [(None, primary.name if primary else "coordinator")]
        scopes += [(t.id, t.name) for t in store.threads.values() if not t.thread.is_primary]
        pages = await asyncio.gather(
            *(self._newest_of(session_id, tid) for tid, _ in scopes),
            return_exceptions=True,
        )
        threads: dict[str | None, tuple[str, list[Event]]] = {}
        for (tid, name), page in zip(scopes, pages, strict=True):
            if isinstance(page, QoderError):
                self._later(self._fail, page, f"diagnosing {name}", None)
            elif not isinstance(page, BaseException):
                threads[primary.id if tid is None and primary else tid] = (name, page)
        self._later(self._diagnosed, session_id, threads, asked)

    async def _newest_of(self, session_id: str, thread_id: str | None) -> list[Event]:
        """A stream's newest page of events: the loaded one, while it is the server's newest
        (followed live, or just read), else asked for."""
        held = self._newest_held((session_id, thread_id))
        if held is not None:
            return held
        return (await self.client.newest_events(session_id, thread_id)).data

    def _newest_held(self, scope: Scope) -> list[Event] | None:
        session_store = self.stores.get(scope[0])
        store = session_store.scopes.get(scope[1]) if session_store is not None else None
        if store is None or not store.started or store.has_newer:
            return None
        state = self.stream_states.get(scope)
        live = state is not None and state.phase == "live" and scope in self.followers
        if not live and time.monotonic() - self._newest_at.get(scope, -FRESH_PAGE) > FRESH_PAGE:
            return None
        whole = len(store) - store.sparse  # (the newest events, without gaps between them)
        if whole < self.page_size and store.has_older:
            return None
        return list(store.events[len(store) - min(whole, self.page_size) :])

    def _diagnosed(
        self, session_id: str, threads: dict[str | None, tuple[str, list[Event]]], asked: bool
    ) -> None:
        store = self.stores.get(session_id)
        if store is None:
            return
        primary = store.primary
        status: dict[str | None, str] = {t.id: t.status for t in store.threads.values()}
        findings = diagnose(
            threads, primary=primary.id if primary else None, now=self.clock(), status=status
        )
        self.emit(DiagnosisReady(session_id, findings, asked))

    def handoffs(self, session_id: str) -> None:
        """The handoff ledger: the session stream's handoffs and child statuses, every page."""
        self._spawn(self._handoffs(session_id))

    async def _handoffs(self, session_id: str) -> None:
        events: list[Event] = []
        complete = False
        try:
            pages = self.client.walk_forward(
                session_id, None, types=LEDGER_TYPES, max_pages=LEDGER_PAGES
            )
            async for page in pages:
                events.extend(page.data)
                complete = not page.has_more or not page.data
        except QoderError as exc:
            self._later(self._fail, exc, "reading the handoffs", None)
            return
        self._later(self._ledger_read, session_id, events, complete)

    def _ledger_read(self, session_id: str, events: list[Event], complete: bool) -> None:
        store = self.stores.get(session_id)
        if store is None:
            return
        names = {t.id: t.name for t in store.threads.values()}
        states = {t.id: t.status for t in store.threads.values()}
        rows = handoff_ledger(events, names=names, states=states)
        self.emit(LedgerReady(session_id, rows, complete))

    def load_session(self, session_id: str, open_scope: Scope | None) -> None:
        """Fetch a session and its threads, once at a time; then open `open_scope`."""
        loading = session_id in self._session_loads
        if open_scope is not None and not (
            loading and self._wanted_open.get(session_id) == open_scope
        ):
            self.generation += 1  # what the reader wants now: older requests become stale
        self._wanted_open[session_id] = open_scope
        if loading:
            return  # the load under way opens what is wanted last
        generation = self.generation
        self._session_loads[session_id] = self._spawn(self._load_session(session_id, generation))

    async def _load_session(self, session_id: str, generation: int) -> None:
        thread_id = (self._wanted_open.get(session_id) or (session_id, None))[1]
        # The session, its threads and the newest page(s) at once: one round trip, not three.
        pages: list[Scope] = [(session_id, None)] + ([(session_id, thread_id)] if thread_id else [])
        fetches = [
            self.client.get_session(session_id),
            self.client.all_threads(session_id),
            *(self.client.newest_events(sid, tid, limit=self.page_size) for sid, tid in pages),
        ]
        results = await asyncio.gather(*fetches, return_exceptions=True)
        session, threads = results[0], results[1]
        try:
            for result in (session, threads):
                if isinstance(result, BaseException):
                    raise result
            assert isinstance(threads, list)
            if thread_id and thread_id not in {t.id for t in threads}:
                await self.client.get_thread(session_id, thread_id)  # raises the 404 naming it
        except QoderError as exc:
            self._later(self._session_failed, exc, session_id, thread_id, generation)
            return
        prefetched = {
            scope: page
            for scope, page in zip(pages, results[2:], strict=True)
            if not isinstance(page, BaseException)
        }
        self._later(self._session_loaded, session, threads, prefetched)

    def _session_failed(
        self, exc: QoderError, session_id: str, thread_id: str | None, generation: int
    ) -> None:
        self._session_loads.pop(session_id, None)
        self._wanted_open.pop(session_id, None)
        self._probe_waiting()
        self._fail(
            exc,
            f"opening session {session_id}",
            (session_id, thread_id),
            fatal=True,
            generation=generation,
        )

    def _session_loaded(
        self, session: Session, threads: list[Thread], prefetched: dict[Scope, Page[Event]]
    ) -> None:
        session_id = session.id
        self._session_loads.pop(session_id, None)
        self._prefetched.update(prefetched)
        self.sessions[session.id] = session
        store = self.stores.get(session.id)
        if store is None:
            store = self.stores[session.id] = SessionStore(session, window=self.window)
        else:
            store.session = session
        store.set_threads(threads)
        self.emit(TreeChanged(frozenset({session.id})))
        self.emit(SessionReady(session.id, self._wanted_open.pop(session_id, None)))
        self._probe_waiting()
        for thread in threads:
            self._count_failures(session_id, thread.id)

    # ------------------------------------------------------------------ failed calls

    def _count_failures(self, session_id: str, thread_id: str) -> None:
        """Read a thread's tool results (the server filters by type) to count its failed calls
        over its whole history, not only over the pages loaded."""
        if (session_id, thread_id) in self._counted:
            return
        self._counted.add((session_id, thread_id))
        self._censuses += 1
        self._spawn(self._census(session_id, thread_id))

    @property
    def counting(self) -> bool:
        """Threads' histories are being read to count their failed calls."""
        return self._censuses > 0

    async def _census(self, session_id: str, thread_id: str) -> None:
        complete = False
        try:
            await self._live_first()
            async with self._census_slots:
                store = self.stores.get(session_id)
                if store is None:
                    return
                source = store.source_of(thread_id)
                pages = self.client.walk_forward(
                    session_id, source, types=TOOL_RESULT_TYPES, max_pages=CENSUS_PAGES
                )
                async for page in pages:
                    self._later(self._census_read, session_id, source, page.data)
                    complete = not page.has_more or not page.data
                    await self._live_first()  # before the next page is asked for
        except QoderError:
            pass  # the count stays what the events seen tell (marked as a lower bound)
        finally:
            self._later(self._census_done, session_id, thread_id, complete)

    def _census_read(self, session_id: str, source: str | None, events: list[Event]) -> None:
        store = self.stores.get(session_id)
        if store is None:
            return
        store.stamp(source, events)
        for event in events:
            store.observe(event, current=False)

    def _census_done(self, session_id: str, thread_id: str, complete: bool) -> None:
        self._censuses -= 1
        store = self.stores.get(session_id)
        info = store.threads.get(thread_id) if store is not None else None
        if info is not None:
            info.failures_counted = complete
            self.emit(TreeChanged(frozenset({session_id})))

    def _fetch_thread(self, session_id: str, thread_id: str) -> None:
        key = (session_id, thread_id)
        if key in self._thread_loads:
            return  # single flight: one request per unknown thread, however many events name it
        self._thread_loads.add(key)
        self._spawn(self._load_thread(session_id, thread_id))

    async def _load_thread(self, session_id: str, thread_id: str) -> None:
        try:
            thread = await self.client.get_thread(session_id, thread_id)
        except QoderError as exc:
            self._later(self._fail, exc, f"loading thread {thread_id}", None)
            return
        self._later(self._add_thread, session_id, thread)

    def _add_thread(self, session_id: str, thread: Thread) -> None:
        store = self.stores.get(session_id)
        if store is None:
            return
        store.add_thread(thread)
        self.emit(TreeChanged(frozenset({session_id}), named=True))
        self._count_failures(session_id, thread.id)
        if self.current == (session_id, ALL_THREADS):
            self._ensure_loaded((session_id, thread.id))  # a new child joins the merged view

    # ------------------------------------------------------------------ scopes

    def open(self, scope: Scope) -> EventStore | None:
        """Make `scope` the one shown.  Its store, or None while its session loads."""
        session_id, thread_id = scope
        store = self.stores.get(session_id)
        if store is None:
            self.load_session(session_id, scope)
            return None
        previous = self.current
        self.current = scope
        self.generation += 1
        sources = self.sources_of(scope)
        if previous is None or previous[0] != session_id:
            self.stop_followers(keep=session_id)
            self._evict(session_id)
        else:
            # Keep following the session stream (it carries every thread's status).
            for key in list(self.followers):
                if key != (session_id, None) and key not in sources:
                    self.stop_follower(key)
        for kept, loaded in list(store.scopes.items()):
            if kept == ALL_THREADS or store.is_primary(kept) or not loaded.has_newer:
                continue  # (views made from another store follow it)
            if (session_id, kept) not in sources or thread_id == ALL_THREADS:
                # A thread read from its start (t, or a far jump) is left: back to its newest
                # page when next shown, and followed again (the session stream keeps the tree live).
                store.restart(kept)
        self._narrow_sources(scope)
        view = store.scope(thread_id)
        for source in sources:
            self._ensure_loaded(source)
        if (session_id, None) not in sources:
            self._ensure_loaded((session_id, None))
        return view

    def sources_of(self, scope: Scope) -> list[Scope]:
        """The streams a view is made of: one, or for the merged view every thread's."""
        store = self.stores.get(scope[0])
        if store is not None and scope[1] == ALL_THREADS:
            return [(scope[0], source) for source in store.merged_sources()]
        return [self.source_of(scope)]

    def _evict(self, session_id: str) -> None:
        """Keep the events of this session and the one viewed before it; let the rest go."""
        if session_id in self.recent_sessions:
            self.recent_sessions.remove(session_id)
        self.recent_sessions.append(session_id)
        for old in self.recent_sessions[:-2]:
            store = self.stores.get(old)
            if store is not None:
                store.unload()
                for scope in [k for k in self.fetching if k[0] == old]:
                    self.fetching.discard(scope)
                for scope in [k for k in self._newest_at if k[0] == old]:
                    del self._newest_at[scope]
        del self.recent_sessions[:-2]

    def _ensure_loaded(self, scope: Scope) -> None:
        store = self.store_for(scope)
        if store is None:
            return
        if not store.started:
            page = self._prefetched.pop(scope, None)
            if page is not None:
                self._page_loaded(scope, page.data, page.has_more, newest=True)
            elif scope not in self.fetching:
                self.fetching.add(scope)
                self._spawn(self._load_page(scope, None, self.generation))
        else:
            self._ensure_following(scope)

    def need_older(self, scope: Scope) -> None:
        """The reader nears the top of `scope`: fetch the page before its oldest event."""
        if self._page_back(scope) and self.current == scope:
            self.emit(LoadingOlder(scope, True))

    def _page_back(self, scope: Scope) -> bool:
        """Fetch what comes before a view's oldest event.  False if there is nothing to fetch.

        For the merged view, that is the older page of whichever thread the
        merged view waits on (the one loaded least far back).
        """
        started = False
        for source in self._edge_sources(scope, older=True):
            store = self.store_for(source)
            if store is None or not store.has_older or not store.oldest_id:
                continue
            if self.filter_types is not None and not self.filter_types:
                continue  # the filter's terms exclude each other: nothing older can match
            started = True
            if source not in self.fetching:
                self._fetch_older(source, store)
        return started

    def _edge_sources(self, scope: Scope, *, older: bool) -> list[Scope]:
        """The sources to page for a view, back (`older`) or forward: the view's own, or for
        the merged view those its frontier on that side waits on."""
        session_store = self.stores.get(scope[0])
        if session_store is None:
            return []
        if scope[1] != ALL_THREADS:
            return [self.source_of(scope)]
        blockers = session_store.merge_blockers() if older else session_store.newer_blockers()
        return [(scope[0], source) for source in blockers]

    def _fetch_older(self, source: Scope, store: EventStore) -> None:
        """The page before a source's oldest event (of the filter's types, when it has some)."""
        if not store.sparse:  # (a store made since the filter was set, or a server without them)
            store.sparse_types = None if self.client.types_refused else self.filter_types
        if store.oldest_id is None or (store.sparse_types is not None and not store.sparse_types):
            return  # (nothing loaded yet, or the filter's terms exclude each other)
        self.fetching.add(source)
        self._spawn(self._load_page(source, store.oldest_id, self.generation, store.sparse_types))

    # ------------------------------------------------------------------ filtered by type

    def narrow(self, scope: Scope, types: frozenset[str] | None) -> bool:
        """The log is filtered to events of `types` (None: no filter on types).  Older pages
        of the view's sources are asked of the server by type from now on; what was paged
        in for other types goes.  True if loaded events went (the view must be shown anew)."""
        self.filter_types = types
        return self._narrow_sources(scope)

    def _narrow_sources(self, scope: Scope) -> bool:
        session_store = self.stores.get(scope[0])
        if session_store is None:
            return False
        dropped = False
        for source in self.sources_of(scope):
            dropped = session_store.narrow(source[1], self.filter_types) or dropped
        return dropped

    # ------------------------------------------------------------------ from the start

    def to_start(self, scope: Scope) -> bool:
        """Show a thread (or the session stream, or every thread merged) from its very first
        event, paging forward.

        Its follower stops meanwhile (live events would leave a gap after the
        first page); it starts again once paging forward reaches the newest
        event, or at once with `to_newest`.  The merged view reads each thread
        from its start and pages forward whichever is loaded least far.
        """
        session_store = self.stores.get(scope[0])
        if session_store is None:
            return False
        self.generation += 1
        for source in self.sources_of(scope):
            self.stop_follower(source)
            if scope[1] == ALL_THREADS:
                session_store.restart(source[1])  # (no merged view until every start is in)
            self.fetching.add(source)
            self._spawn(self._load_at(source, None, self.generation))
        if scope[1] == ALL_THREADS and self.current == scope:
            self.emit(ViewChanged(scope, Change(), reset=True))  # loading…
        return True

    def open_at(self, scope: Scope, event_id: str) -> None:
        """Show a thread from one event on, however far back it is (two requests: the event
        before it, then the page after that), detached from live like `to_start`."""
        if scope[1] == ALL_THREADS or scope[0] not in self.stores:
            self.emit(Notice("That event is further back than the merged view pages.", "warning"))
            return
        source = self.source_of(scope)
        self.stop_follower(source)
        self.generation += 1
        self.fetching.add(source)
        self._spawn(self._load_at(source, event_id, self.generation))

    async def _load_at(self, source: Scope, event_id: str | None, generation: int) -> None:
        """The page starting at `event_id` (None: at the very first event)."""
        has_older = False
        try:
            if event_id is not None:
                before = await self.client.older_events(*source, event_id, limit=1)
                has_older = bool(before.data)
            if has_older:
                page = await self.client.newer_events(
                    *source, before.data[-1].id, limit=self.page_size
                )
            else:
                page = await self.client.oldest_events(*source, limit=self.page_size)
        except QoderError as exc:
            self._later(self._page_failed, exc, source, generation)
            return
        self._later(self._start_loaded, source, page, has_older, event_id, generation)

    def _start_loaded(
        self,
        source: Scope,
        page: Page[Event],
        has_older: bool,
        select: str | None,
        generation: int,
    ) -> None:
        self.fetching.discard(source)
        session_store = self.stores.get(source[0])
        if session_store is None or generation != self.generation:
            return  # the reader moved on meanwhile
        store = session_store.restart(source[1])
        session_store.stamp(source[1], page.data)
        change = store.start(page.data, has_older=has_older)
        store.has_newer = page.has_more
        if self._observe(session_store, page.data, current=False):
            self.emit(TreeChanged(frozenset({session_store.id})))
        if self.current is not None:
            self.emit(ViewChanged(self.current, change, reset=True))
            if select is not None and select in store:
                self.emit(Select(self.current, select))
        if not store.has_newer:
            self._ensure_following(source)

    def need_newer(self, scope: Scope) -> None:
        """The reader nears the bottom of a view opened at its start: the next page forward
        (for the merged view, of the threads loaded least far forward)."""
        self._page_forward(scope)

    def _page_forward(self, scope: Scope) -> bool:
        """Fetch what comes after a view's newest event.  False if there is nothing to fetch."""
        started = False
        for source in self._edge_sources(scope, older=False):
            store = self.store_for(source)
            if store is None or not store.has_newer or store.newest_id is None:
                continue
            started = True
            if source not in self.fetching:
                self._fetch_newer(source, store.newest_id)
        return started

    def _fetch_newer(self, source: Scope, after_id: str) -> None:
        """The page after the event `after_id`, a source's newest loaded."""
        self.fetching.add(source)
        self._spawn(self._load_newer(source, after_id, self.generation))

    async def _load_newer(self, source: Scope, after_id: str, generation: int) -> None:
        try:
            page = await self.client.newer_events(*source, after_id, limit=self.page_size)
        except QoderError as exc:
            self._later(self._page_failed, exc, source, generation)
            return
        self._later(self._newer_loaded, source, page, after_id)

    def _newer_loaded(self, source: Scope, page: Page[Event], after_id: str) -> None:
        self.fetching.discard(source)
        session_store = self.stores.get(source[0])
        store = session_store.scopes.get(source[1]) if session_store is not None else None
        if session_store is None or store is None or not store.has_newer:
            return
        if store.newest_id != after_id:
            # Asked for after another last event (the view was opened anew meanwhile): those
            # events would leave a gap, or repeat.  The page after its last event instead.
            if store.newest_id is not None:
                self._fetch_newer(source, store.newest_id)
            return
        session_store.stamp(source[1], page.data)
        change = store.append(page.data)
        store.has_newer = page.has_more and bool(change.added)
        if self._observe(session_store, page.data, current=not store.has_newer):
            self.emit(TreeChanged(frozenset({session_store.id})))
        for view_scope, view_change in self.fan_out(session_store, source, change):
            self.emit(ViewChanged(view_scope, view_change, reset=view_change.rebuilt))
            self._continue_jump(view_scope)
            merged = session_store.scopes.get(ALL_THREADS)
            if (
                view_scope[1] == ALL_THREADS
                and self.current == view_scope
                and not view_change.added
                and merged is not None
                and merged.has_newer
            ):
                # That page reached no further than another thread already had: the next one.
                self.need_newer(view_scope)
        if not store.has_newer:
            self._ensure_following(source)  # caught up: live again, from the newest event

    def to_newest(self, scope: Scope) -> None:
        """Leave a view opened at its start for its newest events, followed live again."""
        session_store = self.stores.get(scope[0])
        if session_store is None:
            return
        self.generation += 1
        sources = self.sources_of(scope)
        for source in sources:
            self.fetching.discard(source)
            session_store.restart(source[1])
        if self.current is not None:
            self.emit(ViewChanged(self.current, Change(), reset=True))  # loading…
        for source in sources:
            self._ensure_loaded(source)

    async def _load_page(
        self,
        scope: Scope,
        before_id: str | None,
        generation: int,
        types: frozenset[str] | None = None,
    ) -> None:
        session_id, thread_id = scope
        try:
            if before_id is None:
                page = await self.client.newest_events(session_id, thread_id, limit=self.page_size)
            else:
                page = await self.client.older_events(
                    session_id,
                    thread_id,
                    before_id,
                    limit=self.page_size,
                    types=sorted(types) if types is not None else None,
                )
        except QoderError as exc:
            self._later(self._page_failed, exc, scope, generation)
            return
        if self.client.types_refused:
            types = None  # (asked without the filter: every event, not a page of some types)
        self._later(
            self._page_loaded,
            scope,
            page.data,
            page.has_more,
            newest=before_id is None,
            types=types,
            before=before_id,
        )

    def _older_moot(self, scope: Scope, store: EventStore) -> None:
        """An older page that does not fit the store any more: ask for the one that does, if
        there is one, else say the view is not loading."""
        if store.has_older and store.oldest_id:
            self._fetch_older(scope, store)
        current = self.current
        if scope not in self.fetching and current is not None and self.source_of(current) == scope:
            self.emit(LoadingOlder(current, False))

    def _page_failed(self, exc: QoderError, scope: Scope, generation: int) -> None:
        if self.current is not None and self.source_of(self.current) == scope:
            self.emit(LoadingOlder(self.current, False))
        self._fail(exc, "loading events", scope, generation=generation)

    def _page_loaded(
        self,
        scope: Scope,
        events: list[Event],
        has_older: bool,
        *,
        newest: bool,
        types: frozenset[str] | None = None,
        before: str | None = None,
    ) -> None:
        """A page is in: the newest (`newest`), or the one before the event `before`."""
        session_store = self.stores.get(scope[0])
        self.fetching.discard(scope)
        if session_store is None or (scope[1] not in session_store.scopes and not newest):
            return  # the session (or its events) was let go meanwhile: an older page has no home
        store = session_store.scope(scope[1])
        if newest and store.started:
            return  # a second newest page (the scope was opened again meanwhile)
        if not newest and store.oldest_id != before:
            # Asked for before another first event: the view was opened anew meanwhile (at
            # its start, at an event, at its newest), or let its oldest events go.  Those
            # events do not go before the ones it holds now.
            self._older_moot(scope, store)
            return
        if not newest and types != store.sparse_types:
            # Asked for under another filter: ask again for what the view now pages by.
            self._fetch_older(scope, store)
            return
        session_store.stamp(scope[1], events)
        if newest:
            self._newest_at[scope] = time.monotonic()
            change = store.start(events, has_older=has_older)
        else:
            change = store.prepend(events, has_older=has_older, sparse=types is not None)
        if self._observe(session_store, events, current=newest):
            self.emit(TreeChanged(frozenset({session_store.id})))
        for view_scope, view_change in self.fan_out(session_store, scope, change):
            if not newest and self.current == view_scope:
                self.emit(LoadingOlder(view_scope, False))
            self.emit(ViewChanged(view_scope, view_change, reset=newest or view_change.rebuilt))
            self._continue_jump(view_scope)
            if (
                not newest
                and view_scope[1] == ALL_THREADS
                and self.current == view_scope
                and not view_change.added
                and self._jump is None
            ):
                # That page reached no further back than another thread already had:
                # the merged view shows nothing new yet, so the next one is fetched.
                self.need_older(view_scope)
        if newest:
            self._ensure_following(scope)

    def fan_out(
        self, session_store: SessionStore, scope: Scope, change: Change
    ) -> list[tuple[Scope, Change]]:
        """The scope itself, and the primary thread's view when the session stream changed."""
        out = [(scope, change)]
        if scope[1] is None:
            mirrored = session_store.route(change)
            primary = session_store.primary
            if mirrored is not None and primary is not None:
                out.append(((scope[0], primary.id), mirrored))
        merged, rebuilt = session_store.route_merged(change)
        if merged is not None:
            merged.rebuilt = rebuilt
            out.append(((scope[0], ALL_THREADS), merged))
        return out

    # ------------------------------------------------------------------ live

    def _ensure_following(self, scope: Scope) -> None:
        if not self.live or scope in self.followers:
            return
        store = self.store_for(scope)
        if store is None or store.has_newer:
            return  # (a view opened at its start follows once it has paged up to now)
        if store.events and is_terminal(store.events[-1]):
            self._set_stream_state(scope, StreamState("ended", reason=store.events[-1].type))
            return
        newest = store.events[-1].time if store.events else None
        follower = Follower(
            self.client,
            scope[0],
            scope[1],
            last_event_id=store.newest_id,
            seen=[e.id for e in store.events[-1000:]],
            newest_time=newest,
            on_state=lambda state: self._later(self._stream_state, scope, state),
        )
        self.followers[scope] = self._spawn(self._follow(scope, follower))

    def _stream_state(self, scope: Scope, state: StreamState) -> None:
        if scope in self.followers:  # a stopped follower's last words change nothing
            self._set_stream_state(scope, state)

    def _set_stream_state(self, scope: Scope, state: StreamState) -> None:
        self.stream_states[scope] = state
        self.emit(StreamChanged(scope, state))

    async def _follow(self, scope: Scope, follower: Follower) -> None:
        try:
            # After the first paint: connecting loads httpx, httpcore, h11 and anyio (70-85 ms
            # of a launch), and the stream resumes after the newest event loaded regardless.
            await self._painted.wait()
            last_yield = time.monotonic()
            async with aclosing(follower.batches()) as batches:
                async for batch in batches:
                    buffer = self.buffers.setdefault(scope, [])
                    buffer.extend(batch)
                    self._live_drained.clear()
                    if not self._live_signalled:
                        self._live_signalled = True
                        self.emit(LiveWaiting())
                    self.batches_taken += 1
                    self.last_arrival = now = time.monotonic()
                    # A fast stream's bytes are already buffered, so reading never blocks
                    # and never lets the loop run anything else: hand it back every few ms.
                    if not self._resumed.is_set():
                        # Input is being answered (see hold_live): stop at once, not at the
                        # next few-ms yield (another chunk read and parsed meanwhile).
                        self.parked += 1
                        try:
                            await self._resumed.wait()
                        finally:
                            self.parked -= 1
                        last_yield = time.monotonic()
                    elif now - last_yield > YIELD_EVERY:
                        await asyncio.sleep(0)
                        last_yield = time.monotonic()
        except QoderError as exc:
            self._later(self._follow_failed, exc, scope, asyncio.current_task())

    def _follow_failed(self, exc: QoderError, scope: Scope, task: object) -> None:
        if self.followers.get(scope) is not task:
            return  # a follower stopped since: not news
        self.followers.pop(scope, None)
        self._set_stream_state(scope, StreamState("failed", reason=self._safe(str(exc))))
        self._fail(exc, "following live events", scope)

    def hold_live(self, seconds: float) -> None:
        """Followers pause after their next batch for up to `seconds` (or until release_live):
        the UI answers input first."""
        self._resumed.clear()
        if self._resume_timer is not None:
            self._resume_timer.cancel()
        self._resume_timer = asyncio.get_running_loop().call_later(seconds, self.release_live)

    def release_live(self) -> None:
        """The input was answered: followers go on at once."""
        if self._resume_timer is not None:
            self._resume_timer.cancel()
            self._resume_timer = None
        if not self._resumed.is_set():
            self._released_at = time.monotonic()
        self._resumed.set()

    @property
    def has_buffered(self) -> bool:
        """Live events wait in a buffer to be drained."""
        return any(self.buffers.values())

    @property
    def live_held(self) -> bool:
        return not self._resumed.is_set()

    def stream_quiet(self, quiet_for: float) -> bool:
        """No live events came in for `quiet_for` seconds, and not because input held the
        followers (a burst is over, or paused at the server): the quiet counts from the
        end of the last hold, as a held follower reads nothing."""
        if self.live_held:
            return False
        return time.monotonic() - max(self.last_arrival, self._released_at) >= quiet_for

    def stop_follower(self, scope: Scope) -> None:
        task = self.followers.pop(scope, None)
        if task is not None:
            task.cancel()  # cancelling closes its generators (aclosing), and so its connection
        self.buffers.pop(scope, None)
        self.stream_states.pop(scope, None)
        if not self.has_buffered:
            self._live_drained.set()

    def stop_followers(self, keep: str | None = None) -> None:
        for scope in list(self.followers):
            if scope[0] != keep:
                self.stop_follower(scope)

    def drain(self, limit: int) -> DrainResult:
        """Move up to `limit` buffered live events into their stores."""
        result = DrainResult()
        for scope, buffer in list(self.buffers.items()):
            if not buffer or result.applied >= limit:
                continue
            take = limit - result.applied
            events = buffer[:take]
            del buffer[:take]
            result.applied += len(events)
            session_store = self.stores.get(scope[0])
            if session_store is None:
                continue
            session_store.stamp(scope[1], events)
            change = session_store.scope(scope[1]).append(events)
            if self._observe(session_store, events, alert=True):
                result.sessions.add(scope[0])
            for view_scope, view_change in self.fan_out(session_store, scope, change):
                view = session_store.scope(view_scope[1])
                if view.over_window:  # (what the reader has on screen is asked only then)
                    view_change.trimmed = view.trim(keep_from=self.keep_from(view_scope))
                result.views.append((view_scope, view_change))
        result.more = self.has_buffered
        self._live_signalled = result.more
        if result.applied >= BURST_EVENTS:
            self._burst_until = time.monotonic() + BURST_QUIET
        if not result.more:
            self._live_drained.set()
        return result

    def first_paint_done(self) -> None:
        """The UI drew what it opened with: background reads may start, and the faster
        JSON parser is loaded (its import would have delayed that first paint)."""
        if not self._painted.is_set():
            self._painted.set()
            load_fast_json()

    async def _live_first(self) -> None:
        """Background reads (probes, counting failed calls) wait until the first paint, and
        while a burst of live events comes in (events wait to be drained, or a drain moved
        many of them lately), or input is being answered: those go first."""
        await self._painted.wait()
        while True:
            await self._live_drained.wait()
            await self._resumed.wait()
            quiet_in = self._burst_until - time.monotonic()
            if quiet_in <= 0 and self._live_drained.is_set() and self._resumed.is_set():
                return
            await asyncio.sleep(max(quiet_in, 0.0))

    def _observe(
        self,
        session_store: SessionStore,
        events: list[Event],
        *,
        current: bool = True,
        alert: bool = False,
    ) -> bool:
        """Status news from events; fetch threads not known yet.  True if the tree changed.

        With `alert` (live events), a thread that starts needing the reader raises an
        Alert; opening a session that already waits is not news.
        """
        changed = False
        threads = session_store.threads
        before = {t.id: t.status for t in threads.values()} if alert else {}
        for event in events:
            if type(event) in _QUIET_KINDS:  # (most live events)
                thread_id = event.thread_id
                if thread_id and thread_id not in threads:
                    changed = True
                    self._fetch_thread(session_store.id, thread_id)
                continue
            if alert:
                session_store.count_live(event)
            unknown = session_store.observe(event, current=current)
            news = _NEWS_BY_KIND.get(type(event))
            if news is not None and news(self, session_store.id, event):
                changed = True
            if unknown or event.type.startswith(("session.status", "session.thread")):
                changed = True
            for thread_id in unknown:
                self._fetch_thread(session_store.id, thread_id)
        for info in session_store.threads.values() if alert else ():
            if before.get(info.id) == info.status:
                continue
            if info.status in NEEDS_ATTENTION:
                word = "is waiting for approval" if info.status == "waiting" else "errored"
                title = session_store.session.display_title
                self.emit(Alert((session_store.id, info.id), f"{info.name} {word} ({title})"))
            if info.status == "idle" and info.since is not None:
                self._went_idle[(session_store.id, info.id)] = info.since  # seen live
            else:
                self._went_idle.pop((session_store.id, info.id), None)
        return changed

    def _result_news(self, session_id: str, event: ToolResult) -> bool:
        return event.is_error  # a thread row counts its failed calls

    def _usage_news(self, session_id: str, event: UsageSnapshot) -> bool:
        if event.usage and event.usage.credits is not None:
            # Credits only grow: an older snapshot (a page paged in) never lowers them.
            old = self.session_credits.get(session_id)
            self.session_credits[session_id] = max(old or 0.0, event.usage.credits)
        return False

    def check_idle(self, now: datetime) -> None:
        """Alert once for each thread that went idle live and has stayed idle past the limit."""
        if not self.idle_alert_after:
            return
        for scope, since in list(self._went_idle.items()):
            store = self.stores.get(scope[0])
            info = store.threads.get(scope[1] or "") if store is not None else None
            if info is None or info.status != "idle" or info.since != since:
                del self._went_idle[scope]
                continue
            idle = (now - since).total_seconds()
            if idle >= self.idle_alert_after:
                del self._went_idle[scope]  # once per idle spell
                title = store.session.display_title if store is not None else scope[0]
                self.emit(
                    Alert(scope, f"{info.name} has been idle {age_text(since, now)} ({title})")
                )

    # ------------------------------------------------------------------ handoffs

    def jump(self, origin: Scope, event: ThreadMessage) -> Scope | None:
        """Enter on a handoff: open the other side and select the matching event there."""
        session_id, thread_id = origin
        store = self.stores[session_id]
        primary = store.primary
        owner = event.thread_id or thread_id or (primary.id if primary else None)
        peer = event.peer_thread_id or (primary.id if primary and owner != primary.id else None)
        if peer is None:
            self.emit(
                Notice("This handoff does not say which thread is on the other side.", "warning")
            )
            return None
        target: Scope = (session_id, peer)
        self._jump = Seek(
            target,
            partial(_other_side, event, owner),
            MAX_JUMP_PAGES,
            "The other side of this handoff is not in {name}'s events.",
        )
        return target

    def find(self, scope: Scope, event_id: str) -> None:
        """Select an event of `scope`: paging back a few pages if it is not loaded, and
        beyond that, fetching the page that starts at it (however far back it is)."""
        self._jump = Seek(
            scope,
            partial(_by_id, event_id),
            NEAR_PAGES if scope[1] != ALL_THREADS else MAX_JUMP_PAGES,
            "That event is not in {name}'s events.",
            beyond=partial(self.open_at, scope, event_id),
        )
        self._continue_jump(scope)

    def search(self, scope: Scope, query: str, *, before: str | None, older: bool = True) -> None:
        """Select the next event matching `query` (older than `before`, or newer with
        `older=False`), paging back into history for as long as it takes (cancel stops it)."""
        needle = query.casefold()
        self.seek(
            scope,
            lambda event, _store: needle in search_text(event),
            before=before,
            older=older,
            what=f"event matches {query!r}",
        )

    def seek(
        self,
        scope: Scope,
        test: EventTest,
        *,
        before: str | None,
        older: bool = True,
        what: str = "event matches",
    ) -> None:
        """Select the next event that passes `test`, older (paging back) or newer than `before`."""
        if older:
            look: Callable[[EventStore], Event | None] = _OlderMatch(test, before)
            self._jump = Seek(scope, look, MAX_SEARCH_PAGES, f"No older {what}.", search=True)
        else:
            look = partial(_newer_match, test, before)
            # (a view read from its start has newer pages to read; one at its newest has not)
            self._jump = Seek(
                scope, look, MAX_SEARCH_PAGES, f"No newer {what}.", search=True, newer=True
            )
        self._continue_jump(scope)

    def cancel_seek(self) -> bool:
        """Stop a search (or jump) that is paging back.  True if one was under way."""
        under_way, self._jump = self._jump is not None, None
        return under_way

    def _continue_jump(self, scope: Scope) -> None:
        pending = self._jump
        if pending is None or pending.scope != scope:
            return
        store = self.store_for(scope)
        if store is None or not store.started:
            return
        found = pending.look(store)
        if found is not None:
            self._jump = None
            self.emit(Select(scope, found.id))
            if pending.search:
                self.emit(SearchProgress(scope, pending.pages, done=True))
            return
        if pending.pages_left > 0 and (
            self._page_forward(scope)
            if pending.newer
            else store.has_older and self._page_back(scope)
        ):
            pending.pages_left -= 1
            pending.pages += 1
            if pending.search:
                self.emit(SearchProgress(scope, pending.pages, done=False))
            return
        self._jump = None
        if pending.search:
            self.emit(SearchProgress(scope, pending.pages, done=True))
        if pending.beyond is not None and store.has_older:
            pending.beyond()
            return
        name = self.stores[scope[0]].name_of(scope[1])
        self.emit(Notice(pending.missing.format(name=name), "warning"))

    def after_open(self, scope: Scope) -> None:
        """Once the view shows `scope`: carry on a jump waiting for it."""
        self._continue_jump(scope)


STUCK_CALL_SECONDS = 120.0
"""A running thread's tool call with no result for this long needs a look (`a`)."""


_NEWS_BY_KIND: dict[type[Event], Callable[[SessionController, str, Any], bool]] = {
    ToolResult: SessionController._result_news,
    UsageSnapshot: SessionController._usage_news,
}
"""What an event of each kind tells the controller beyond its threads' statuses (the session's
credits); True if a tree row changed."""


_QUIET_KINDS: frozenset[type[Event]] = frozenset(
    {UserMessage, SystemMessage, AgentMessage, Thinking, ToolUse, ModelRequestStart}
)
"""Kinds that tell a session nothing but the thread they name: nothing counted
(SessionStore.count_live), no status (SessionStore.observe), no news above, and no type of
theirs is a session's status or thread change.  _observe asks only for the thread."""


def _children_waited_on(store: SessionStore) -> set[str]:
    """Children the coordinator handed work to (in the loaded session stream) that have not
    answered since."""
    stream = store.scopes.get(None)
    waiting: set[str] = set()
    for event in stream.events if stream is not None else ():
        if isinstance(event, ThreadMessage) and event.peer_thread_id:
            if event.direction == "sent":
                waiting.add(event.peer_thread_id)
            else:
                waiting.discard(event.peer_thread_id)
    return waiting


def _long_unanswered(store: SessionStore, thread_id: str, now: datetime) -> bool:
    """Whether the thread's loaded events end with a tool call unanswered for long."""
    source = store.source_of(thread_id)
    events = store.scopes.get(source)
    if events is None:
        return False
    for event in reversed(events.events[-200:]):
        if isinstance(event, ToolUse) and (source is not None or store.belongs_to_primary(event)):
            if events.result_for(event) is None and event.time is not None:
                return (now - event.time).total_seconds() >= STUCK_CALL_SECONDS
            return False
    return False


def _other_side(event: ThreadMessage, owner: str | None, store: EventStore) -> Event | None:
    return store.find_handoff(event, owner)


def _by_id(event_id: str, store: EventStore) -> Event | None:
    return store.get(event_id)


EventTest = Callable[[Event, EventStore], bool]


class _OlderMatch:
    """Looks for an event passing `test` from `before` towards the oldest, across page loads.

    Each call scans only what it has not scanned yet (the page just prepended),
    so a search through 100,000 events reads each of them once.
    """

    def __init__(self, test: EventTest, before: str | None) -> None:
        self.test = test
        self.before = before
        self.scanned_to: str | None = before
        """The oldest event already scanned (scanning resumes just before it)."""

    def __call__(self, store: EventStore) -> Event | None:
        start = store.index_of(self.scanned_to) if self.scanned_to else None
        end = start if start is not None else len(store.events)
        for index in range(end - 1, -1, -1):
            event = store.events[index]
            if self.test(event, store):
                shown = store.shown_as(event)
                if shown.id != self.before:
                    return shown
        if store.events:
            self.scanned_to = store.events[0].id
        return None


def _newer_match(test: EventTest, after: str | None, store: EventStore) -> Event | None:
    start = store.index_of(after) if after else None
    begin = start + 1 if start is not None else 0
    for event in store.events[begin:]:
        if test(event, store):
            shown = store.shown_as(event)
            if shown.id != after:
                return shown
    return None
