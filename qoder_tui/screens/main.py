"""The main screen: the tree, the event log, the status bar, and the work behind them.

Workers fetch (async, on the event loop) and only post messages; the
handlers here own every change to state and widgets.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from ..api.client import QoderClient
from ..api.errors import AuthError, NotFoundError, QoderError, redact
from ..api.follower import Follower, StreamState
from ..api.models import Event, Session, ThreadMessage, Usage, UsageSnapshot, is_terminal
from ..messages import (
    ApiFailed,
    LiveWake,
    PageLoaded,
    Scope,
    SessionLoaded,
    SessionsLoaded,
    StreamStateChanged,
    ThreadLoaded,
)
from ..render.events import Palette, pretty_json
from ..store import Change, SessionStore
from ..widgets.event_log import EventLog
from ..widgets.new_events_badge import NewEventsBadge
from ..widgets.session_tree import NodeRef, SessionTree
from ..widgets.status_bar import StatusBar

PAGE_SIZE = 100
MIN_WIDTH, MIN_HEIGHT = 60, 12
MAX_JUMP_PAGES = 50
DRAIN_INTERVAL = 1 / 30
BUSY_DRAIN_INTERVAL = 1 / 5
YIELD_EVERY = 0.005
DRAIN_SLICE = 400
FREEZE_BATCH = 100
QUIET = 5.0
RECLAIM_EVERY = 300.0
BUSY_BATCH = 200
"""When a drain applied this many events, the next waits longer: nobody reads 200 events
in a frame, and fewer frames leave the loop free for ingest and for key presses."""


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("b,backspace", "back", "Back", id="back"),
        Binding("ctrl+t", "app.change_theme", "Theme", id="theme"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        client: QoderClient,
        *,
        session_id: str | None = None,
        thread_id: str | None = None,
        open_live_session: bool = False,
        clock: Callable[[], datetime] | None = None,
        live: bool = True,
        server_label: str | None = None,
        frame_budget: float | None = 0.012,
    ) -> None:
        super().__init__()
        self.server_label = server_label
        self.frame_budget = frame_budget
        self.client = client
        self.start_session = session_id
        self.start_thread = thread_id
        self.open_live_session = open_live_session
        self.clock = clock
        self.live = live
        self.sessions: dict[str, Session] = {}
        self.stores: dict[str, SessionStore] = {}
        self.sessions_page: str | None = None
        self.current: Scope | None = None
        self.followers: dict[Scope, Worker[None]] = {}
        self.stream_states: dict[Scope, StreamState] = {}
        self.fetching: set[Scope] = set()
        self.buffers: dict[Scope, list[Event]] = {}
        self.back_stack: list[tuple[Scope, str | None]] = []
        self.pending_jump: tuple[Scope, ThreadMessage, str | None, int] | None = None
        self.pending_select: tuple[Scope, str] | None = None
        self.session_credits: dict[str, float] = {}
        self._last_drain = 0.0
        self._last_batch = 0
        self._last_reclaim = time.monotonic()
        self._drain_scheduled = False
        self._in_cycle = False
        self._tree_dirty: set[str] = set()

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield SessionTree(id="tree")
            with Vertical(id="log-pane"):
                yield Static("", id="log-title", markup=False)
                yield EventLog(id="log")
                yield NewEventsBadge(id="new-events")
                yield Static("", id="message", markup=False)
        yield StatusBar(id="status")
        yield Footer()
        yield Static("", id="too-small", markup=False)

    @property
    def tree_view(self) -> SessionTree:
        return self.query_one(SessionTree)

    @property
    def log_view(self) -> EventLog:
        return self.query_one(EventLog)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def message_panel(self) -> Static:
        return self.query_one("#message", Static)

    def on_mount(self) -> None:
        log = self.log_view
        log.frame_budget = self.frame_budget
        if self.clock is not None:
            log.clock = self.clock
            self.tree_view.clock = self.clock
        self._apply_palette()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._apply_palette())
        host = self.client.base_url.split("//", 1)[-1].split("/", 1)[0]
        self.status.update_info(server=self.server_label or host)
        self.message_panel.display = False
        self._check_size()
        self.load_sessions(None)
        if self.start_session:
            self.load_session(self.start_session, self.start_thread, open_scope=True)
            self.log_view.focus()
        else:
            self.tree_view.focus()
            if not self.open_live_session:
                self.show_message(
                    "Pick a session on the left (↑/↓, Enter). Press ? for help.", error=False
                )
        self.set_interval(1.0, self._on_tick)
        self.set_interval(30.0, self._relabel_sessions)
        self.set_interval(10.0, self._reclaim)

    def _apply_palette(self) -> None:
        theme = self.app.current_theme
        palette = Palette(
            primary=theme.primary,
            secondary=theme.secondary or theme.primary,
            accent=theme.accent or theme.primary,
            success=theme.success or "green",
            warning=theme.warning or "yellow",
            error=theme.error or "red",
            muted=self.app.theme_variables.get("foreground-muted", "grey50"),
            foreground=theme.foreground or ("white" if theme.dark else "black"),
            dark=theme.dark,
        )
        muted = palette.muted
        self.log_view.palette = palette
        self.log_view.refresh_everything()
        self.tree_view.colours = {
            "success": palette.success,
            "muted": muted,
            "warning": palette.warning,
            "error": palette.error,
            "accent": palette.accent,
        }
        self._relabel_sessions()

    # ------------------------------------------------------------------ size

    def on_resize(self) -> None:
        self._check_size()

    def _check_size(self) -> None:
        width, height = self.app.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "too-small")
        if small:
            self.query_one("#too-small", Static).update(
                f"The terminal is {width}×{height}; qoder-tui needs at least {MIN_WIDTH}×{MIN_HEIGHT}.\n"
                "Make the window larger (q quits)."
            )

    # ------------------------------------------------------------------ messages to the person

    def show_message(self, text: str, *, error: bool) -> None:
        panel = self.message_panel
        panel.update(text)
        panel.set_class(error, "error")
        panel.display = True

    def hide_message(self) -> None:
        self.message_panel.display = False

    def _safe(self, text: str) -> str:
        token = self.client.settings.token
        return redact(text, token.reveal() if token else None)

    # ------------------------------------------------------------------ workers (fetch only; post results)

    @work(exit_on_error=False, group="sessions")
    async def load_sessions(self, page: str | None) -> None:
        try:
            result = await self.client.list_sessions(limit=50, page=page)
        except QoderError as exc:
            self.post_message(ApiFailed(exc, "listing sessions", fatal=True))
            return
        self.post_message(SessionsLoaded(result.data, result.next_page, result.has_more))

    @work(exit_on_error=False, group="session")
    async def load_session(
        self, session_id: str, thread_id: str | None, *, open_scope: bool
    ) -> None:
        try:
            session = await self.client.get_session(session_id)
            threads = await self.client.all_threads(session_id)
            if thread_id and thread_id not in {t.id for t in threads}:
                await self.client.get_thread(session_id, thread_id)  # raises the 404 naming it
        except QoderError as exc:
            self.post_message(
                ApiFailed(exc, f"opening session {session_id}", (session_id, thread_id), fatal=True)
            )
            return
        self.post_message(SessionLoaded(session, threads, thread_id, open_scope))

    @work(exit_on_error=False, group="threads")
    async def load_thread(self, session_id: str, thread_id: str) -> None:
        try:
            thread = await self.client.get_thread(session_id, thread_id)
        except QoderError as exc:
            self.post_message(
                ApiFailed(exc, f"loading thread {thread_id}", (session_id, thread_id))
            )
            return
        self.post_message(ThreadLoaded(session_id, thread))

    @work(exit_on_error=False, group="pages")
    async def load_page(self, scope: Scope, before_id: str | None) -> None:
        session_id, thread_id = scope
        try:
            if before_id is None:
                page = await self.client.newest_events(session_id, thread_id, limit=PAGE_SIZE)
            else:
                page = await self.client.older_events(
                    session_id, thread_id, before_id, limit=PAGE_SIZE
                )
        except QoderError as exc:
            self.post_message(ApiFailed(exc, "loading events", scope))
            return
        self.post_message(PageLoaded(scope, page.data, page.has_more, before_id is None))

    @work(exit_on_error=False, group="follow")
    async def follow(self, scope: Scope, last_event_id: str | None, seen: set[str]) -> None:
        session_id, thread_id = scope

        def on_state(state: StreamState) -> None:
            self.post_message(StreamStateChanged(scope, state))

        follower = Follower(
            self.client,
            session_id,
            thread_id,
            last_event_id=last_event_id,
            seen=seen,
            on_state=on_state,
        )
        try:
            last_yield = time.monotonic()
            async for batch in follower.batches():
                buffer = self.buffers.setdefault(scope, [])
                if not buffer:
                    self.post_message(LiveWake(scope))
                buffer.extend(batch)
                # A fast stream's bytes are already buffered, so reading never blocks and
                # never lets the loop run anything else: hand it back every few ms.
                if time.monotonic() - last_yield > YIELD_EVERY:
                    await asyncio.sleep(0)
                    last_yield = time.monotonic()
        except QoderError as exc:
            self.post_message(ApiFailed(exc, "following live events", scope))

    # ------------------------------------------------------------------ sessions

    @on(SessionsLoaded)
    def _sessions_loaded(self, message: SessionsLoaded) -> None:
        for session in message.sessions:
            self.sessions[session.id] = session
        self.sessions_page = message.next_page if message.has_more else None
        entries = [
            (s, self.stores[s.id].status if s.id in self.stores else s.display_status)
            for s in message.sessions
        ]
        self.tree_view.add_sessions(entries, has_more=message.has_more)
        if not self.sessions and not message.sessions:
            self.tree_view.set_session_message("No sessions yet.")
        if self.open_live_session and self.current is None and not self.start_session:
            live = next((s for s in message.sessions if s.display_status == "running"), None)
            target = live or (message.sessions[0] if message.sessions else None)
            if target is not None:
                self.load_session(target.id, None, open_scope=True)
                self.log_view.focus()

    @on(SessionLoaded)
    def _session_loaded(self, message: SessionLoaded) -> None:
        session = message.session
        self.sessions[session.id] = session
        store = self.stores.get(session.id)
        if store is None:
            store = SessionStore(session)
            self.stores[session.id] = store
        else:
            store.session = session
        store.set_threads(message.threads)
        self.tree_view.sync_session(store)
        if message.open_scope:
            self.open_scope((session.id, message.open_thread))

    @on(ThreadLoaded)
    def _thread_loaded(self, message: ThreadLoaded) -> None:
        store = self.stores.get(message.session_id)
        if store is None:
            return
        store.add_thread(message.thread)
        self.tree_view.sync_session(store)
        self.log_view.refresh_everything()

    @on(SessionTree.Open)
    def _tree_open(self, message: SessionTree.Open) -> None:
        ref: NodeRef = message.ref
        if ref.kind == "more":
            if self.sessions_page:
                self.load_sessions(self.sessions_page)
            return
        if ref.kind == "session":
            if ref.session_id in self.stores:
                self.open_scope((ref.session_id, None))
            else:
                self.load_session(ref.session_id, None, open_scope=True)
        elif ref.kind == "thread":
            self.open_scope((ref.session_id, ref.thread_id))

    # ------------------------------------------------------------------ scopes

    def open_scope(self, scope: Scope, *, select: str | None = None) -> None:
        session_id, thread_id = scope
        store = self.stores.get(session_id)
        if store is None:
            self.load_session(session_id, thread_id, open_scope=True)
            return
        self.hide_message()
        previous = self.current
        self.current = scope
        source = self._source(scope)
        if previous is None or previous[0] != session_id:
            self._stop_followers(keep=session_id)
        else:
            # Keep following the session stream (it carries every thread's status).
            for key in list(self.followers):
                if key != (session_id, None) and key != source:
                    self._stop_follower(key)
        events_store = store.scope(thread_id)
        log = self.log_view
        log.agent_name = store.name_of
        log.waiting_on = self._waiting(store)
        log.show(events_store, label_agents=thread_id is None)
        self._update_title()
        self.tree_view.reveal(session_id, thread_id)
        self._ensure_loaded(source)
        if source[1] is not None:
            self._ensure_loaded((session_id, None))
        if select is not None:
            self.pending_select = (scope, select)
            self._try_select()
        self._update_status()

    def _source(self, scope: Scope) -> Scope:
        """The scope whose stream feeds this one (the primary thread is fed by the session)."""
        store = self.stores.get(scope[0])
        return (scope[0], store.source_of(scope[1])) if store is not None else scope

    def _waiting(self, store: SessionStore) -> frozenset[str]:
        return frozenset(i for t in store.threads.values() for i in t.waiting_on)

    def _ensure_loaded(self, scope: Scope) -> None:
        store = self.stores[scope[0]].scope(scope[1])
        if not store.started:
            if scope not in self.fetching:
                self.fetching.add(scope)
                self.load_page(scope, None)
        else:
            self._ensure_following(scope)

    def _ensure_following(self, scope: Scope) -> None:
        if not self.live or scope in self.followers:
            return
        session_store = self.stores[scope[0]]
        store = session_store.scope(scope[1])
        if store.events and is_terminal(store.events[-1]):
            state = StreamState("ended", reason=store.events[-1].type)
            self.stream_states[scope] = state
            self._update_status()
            return
        self.followers[scope] = self.follow(scope, store.newest_id, store.ids())

    def _stop_follower(self, scope: Scope) -> None:
        worker = self.followers.pop(scope, None)
        if worker is not None:
            worker.cancel()
        self.buffers.pop(scope, None)
        self.stream_states.pop(scope, None)

    def _stop_followers(self, keep: str | None = None) -> None:
        for scope in list(self.followers):
            if scope[0] != keep:
                self._stop_follower(scope)

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        scope = message.scope
        session_store = self.stores.get(scope[0])
        if session_store is None:
            return
        store = session_store.scope(scope[1])
        self.fetching.discard(scope)
        if message.newest:
            change = store.start(message.events, has_older=message.has_older)
        else:
            change = store.prepend(message.events, has_older=message.has_older)
        if self._observe(session_store, message.events, current=message.newest):
            self.tree_view.sync_session(session_store)
        for view_scope, view_change in self._fan_out(session_store, scope, change):
            if self.current == view_scope:
                log = self.log_view
                if message.newest:
                    log.show(session_store.scope(view_scope[1]), label_agents=view_scope[1] is None)
                else:
                    log.set_loading_older(False)
                    log.apply(view_change)
            self._continue_jump(view_scope)
        if message.newest:
            self._ensure_following(scope)
        self._try_select()
        self._update_status()
        self._settle_memory(len(message.events))

    def _fan_out(
        self, session_store: SessionStore, scope: Scope, change: Change
    ) -> list[tuple[Scope, Change]]:
        """The scope itself, and the primary thread's view when the session stream changed."""
        out = [(scope, change)]
        if scope[1] is None:
            mirrored = session_store.route(change)
            primary = session_store.primary
            if mirrored is not None and primary is not None:
                out.append(((scope[0], primary.id), mirrored))
        return out

    @on(EventLog.NeedOlder)
    def _need_older(self, message: EventLog.NeedOlder) -> None:
        view = message.store
        scope = self._source((view.session_id, view.thread_id))
        store = self.stores[scope[0]].scope(scope[1])
        if scope in self.fetching or not store.has_older or not store.oldest_id:
            return
        self.fetching.add(scope)
        if self.current is not None and self._source(self.current) == scope:
            self.log_view.set_loading_older(True)
        self.load_page(scope, store.oldest_id)

    # ------------------------------------------------------------------ live

    @on(LiveWake)
    def _live_wake(self, message: LiveWake) -> None:
        # Coalesce: at most one drain (and so one refresh) per 1/30 s, however fast events arrive.
        if self._drain_scheduled:
            return
        interval = BUSY_DRAIN_INTERVAL if self._last_batch >= BUSY_BATCH else DRAIN_INTERVAL
        wait = self._last_drain + interval - time.monotonic()
        self._drain_scheduled = True
        if wait > 0:
            self.set_timer(wait, self._drain)
        else:
            self.call_later(self._drain)

    def _drain(self) -> None:
        """Move buffered live events into their stores and the view, a slice at a time.

        Slices keep each step short, so key presses get in between even during a
        burst.  Repaints are held until the burst is in (as Textual's
        `delay_update` does), so a burst costs one frame rather than one per slice.
        """
        self._drain_scheduled = False
        if not self._in_cycle:
            self._in_cycle = True
            self._last_batch = 0
            self.app._begin_batch()
        try:
            for scope, buffer in list(self.buffers.items()):
                if not buffer:
                    continue
                events, self.buffers[scope] = buffer[:DRAIN_SLICE], buffer[DRAIN_SLICE:]
                self._last_batch += len(events)
                session_store = self.stores.get(scope[0])
                if session_store is None:
                    continue
                store = session_store.scope(scope[1])
                change = store.append(events)
                if self._observe(session_store, events):
                    self._tree_dirty.add(scope[0])
                for view_scope, view_change in self._fan_out(session_store, scope, change):
                    if self.current == view_scope:
                        self.log_view.apply(view_change)
            if any(self.buffers.values()):
                # Through a timer, not call_later: a message pump runs its queued
                # callbacks back to back without returning to the event loop, so
                # chained slices would hold every other task (keys included) until
                # the whole burst is in.
                self._drain_scheduled = True
                self.set_timer(0.001, self._drain)
                return
            self._last_drain = time.monotonic()
            for session_id in self._tree_dirty:
                dirty = self.stores[session_id]
                self.tree_view.sync_session(dirty)
                if self.current and self.current[0] == session_id:
                    waiting = self._waiting(dirty)
                    if waiting != self.log_view.waiting_on:
                        self.log_view.waiting_on = waiting
                        self.log_view.refresh_everything()
            self._tree_dirty.clear()
            self._update_status()
            self._settle_memory(self._last_batch)
        finally:
            if not self._drain_scheduled:  # the burst is in (or something failed): paint again
                self._in_cycle = False
                self.app._end_batch()

    @staticmethod
    def _settle_memory(batch: int) -> None:
        """After a large batch: collect young garbage, then freeze what survived.

        Loaded events live as long as their store, and a cyclic collector that
        rescans 100,000 of them stalls the UI for tens of milliseconds each
        time.  Frozen objects are still freed by reference counting (events
        hold no cycles).  Cyclic garbage that was alive at a freeze is kept
        until `_reclaim` runs in a quiet moment.
        """
        if batch >= FREEZE_BATCH:
            gc.collect(1)
            gc.freeze()

    def _reclaim(self) -> None:
        """Now and then, when no events are arriving, give frozen garbage back."""
        now = time.monotonic()
        if (
            not gc.get_freeze_count()
            or now - self._last_drain < QUIET
            or now - self._last_reclaim < RECLAIM_EVERY
        ):
            return
        self._last_reclaim = now
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def _observe(
        self, session_store: SessionStore, events: list[Event], *, current: bool = True
    ) -> bool:
        """Status news from events; fetch threads we do not know yet.  True if the tree changed."""
        changed = False
        for event in events:
            unknown = session_store.observe(event, current=current)
            if unknown or event.type.startswith(("session.status", "session.thread")):
                changed = True
            for thread_id in unknown:
                self.load_thread(session_store.id, thread_id)
            if (
                current
                and isinstance(event, UsageSnapshot)
                and event.usage
                and event.usage.credits is not None
            ):
                self.session_credits[session_store.id] = event.usage.credits
        return changed

    @on(StreamStateChanged)
    def _stream_state(self, message: StreamStateChanged) -> None:
        if message.scope not in self.followers:
            return
        self.stream_states[message.scope] = message.state
        self._update_status()

    @on(EventLog.FollowState)
    def _follow_state(self, message: EventLog.FollowState) -> None:
        self.query_one(NewEventsBadge).set_count(message.new_events, message.following)

    @on(NewEventsBadge.Clicked)
    def _badge_clicked(self) -> None:
        self.log_view.action_follow()

    # ------------------------------------------------------------------ errors

    @on(ApiFailed)
    def _api_failed(self, message: ApiFailed) -> None:
        error = message.error
        text = self._safe(str(error))
        scope = message.scope
        if scope is not None:
            self.fetching.discard(scope)
            if self.current is not None and self._source(self.current) == scope:
                self.log_view.set_loading_older(False)
        if scope is not None and message.doing == "following live events":
            self.followers.pop(scope, None)
            self.stream_states[scope] = StreamState("failed", reason=text)
            self._update_status()
        if isinstance(error, AuthError) or (message.fatal and isinstance(error, NotFoundError)):
            self.show_message(text, error=True)
        elif message.fatal:
            self.show_message(f"Failed {message.doing}: {text}", error=True)
        self.notify(
            text, title=f"Failed {message.doing}", severity="error", timeout=8, markup=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                self._safe(f"{type(error).__name__}: {error}"),
                title="Something went wrong",
                severity="error",
                timeout=8,
                markup=False,
            )

    # ------------------------------------------------------------------ handoffs

    @on(EventLog.Jump)
    def _jump(self, message: EventLog.Jump) -> None:
        if self.current is None:
            return
        session_id, thread_id = self.current
        store = self.stores[session_id]
        primary = store.primary
        event = message.event
        owner = event.thread_id or thread_id or (primary.id if primary else None)
        peer = event.peer_thread_id or (primary.id if primary and owner != primary.id else None)
        if peer is None:
            self.notify(
                "This handoff does not say which thread is on the other side.",
                severity="warning",
                markup=False,
            )
            return
        self.back_stack.append((self.current, event.id))
        target: Scope = (session_id, peer)
        self.pending_jump = (target, event, owner, MAX_JUMP_PAGES)
        self.open_scope(target)
        self._continue_jump(target)

    def _continue_jump(self, scope: Scope) -> None:
        pending = self.pending_jump
        if pending is None or pending[0] != scope:
            return
        target, event, owner, pages_left = pending
        store = self.stores[scope[0]].scope(scope[1])
        if not store.started:
            return
        found = store.find_handoff(event, owner)
        if found is not None:
            self.pending_jump = None
            if self.current == scope:
                self.log_view.select(found.id)
            return
        source = self._source(scope)
        source_store = self.stores[source[0]].scope(source[1])
        if store.has_older and pages_left > 0 and source_store.oldest_id:
            self.pending_jump = (target, event, owner, pages_left - 1)
            if source not in self.fetching:
                self.fetching.add(source)
                self.load_page(source, source_store.oldest_id)
            return
        self.pending_jump = None
        name = self.stores[scope[0]].name_of(scope[1])
        self.notify(
            f"The other side of this handoff is not in {name}'s events.",
            severity="warning",
            markup=False,
        )

    def _try_select(self) -> None:
        pending = self.pending_select
        if pending is None or self.current != pending[0]:
            return
        if self.log_view.select(pending[1]):
            self.pending_select = None

    def action_back(self) -> None:
        if not self.back_stack:
            self.notify("Nothing to go back to.", timeout=2, markup=False)
            return
        scope, event_id = self.back_stack.pop()
        self.open_scope(scope, select=event_id)

    # ------------------------------------------------------------------ raw, copy, help

    @on(EventLog.ShowRaw)
    def _show_raw(self, message: EventLog.ShowRaw) -> None:
        from .raw_json import RawJsonScreen

        self.app.push_screen(RawJsonScreen(message.event, dark=self.app.current_theme.dark))

    @on(EventLog.CopyEvent)
    def _copy(self, message: EventLog.CopyEvent) -> None:
        self.app.copy_to_clipboard(pretty_json(message.event))
        self.notify(
            f"Copied {message.event.type} {message.event.id} to the clipboard",
            timeout=3,
            markup=False,
        )

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen())

    # ------------------------------------------------------------------ status

    def _update_title(self) -> None:
        title = self.query_one("#log-title", Static)
        if self.current is None:
            title.update("")
            return
        session_id, thread_id = self.current
        store = self.stores[session_id]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(store.session.display_title, style="bold")
        if thread_id is None:
            text.append("  ·  whole session (every agent)")
        else:
            text.append(f"  ·  {store.name_of(thread_id)}")
            text.append(f"  {thread_id}", style="dim")
        title.update(text)

    def _update_status(self) -> None:
        if self.current is None:
            return
        session_id, thread_id = self.current
        session_store = self.stores.get(session_id)
        if session_store is None:
            return
        store = session_store.scope(thread_id)
        state = self.stream_states.get(self._source(self.current)) or self.stream_states.get(
            (session_id, None)
        )
        thread_usage = store.usage if thread_id is not None else None
        if thread_id is None and session_store.primary is not None:
            thread_usage = store.usage
        session_usage = _session_usage(session_store)
        self.status.update_info(
            connection=state,
            loaded=len(store),
            has_older=store.has_older,
            started=store.started,
            thread_usage=thread_usage,
            session_usage=session_usage,
            session_credits=self.session_credits.get(session_id),
            scope="session" if thread_id is None else session_store.name_of(thread_id),
        )

    def _on_tick(self) -> None:
        self.log_view.tick()

    def _relabel_sessions(self) -> None:
        self.tree_view.relabel_sessions(self.stores, self.sessions)


def _session_usage(store: SessionStore) -> Usage:
    """Tokens over every loaded thread; the session stream counts only where its thread is not loaded."""
    total = Usage()
    primary = store.primary
    thread_scopes = {k: v for k, v in store.scopes.items() if k is not None}
    for events in thread_scopes.values():
        total = total + events.usage
    session_scope = store.scopes.get(None)
    if session_scope is not None and (primary is None or primary.id not in thread_scopes):
        total = total + session_scope.usage
    return total
