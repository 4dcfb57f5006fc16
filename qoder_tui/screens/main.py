"""The main screen: the tree, the event log, the status bar.

Everything behind them (fetching, following, buffers, jumps) is the
:class:`~qoder_tui.controller.SessionController`, which knows nothing of
widgets.  It reports through small notices that arrive here as messages, and
one table maps each kind of notice to its handler.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from rich.color import Color as RichColor
from rich.color import ColorParseError
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.color import ColorParseError as TextualColorParseError
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from ..api.client import QoderClient
from ..api.errors import AuthError, NotFoundError
from ..api.follower import StreamState
from ..api.models import Session
from ..attention import NEEDS_ATTENTION, age_text
from ..collector import FullCollections
from ..controller import (
    POSTED,
    SESSIONS_REFRESH,
    Alert,
    Deferred,
    DiagnosisReady,
    DrainResult,
    Failed,
    LedgerReady,
    LiveWaiting,
    LoadingOlder,
    Notice,
    Scope,
    SearchProgress,
    Select,
    SessionController,
    SessionReady,
    SessionsListed,
    StreamChanged,
    TreeChanged,
    ViewChanged,
)
from ..filters import JUMPS, FilterError, parse_filter
from ..render.events import Palette, load_markdown, pretty_json, warm_code_highlighting
from ..store import ALL_THREADS, DEFAULT_WINDOW, EventStore, SessionStore
from ..ui_caches import release_widget_caches
from ..widgets.event_log import EventLog
from ..widgets.key_hints import KeyHints
from ..widgets.log_title import LogTitle
from ..widgets.session_tree import NodeRef, SessionTree
from ..widgets.status_bar import StatusBar

MIN_WIDTH, MIN_HEIGHT = 60, 12
PICK_HINT = "Pick a session on the left (↑/↓, Enter). Press ? for help."
NARROW_WIDTH = 100
"""Below this many columns the tree pane narrows (styles: MainScreen.narrow), so that the
log keeps more than half the width."""
DRAIN_INTERVAL = 1 / 30
BUSY_DRAIN_INTERVAL = 1 / 5
DRAIN_SLICE = 400
PAINT_AT_LEAST_EVERY = 0.1
"""While events keep coming (fewer than BUSY_BATCH since the last frame), the log is drawn
again at least this often (seconds)."""
BURST_PAINT_EVERY = 0.25
"""Once a burst has brought BUSY_BATCH events since the last frame: a frame at most this often."""
BACKGROUND_AFTER = 3.0
"""Background reads start at the latest this long after the screen is mounted (seconds)."""
FIRST_FRAME_GRACE = 0.1
"""Seconds between the first frame and the start of background reads and streams."""
INPUT_GRACE = 0.06
"""After a key or a click, live ingest waits this long (s): the loop is the input's until its
effect is drawn."""
BUSY_BATCH = 200
"""When a drain applied this many events, the next waits longer: nobody reads 200 events
in a frame, and fewer frames leave the loop free for ingest and for key presses."""
STREAM_QUIET = 0.03
"""A burst is over once no live event came in for this long (seconds): what it left in the
buffer is drained and drawn then, not at the end of the longer waits above."""

INPUT_READ_WAIT = 0.003
"""Seconds a drain or paint waits for a key read by the terminal's thread to reach the app."""

COLLECT_CHECK = 0.25
"""Seconds between looks at whether a full collection is due (see FullCollections)."""

INPUT_QUIET = 1.0
"""A due full collection runs once no key or click came in for this many seconds..."""

AFTER_ANSWER = 0.03
"""...or this long after a key's effect was drawn (its frame written by then)..."""

COLLECT_AT_LATEST = 5.0
"""...and at the latest this long after it became due."""


class InputStamp:
    """When the terminal's input thread last read a key or a click (monotonic seconds), set
    by the app's driver as it reads it: the app's queue has it only a loop turn or more
    later, and drains and paints that come due in between wait for it (the app handles a
    key after the timers that came due with it: in tmux traces, drains of 5-12 ms ran
    there in most of the slowest presses)."""

    __slots__ = ("at", "key_at")

    def __init__(self) -> None:
        self.at = float("-inf")
        self.key_at = float("-inf")
        """The same, for the last key alone."""


def rich_colour(colour: str, *, over: str | None) -> str | None:
    """A theme colour as Rich can draw it (None: no such colour).  Rich draws a colour it
    cannot read as no colour at all (the terminal's default), and Textual's themes hold
    kinds it cannot read: colours with alpha (foreground-muted is the foreground at 60%:
    "#E0E0E099"), blended here over the background, and the ANSI themes' "ansi_blue" and
    the like, which are Rich's "blue"."""
    with contextlib.suppress(ColorParseError):
        RichColor.parse(colour)
        return colour
    if colour.startswith("ansi_"):
        with contextlib.suppress(ColorParseError):
            return RichColor.parse(colour[5:]).name
    try:
        parsed = Color.parse(colour)
    except TextualColorParseError:
        return None
    if parsed.a < 1.0:
        try:
            base = Color.parse(over) if over else Color(0, 0, 0)
        except TextualColorParseError:
            base = Color(0, 0, 0)
        parsed = base + parsed
    return parsed.hex


class ControllerNews(Message):
    """A notice from the controller, delivered through the screen's message queue."""

    def __init__(self, notice: object) -> None:
        super().__init__()
        self.notice = notice


FROM_START_NOTE = "from the start: newer events load as you scroll down · end: newest, live"

INPUT_PLACEHOLDERS = {
    "search": "search this view and its history (enter; esc closes)",
    "filter": "filter: is:error  is:waiting  tool:Bash  type:agent.message  "
    'thread:"Code Fixer"  text (enter; empty shows all)',
}


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("b,backspace", "back", "Back", id="back"),
        Binding("d", "diagnose", "Why stuck?", id="diagnose"),
        Binding("h", "handoffs", "Handoffs", id="handoffs"),
        Binding("m", "merge_threads", "All threads", id="merge"),
        Binding("a", "next_attention", "Needs me", id="attention"),
        Binding("slash", "search", "Search", id="search"),
        Binding("f", "filter", "Filter", id="filter"),
        Binding("ctrl+t", "app.change_theme", "Theme", id="theme"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    AUTO_FOCUS = ".first-focus"
    """Focused once the screen is composed, before its first frame: the log when a session
    (or the demo's live one) opens at launch, else the tree (compose marks which).  Focused
    later, by on_mount's focus() (which Textual runs after the first frames), the log took
    its focused background then, and every visible event was drawn again."""

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
        window: int = DEFAULT_WINDOW,
        alert_bell: bool = True,
        idle_alert: float | None = None,
        full_collections: FullCollections | None = None,
        input_stamp: InputStamp | None = None,
    ) -> None:
        super().__init__()
        self.server_label = server_label
        self.full_collections = full_collections
        """The collector's full collections, run here when due and no key waits (None: as
        Python runs them)."""
        self.input_stamp = input_stamp
        self._last_input = float("-inf")
        self._collect_timer: Timer | None = None
        self.frame_budget = frame_budget
        self.client = client
        self.controller = SessionController(
            client,
            self._emit,
            live=live,
            window=window,
            clock=clock,
            background_after_first_paint=True,
        )
        self.controller.keep_from = self._keep_from
        self.controller.idle_alert_after = idle_alert
        if session_id:
            # Asked for at once, so that the server answers while the screen is built.
            self.controller.load_session(session_id, (session_id, thread_id))
        self.start_session = session_id
        self.start_thread = thread_id
        self.open_live_session = open_live_session
        self.clock = clock
        self.back_stack: list[tuple[Scope, str | None]] = []
        self._list_failed = False
        """The session list could not be read (its message is on screen until it can)."""
        self.alert_bell = alert_bell
        """Ring the terminal bell with an alert (a followed thread now needs the reader)."""
        self.pending_select: tuple[Scope, str] | None = None
        self._app_started = False
        """Textual's start of the app is over: frames drawn from now on are written."""
        self._ready_scope: Scope | None = None
        """A view whose session loaded before then: shown once it is over (_app_started)."""
        self._last_drain = 0.0
        self._gc_held = False
        self._gc_timer: Timer | None = None
        self._input_until = 0.0
        """Until when live ingest makes way for input just received (monotonic seconds)."""
        self._inputs = 0
        """Inputs seen: a hold ends only when the newest one was answered."""
        self._awaiting_draw = 0
        """The input whose binding ran and whose effect waits to be drawn (0: none)."""
        self._last_key = float("-inf")
        """When the app received the newest key (monotonic seconds)."""
        self._key_unhandled = False
        """The newest key received has not been through its binding yet (see key_waiting)."""
        self._held_drain: Timer | None = None
        self._last_batch = 0
        self._last_paint = 0.0
        self._drain_scheduled = False
        self._in_burst = False
        """Live events are coming in (from a drain until the stream goes quiet)."""
        self._chain_done = True
        """The last drain emptied the buffer (the next starts counting _last_batch again)."""
        self._unpainted = 0
        """Live events applied since the log was last drawn for them."""
        self._trailing_paint: Timer | None = None
        self._tree_dirty: set[str] = set()
        self._highlighting: threading.Thread | None = None
        """The thread that makes code highlighting ready (see warm_code_highlighting)."""
        self._handlers: dict[type, Callable[[Any], None]] = {
            Deferred: lambda deferred: deferred.run(),
            SessionsListed: self._sessions_listed,
            SessionReady: self._session_ready,
            TreeChanged: self._tree_changed,
            ViewChanged: self._view_changed,
            LoadingOlder: self._loading_older,
            LiveWaiting: self._live_waiting,
            StreamChanged: self._stream_changed,
            Failed: self._failed,
            Select: self._select,
            Notice: self._notice,
            DiagnosisReady: self._diagnosis_ready,
            LedgerReady: self._ledger_ready,
            Alert: self._alert,
            SearchProgress: self._search_progress,
        }

    # ------------------------------------------------------------------ what the controller knows

    @property
    def current(self) -> Scope | None:
        return self.controller.current

    @property
    def stores(self) -> dict[str, SessionStore]:
        return self.controller.stores

    @property
    def sessions(self) -> dict[str, Session]:
        return self.controller.sessions

    @property
    def fetching(self) -> set[Scope]:
        return self.controller.fetching

    @property
    def followers(self) -> dict[Scope, Any]:
        return self.controller.followers

    @property
    def stream_states(self) -> dict[Scope, StreamState]:
        return self.controller.stream_states

    def _source(self, scope: Scope) -> Scope:
        return self.controller.source_of(scope)

    def _keep_from(self, scope: Scope) -> int | None:
        """What a trim of `scope` must keep: from the reader's top line on, if it is shown."""
        if self.current != scope or self.log_view.follow:
            return None
        return self.log_view.first_visible_index()

    def _emit(self, notice: object) -> None:
        if isinstance(notice, POSTED):
            self.post_message(ControllerNews(notice))  # from a task: handled on our turn
        else:
            self._handlers[type(notice)](notice)  # we called the controller: handle it now

    @on(ControllerNews)
    def _news(self, message: ControllerNews) -> None:
        self._handlers[type(message.notice)](message.notice)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        log_first = self._opens_a_view  # (AUTO_FOCUS)
        with Horizontal(id="body"):
            yield SessionTree(id="tree", classes=None if log_first else "first-focus")
            with Vertical(id="log-pane"):
                yield LogTitle(id="log-title")
                yield Static("", id="stuck", markup=False)
                yield EventLog(id="log", classes="first-focus" if log_first else None)
                yield Static("", id="message", markup=False)
        yield StatusBar(id="status")
        yield KeyHints(id="keys")
        yield Static("", id="too-small", markup=False)

    @property
    def _opens_a_view(self) -> bool:
        """A view opens at launch (a session asked for, or the demo's live one)."""
        return bool(self.start_session or self.open_live_session)

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
        log.on_drawn = self._log_drawn
        log.key_waiting = self.key_waiting
        if self.clock is not None:
            log.clock = self.clock
            self.tree_view.clock = self.clock
        self._apply_palette()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._apply_palette())
        host = self.client.base_url.split("//", 1)[-1].split("/", 1)[0]
        self.status.update_info(server=self.server_label or host)
        self.message_panel.display = False
        # Background reads (probes of the listed sessions, failed-call counts) start once
        # what the app opens with is drawn (_first_paint), or after this long regardless.
        self.set_timer(BACKGROUND_AFTER, self._background_work)
        self._check_size()
        # The opening answers often came while the app started (see Prefetch): their session
        # is in the first frame then, not in a second one after it.
        self.controller.run_finished()
        self.controller.list_sessions()
        # While the first pages are on their way (a real API takes 100 ms and more to
        # answer), the loop is idle: load what the first messages will be drawn with.
        self.call_after_refresh(load_markdown)
        if self.start_session and self._ready_scope is None:  # (else _app_ready opens it)
            self.open_scope((self.start_session, self.start_thread))
        if self._opens_a_view:
            self.log_view.focus()  # (already, see AUTO_FOCUS)
        else:
            self.tree_view.focus()
            self.show_message(PICK_HINT, error=False)
        self.set_interval(1.0, self._on_tick)
        self.set_interval(30.0, self._relabel_sessions)
        self.set_interval(SESSIONS_REFRESH, self.controller.refresh_sessions)
        if self.full_collections is not None:
            self.set_interval(COLLECT_CHECK, self._collect_when_quiet)
        # The app's own queue runs this once Textual has started the app (see _app_ready).
        self.app.call_later(self._app_ready)

    def _app_ready(self) -> None:
        """Textual draws the frames of its start of the app (its startup batch) and writes
        none of them, and what they drew is not drawn again until it changes: a view shown
        then reached the terminal only with the next full frame (a resize's), and paid its
        drawing twice. So a view whose session loaded by then is shown now."""
        self._app_started = True
        if self._ready_scope is not None:
            scope, self._ready_scope = self._ready_scope, None
            self.open_scope(scope)

    def on_screen_resume(self) -> None:
        # Back from a screen on top (help, answers, the palette): its widgets' lines may go.
        release_widget_caches()

    async def on_unmount(self) -> None:
        self._resume_gc()
        await self.controller.aclose()

    def _apply_palette(self) -> None:
        theme = self.app.current_theme
        background = self.app.theme_variables.get("background")

        def colour(value: str | None, otherwise: str) -> str:
            return (rich_colour(value, over=background) or otherwise) if value else otherwise

        plain = "white" if theme.dark else "black"
        palette = Palette(
            primary=colour(theme.primary, "blue"),
            secondary=colour(theme.secondary or theme.primary, "magenta"),
            accent=colour(theme.accent or theme.primary, "yellow"),
            success=colour(theme.success, "green"),
            warning=colour(theme.warning, "yellow"),
            error=colour(theme.error, "red"),
            # (an ANSI theme's is "ansi_default 50%": no colour to blend; its grey then)
            muted=colour(self.app.theme_variables.get("foreground-muted"), "bright_black"),
            foreground=colour(theme.foreground, plain),
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
        title = self.query_one(LogTitle)
        title.accent = f"bold {'black' if palette.dark else 'white'} on {palette.accent}"
        title.refresh()
        self._relabel_sessions()

    # ------------------------------------------------------------------ size

    def on_resize(self) -> None:
        self._check_size()

    def _check_size(self) -> None:
        width, height = self.app.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "too-small")
        self.set_class(width < NARROW_WIDTH, "narrow")
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

    # ------------------------------------------------------------------ sessions and scopes

    def _sessions_listed(self, news: SessionsListed) -> None:
        entries = [(s, self.controller.status_of(s)) for s in news.sessions]
        self.tree_view.add_sessions(entries, has_more=news.has_more, fresh=news.fresh)
        if not self.sessions and not news.sessions:
            self.tree_view.set_session_message("No sessions yet.")
        if news.fresh:
            self._relabel_sessions()
            if self._list_failed and news.sessions:
                # The first listing had failed (its message is on screen): it is here now.
                self._list_failed = False
                if self.current is None:
                    self.show_message(PICK_HINT, error=False)
        if self.start_session is None and not self.open_live_session:
            self._first_paint()  # the list is what the app opens with
        if self.open_live_session and self.current is None and not self.start_session:
            live = next((s for s in news.sessions if s.display_status == "running"), None)
            target = live or (news.sessions[0] if news.sessions else None)
            if target is not None:
                self.open_scope((target.id, None))
                self.log_view.focus()

    def _session_ready(self, news: SessionReady) -> None:
        if news.open_scope is None:
            return
        if not self._app_started:
            self._ready_scope = news.open_scope  # (shown by _app_ready)
            return
        self.open_scope(news.open_scope)

    def _tree_changed(self, news: TreeChanged) -> None:
        for session_id in news.session_ids:
            store = self.stores.get(session_id)
            if store is not None:
                self.tree_view.sync_session(store)
        self._relabel_sessions()
        if self.current is not None and self.current[0] in news.session_ids:
            self._refresh_waiting()
            if news.named:
                self.log_view.refresh()  # its lines name agents and handoff peers

    @on(SessionTree.Open)
    def _tree_open(self, message: SessionTree.Open) -> None:
        ref: NodeRef = message.ref
        if ref.kind == "more":
            if self.controller.sessions_page:
                self.controller.list_sessions(self.controller.sessions_page)
        elif ref.kind == "session":
            self.open_scope((ref.session_id, None))
        elif ref.kind == "thread":
            self.open_scope((ref.session_id, ref.thread_id))

    def open_scope(self, scope: Scope, *, select: str | None = None) -> None:
        view = self.controller.open(scope)
        if view is None:
            return  # its session is loading; SessionReady opens it
        session_id, thread_id = scope
        store = self.stores[session_id]
        self.hide_message()
        log = self.log_view
        log.agent_name = store.name_of
        log.waiting_on = self._waiting(store)
        log.show(view, label_agents=thread_id in (None, ALL_THREADS))
        if view.started:
            self._first_paint()
        self._update_title()
        self.tree_view.reveal(session_id, thread_id)
        if select is not None:
            self.pending_select = (scope, select)
            self._try_select()
        self.controller.after_open(scope)
        self._update_status()
        # A session that needs attention says why above the log, unasked.
        self.query_one("#stuck", Static).display = False
        session = self.sessions.get(session_id)
        if session is not None and self.controller.status_of(session) in NEEDS_ATTENTION:
            self.controller.diagnose(session_id, asked=False)

    def _waiting(self, store: SessionStore) -> frozenset[str]:
        return frozenset(i for t in store.threads.values() for i in t.waiting_on)

    def _refresh_waiting(self) -> None:
        if self.current is None:
            return
        waiting = self._waiting(self.stores[self.current[0]])
        if waiting != self.log_view.waiting_on:
            self.log_view.waiting_on = waiting
            self.log_view.refresh_everything()

    # ------------------------------------------------------------------ pages

    def _first_paint(self) -> None:
        """What the app opened with is about to be drawn: a moment after that frame,
        background reads and the live stream start (they waited, so as not to slow it).

        The moment is the terminal's: it draws that frame with the other core.  Started at
        once, the stream's client (httpx, httpcore, h11, anyio: 70-85 ms of imports) and the
        probes took it: the frame's bytes reached tmux 137 ms after it was handed over, and
        it showed later than with those imports before the frame (884 against 830 ms)."""
        self.call_after_refresh(self.set_timer, FIRST_FRAME_GRACE, self._background_work)

    def _background_work(self) -> None:
        """What waited for the first paint starts: background reads, and code highlighting
        made ready in a thread (once)."""
        self.controller.first_paint_done()
        if self._highlighting is None:
            self._highlighting = warm_code_highlighting()

    def _view_changed(self, news: ViewChanged) -> None:
        if self.current == news.scope:
            log = self.log_view
            if news.reset:
                view = self.controller.store_for(news.scope)
                log.show(view, label_agents=news.scope[1] in (None, ALL_THREADS))
            else:
                log.apply(news.change)
            if log.store is not None and log.store.started:
                self._first_paint()
            title = self.query_one(LogTitle)
            if log.store is not None and log.store.has_newer:
                title.set_note(FROM_START_NOTE)
            else:
                title.clear_note_if(FROM_START_NOTE)
        self._try_select()
        self._update_status()

    def _loading_older(self, news: LoadingOlder) -> None:
        if self.current == news.scope:
            self.log_view.set_loading_older(news.loading)

    @on(EventLog.NeedNewer)
    def _need_newer(self, message: EventLog.NeedNewer) -> None:
        view: EventStore = message.store
        self.controller.need_newer((view.session_id, view.thread_id))

    @on(EventLog.ToStart)
    def _to_start(self) -> None:
        if self.current is None:
            return
        log = self.log_view
        store = log.store
        if store is not None and store.started and not store.has_older and not store.sparse:
            # The start is loaded already (a short thread): no fetch, and no reload that a
            # thread caught up at once would leave at its end again, following.
            log.action_top()
            return
        if not self.controller.to_start(self.current):
            self.notify("The session is still loading.", timeout=3, markup=False)

    @on(EventLog.ToNewest)
    def _to_newest(self) -> None:
        if self.current is not None:
            self.query_one(LogTitle).set_note("")
            self.controller.to_newest(self.current)

    @on(EventLog.NeedOlder)
    def _need_older(self, message: EventLog.NeedOlder) -> None:
        view: EventStore = message.store
        self.controller.need_older((view.session_id, view.thread_id))

    # ------------------------------------------------------------------ live

    def _live_waiting(self, _news: LiveWaiting) -> None:
        # Coalesce: at most one drain per 1/30 s (1/5 s in a burst), however fast events arrive.
        if self._drain_scheduled:
            return
        self._drain_scheduled = True
        self._drain_when_due()

    def _drain_when_due(self) -> None:
        """Drain once the interval since the last drain is over, or sooner if the stream has
        gone quiet: the end of a burst shows at once, not up to BUSY_DRAIN_INTERVAL later."""
        interval = BUSY_DRAIN_INTERVAL if self._last_batch >= BUSY_BATCH else DRAIN_INTERVAL
        wait = self._last_drain + interval - time.monotonic()
        if wait <= 0 or (wait > STREAM_QUIET and self.controller.stream_quiet(STREAM_QUIET)):
            self.call_later(self._drain)
        else:
            self.set_timer(min(wait, STREAM_QUIET), self._drain_when_due)

    def input_arrived(self, *, key: bool = True) -> None:
        """A key or a click came in: hold live ingest until its effect is drawn (at most
        INPUT_GRACE), so that it is handled and drawn first."""
        self._last_input = time.monotonic()
        if key:
            self._last_key = self._last_input
            self._key_unhandled = True
        self._input_until = self._last_input + INPUT_GRACE
        self._inputs += 1
        if self._collect_timer is not None:  # (a full collection waits for the next moment)
            self._collect_timer.stop()
            self._collect_timer = None
        self.controller.hold_live(INPUT_GRACE)
        # The collector waits too: a full collection (40-190 ms here, about once per
        # 20,000 live events) that starts while a key is answered delays it by all of
        # that (one that started before the key came in still does).  Nothing is
        # skipped: the collections due run once the frame drawing the key is out.
        if not self._gc_held and gc.isenabled():
            gc.disable()
            self._gc_held = True
        if self._gc_held:
            if self._gc_timer is not None:
                self._gc_timer.stop()
            self._gc_timer = self.set_timer(INPUT_GRACE, self._resume_gc)

    def _resume_gc(self, inputs: int | None = None) -> None:
        """The collector runs again (the frame drawing the key is out, or INPUT_GRACE is over);
        with `inputs`, only if no input came in after that many."""
        if inputs is not None and inputs != self._inputs:
            return
        if self._gc_timer is not None:
            self._gc_timer.stop()
            self._gc_timer = None
        if self._gc_held:
            self._gc_held = False
            gc.enable()

    def _collect_after_answer(self) -> None:
        self._collect_timer = None
        full = self.full_collections
        quiet = not self._gc_held and self._input_until < time.monotonic()
        if full is not None and quiet and full.due():
            full.collect()

    def _collect_when_quiet(self) -> None:
        """A full collection that is due runs once no input came in for INPUT_QUIET, or
        at the latest COLLECT_AT_LATEST after it became due (a reader holding a key down)."""
        full = self.full_collections
        if full is None or not full.due() or full.due_since is None or self._gc_held:
            return  # (with a key being answered: after it)
        now = time.monotonic()
        if now - self._last_input >= INPUT_QUIET or now - full.due_since >= COLLECT_AT_LATEST:
            full.collect()

    def input_handled(self) -> None:
        """The newest key's binding ran: once the log is drawn after it, ingest goes on
        (a key that changes nothing there waits out INPUT_GRACE)."""
        self._awaiting_draw = self._inputs
        self._key_unhandled = False

    def key_waiting(self) -> bool:
        """A key is on its way to its binding: read by the terminal's thread and not yet
        received, or received and not yet handled (it goes through the focused widget and
        back first).  A frame drawn meanwhile does not show it: the log draws only what it
        has drawn before then, and the key's own frame comes sooner."""
        if self._input_read(keys=True):
            return True
        return self._key_unhandled and time.monotonic() - self._last_key < INPUT_GRACE

    def _log_drawn(self) -> None:
        if self._awaiting_draw != self._inputs or self._input_until == 0.0:
            return  # no key handled since the last one answered, or newer input came in
        self._awaiting_draw = 0
        self._input_until = 0.0
        self.controller.release_live()
        # The collector once the frame is out (this runs while it is being made), unless
        # newer input has come in by then.
        self.call_later(self._resume_gc, self._inputs)
        if self.full_collections is not None and self._collect_timer is None:
            # Just after a key is answered, the reader reads it: a full collection that is
            # due runs then, once its frame is written (the collector would hold the
            # writer), unless another key comes in first.
            self._collect_timer = self.set_timer(AFTER_ANSWER, self._collect_after_answer)
        if self._held_drain is not None:  # a drain waits on the hold: now
            self._held_drain.stop()
            self._held_drain = None
            self.call_later(self._drain)

    def _drain(self) -> None:
        """Move buffered live events into the stores and the view, a slice at a time.

        Slices keep each step short, so key presses get in between during a
        burst.  Once a burst has brought many events since the last frame, the
        log, tree and status are drawn again at most every BURST_PAINT_EVERY
        seconds (the rest of the time the stores only count), and a trailing
        paint draws where the burst ended: a burst costs a few frames, not one
        per slice.  A key press still draws at once (its action refreshes).
        """
        self._drain_scheduled = False
        self._held_drain = None
        held = self._input_until - time.monotonic()
        if held <= 0 and self._input_read():
            held = INPUT_READ_WAIT  # (handled by then: the hold above takes over)
        if held > 0:  # a key is being answered: drain once it is drawn
            self._drain_scheduled = True
            self._held_drain = self.set_timer(held, self._drain)
            return
        self._in_burst = True
        if self._chain_done:  # (the first slice of a drain)
            self._chain_done = False
            self._last_batch = 0
        result: DrainResult = self.controller.drain(DRAIN_SLICE)
        self._last_batch += result.applied
        self._chain_done = not result.more
        self._unpainted += result.applied
        self._tree_dirty |= result.sessions
        now = time.monotonic()
        since = now - self._last_paint
        if self._unpainted >= BUSY_BATCH:
            # (a burst that is over is drawn now, not at its next paint)
            paint = since >= BURST_PAINT_EVERY or (
                not result.more and self.controller.stream_quiet(STREAM_QUIET)
            )
        else:
            paint = not result.more or since >= PAINT_AT_LEAST_EVERY
        log = self.log_view
        for view_scope, change in result.views:
            if self.current != view_scope:
                continue
            if change.rebuilt:
                view = self.controller.store_for(view_scope)
                log.show(view, label_agents=True)
            else:
                log.apply(change, paint=paint)
        self._end_burst_if_quiet()
        if paint:
            self._paint_live()
        if result.more:
            # Through a timer, not call_later: a message pump runs its queued
            # callbacks back to back without returning to the event loop, so
            # chained slices would hold every other task (keys included).
            self._drain_scheduled = True
            self.set_timer(0.001, self._drain)
            return
        self._last_drain = time.monotonic()
        if (not paint or self._in_burst) and self._trailing_paint is None:
            # (after a paint: whether the stream went quiet, which ends the burst)
            due = STREAM_QUIET if paint else min(BURST_PAINT_EVERY - since, STREAM_QUIET)
            self._trailing_paint = self.set_timer(max(due, 0.001), self._paint_when_due)

    def _end_burst_if_quiet(self) -> None:
        """A burst is over once its events are all drained and the stream has gone quiet,
        not whenever a drain empties the buffer: the followers read in batches, so a drain
        often finds nothing more for a moment in the middle of a burst, and a view that
        took that for the end drew every event on screen again (12-20 ms a frame, for
        lines the burst moved past a quarter of a second later)."""
        if (
            self._in_burst
            and not self.controller.has_buffered
            and self.controller.stream_quiet(STREAM_QUIET)
        ):
            self._in_burst = False

    def _input_read(self, *, keys: bool = False) -> bool:
        """A key or a click (with `keys`: a key) the terminal's thread has read and the app
        has not received yet."""
        stamp = self.input_stamp
        if stamp is None:
            return False
        read, received = (stamp.key_at, self._last_key) if keys else (stamp.at, self._last_input)
        return read > received and time.monotonic() - read < INPUT_GRACE

    def _paint_when_due(self) -> None:
        """The trailing paint of a burst: BURST_PAINT_EVERY after the last, or as soon as the
        stream has gone quiet (which ends the burst)."""
        self._trailing_paint = None
        if self._input_read() or self._input_until > time.monotonic():
            # (the key first; its own frame draws the log)
            self._trailing_paint = self.set_timer(INPUT_READ_WAIT, self._paint_when_due)
            return
        self._end_burst_if_quiet()
        remaining = BURST_PAINT_EVERY - (time.monotonic() - self._last_paint)
        unpainted = self._unpainted > 0 and (not self._in_burst or remaining <= 0)
        if unpainted or (not self._in_burst and self.log_view.bursting):
            self._paint_live()
        if self._in_burst and self._trailing_paint is None:
            due = min(remaining, STREAM_QUIET) if remaining > 0 else STREAM_QUIET
            self._trailing_paint = self.set_timer(max(due, 0.001), self._paint_when_due)

    def _paint_live(self) -> None:
        """Draw what the drains brought: the log at its newest, thread rows, the status."""
        if self._trailing_paint is not None:
            self._trailing_paint.stop()
            self._trailing_paint = None
        self._last_paint = time.monotonic()
        self._unpainted = 0
        self.log_view.catch_up()
        if not self._in_burst:
            self.log_view.burst_over()
        for session_id in self._tree_dirty:
            store = self.stores.get(session_id)
            if store is not None:
                self.tree_view.sync_session(store)
            if self.current and self.current[0] == session_id:
                self._refresh_waiting()
        self._tree_dirty.clear()
        self._update_status()

    def _stream_changed(self, news: StreamChanged) -> None:
        self._update_status()

    @on(EventLog.FollowState)
    def _follow_state(self, message: EventLog.FollowState) -> None:
        self.query_one(LogTitle).set_new_events(message.new_events, message.following)

    @on(LogTitle.Clicked)
    def _badge_clicked(self) -> None:
        self.log_view.action_follow()

    # ------------------------------------------------------------------ errors and notices

    def _failed(self, news: Failed) -> None:
        error, text = news.error, news.text
        if news.doing == "listing sessions":
            self._list_failed = True  # (refresh_sessions tries again)
        if news.fatal and (isinstance(error, (AuthError, NotFoundError))):
            self.show_message(text, error=True)
        elif news.fatal:
            self.show_message(f"Failed {news.doing}: {text}", error=True)
        if news.doing.startswith(("diagnosing", "reading the handoffs")):
            self.query_one(LogTitle).set_note("")  # the answer will not come
        self._update_status()
        self.notify(text, title=f"Failed {news.doing}", severity="error", timeout=8, markup=False)

    def _notice(self, news: Notice) -> None:
        if news.severity == "warning":
            self.notify(news.text, severity="warning", markup=False)
        else:
            self.notify(news.text, markup=False)

    # ------------------------------------------------------------------ handoffs

    @on(EventLog.Jump)
    def _jump(self, message: EventLog.Jump) -> None:
        if self.current is None:
            return
        origin = self.current
        target = self.controller.jump(origin, message.event)
        if target is not None:
            self.back_stack.append((origin, message.event.id))
            self.open_scope(target)

    def _select(self, news: Select) -> None:
        self.pending_select = (news.scope, news.event_id)
        self._try_select()

    def _try_select(self) -> None:
        pending = self.pending_select
        if pending is None or self.current != pending[0]:
            return
        if self.log_view.select(pending[1]):
            self.pending_select = None

    # ------------------------------------------------------------------ answers

    def action_diagnose(self) -> None:
        session_id = self._answering("Reading every thread's newest events…")
        if session_id is not None:
            self.controller.diagnose(session_id)

    def action_handoffs(self) -> None:
        session_id = self._answering("Reading the session's handoffs…")
        if session_id is not None:
            self.controller.handoffs(session_id)

    def _answering(self, doing: str) -> str | None:
        """The session shown, after saying what is being fetched (or that none is open)."""
        if self.current is None:
            self.notify("Open a session first.", timeout=3, markup=False)
            return None
        self.query_one(LogTitle).set_note(doing)  # until the answer comes (no toast)
        return self.current[0]

    def _diagnosis_ready(self, news: DiagnosisReady) -> None:
        from .answers import DiagnosisScreen

        if not news.asked:
            self._show_stuck(news)
            return
        self._show_answer(
            news.session_id,
            lambda title: DiagnosisScreen(title, news.findings, self.controller.clock()),
        )

    def _ledger_ready(self, news: LedgerReady) -> None:
        from .answers import LedgerScreen

        self._show_answer(
            news.session_id,
            lambda title: LedgerScreen(title, news.rows, complete=news.complete),
        )

    def _show_stuck(self, news: DiagnosisReady) -> None:
        """Above the log, unasked: what holds a session that needs attention up."""
        strip = self.query_one("#stuck", Static)
        pressing = [f for f in news.findings if f.severity in ("error", "warning")][:3]
        if self.current is None or self.current[0] != news.session_id or not pressing:
            strip.display = False
            return
        now = self.controller.clock()
        lines = Text(no_wrap=True, overflow="ellipsis")
        for i, finding in enumerate(pressing):
            if i:
                lines.append("\n")
            mark = "✖" if finding.severity == "error" else "⏸"
            lines.append(f"{mark} {finding.thread}: ", style="bold")
            lines.append(finding.cause)
            age = age_text(finding.since, now)
            if age:
                lines.append(f"  ({age})", style="dim")
        lines.append("\n")
        lines.append("d: every thread and cause · enter there shows the event", style="dim")
        strip.update(lines)
        strip.display = True

    def _show_answer(
        self, session_id: str, make: Callable[[str], ModalScreen[tuple[str | None, str] | None]]
    ) -> None:
        """An answer about the session shown now (one the reader left is not pushed on them)."""
        self.query_one(LogTitle).set_note("")
        store = self.stores.get(session_id)
        if store is None or self.current is None or self.current[0] != session_id:
            return
        screen = make(store.session.display_title)
        self.app.push_screen(screen, lambda target: self._show_target(session_id, target))

    def _show_target(self, session_id: str, target: tuple[str | None, str] | None) -> None:
        """Show the event a finding or a ledger row is about, in its thread's view."""
        if target is None:
            return
        thread_id, event_id = target
        if self.current is not None:
            self.back_stack.append((self.current, self.log_view.cursor_id))
        scope: Scope = (session_id, thread_id)
        self.open_scope(scope, select=event_id)
        self.controller.find(scope, event_id)

    # ------------------------------------------------------------------ search

    async def _open_input(self, name: str) -> None:
        """Show the search or filter line (built on first use: launch does not pay for it)."""
        boxes = self.query(f"#{name}").results(Input)
        box = next(boxes, None)
        if box is None:
            box = Input(placeholder=INPUT_PLACEHOLDERS[name], id=name)
            await self.query_one("#log-pane").mount(box, before="#message")
        box.display = True
        box.focus()

    async def action_search(self) -> None:
        if self.current is None:
            self.notify("Open a session first.", timeout=3, markup=False)
            return
        await self._open_input("search")

    @on(Input.Submitted, "#search")
    def _search_submitted(self, message: Input.Submitted) -> None:
        box = message.input
        box.display = False
        log = self.log_view
        log.focus()
        query = message.value.strip()
        log.search_query = query
        log.refresh()
        if query and self.current is not None:
            self.controller.search(self.current, query, before=log.cursor_id)

    @on(EventLog.SearchNext)
    async def _search_next(self, message: EventLog.SearchNext) -> None:
        log = self.log_view
        if not log.search_query or self.current is None:
            await self.action_search()
            return
        self.controller.search(
            self.current, log.search_query, before=log.cursor_id, older=message.older
        )

    @on(EventLog.JumpTo)
    def _jump_to(self, message: EventLog.JumpTo) -> None:
        if self.current is None:
            return
        log = self.log_view
        test, what = JUMPS[message.kind]
        self.controller.seek(
            self.current,
            lambda event, store: test(event, store, log.agent_name),
            before=log.cursor_id,
            older=message.older,
            what=f"{what} in this view",
        )

    @on(EventLog.CancelSearch)
    def _cancel_search(self) -> None:
        if self.controller.cancel_seek():
            self.query_one(LogTitle).set_note("")
            self.notify("Search stopped.", timeout=2, markup=False)
        elif self.log_view.search_query:
            self.log_view.search_query = ""
            self.log_view.refresh()

    def _search_progress(self, news: SearchProgress) -> None:
        note = "" if news.done else f"searching older events… {news.pages} pages · esc stops"
        self.query_one(LogTitle).set_note(note)

    def on_key(self, event: events.Key) -> None:
        if event.key != "escape":
            return
        for box in self.query(Input):
            if box.has_focus:
                event.stop()
                box.display = False
                self.log_view.focus()

    async def action_filter(self) -> None:
        await self._open_input("filter")

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, message: Input.Submitted) -> None:
        try:
            query = parse_filter(message.value)
        except FilterError as exc:
            self.notify(str(exc), title="Filter", severity="error", markup=False)
            return
        message.input.display = False
        log = self.log_view
        scope = self.current
        reading_at = log.reading_at
        if scope is not None and self.controller.narrow(scope, query.types if query else None):
            # Events paged in for the old filter's types went: show what is left, and the
            # event the reader was at (fetched again with its neighbours if it went too).
            log.filter = query
            view = self.controller.store_for(scope)
            log.show(view, label_agents=log.label_agents)
            if reading_at is not None and not log.select(reading_at):
                self.controller.find(scope, reading_at)
        else:
            log.set_filter(query)
        log.focus()
        self._update_status()

    def action_merge_threads(self) -> None:
        """Toggle the session's view between its stream and every thread merged in time order."""
        if self.current is None:
            self.notify("Open a session first.", timeout=3, markup=False)
            return
        session_id, thread_id = self.current
        self.open_scope((session_id, None if thread_id == ALL_THREADS else ALL_THREADS))
        self.log_view.focus()

    def action_next_attention(self) -> None:
        """The next session or thread that needs the reader, across sessions."""
        targets = self.controller.attention()
        if not targets:
            self.notify(
                "Nothing needs you: no session waits for approval or has errored.",
                timeout=3,
                markup=False,
            )
            return
        after = targets.index(self.current) + 1 if self.current in targets else 0
        target = targets[after % len(targets)]
        self.open_scope(target)
        self.log_view.focus()

    def _alert(self, news: Alert) -> None:
        self.notify(news.text, title="Needs you", severity="warning", timeout=10, markup=False)
        if self.alert_bell:
            self.app.bell()

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
        title = self.query_one(LogTitle)
        if self.current is None:
            title.set_title(Text())
            return
        session_id, thread_id = self.current
        store = self.controller.stores[session_id]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(store.session.display_title, style="bold")
        if thread_id is None:
            text.append("  ·  session stream  (m: every thread)")
        elif thread_id == ALL_THREADS:
            text.append("  ·  every thread, merged  (m: the session stream)")
        else:
            text.append(f"  ·  {store.name_of(thread_id)}")
            text.append(f"  {thread_id}", style="dim")
        title.set_title(text)

    def _update_status(self) -> None:
        if self.current is None:
            return
        session_id, thread_id = self.current
        session_store = self.stores.get(session_id)
        if session_store is None:
            return
        store = session_store.scope(thread_id)
        states = self.controller.stream_states
        state = states.get(self._source(self.current)) or states.get((session_id, None))
        thread_usage = store.usage if thread_id is not None else None
        if thread_id is None and session_store.primary is not None:
            thread_usage = store.usage
        self.status.update_info(
            connection=state,
            loaded=len(store),
            has_older=store.has_older,
            has_newer=store.has_newer,
            started=store.started,
            thread_usage=thread_usage,
            session_usage=(totals := session_store.totals()),
            session_credits=max(
                (c for c in (totals.credits, self.controller.session_credits.get(session_id)) if c),
                default=None,
            ),
            scope=(
                "session"
                if thread_id is None
                else "all threads"
                if thread_id == ALL_THREADS
                else session_store.name_of(thread_id)
            ),
            filter=self.log_view.filter.query if self.log_view.filter else "",
            matches=self.log_view.shown_count if self.log_view.filter else 0,
        )

    def _on_tick(self) -> None:
        self.log_view.tick()
        self.controller.check_idle(self.controller.clock())

    def _relabel_sessions(self) -> None:
        """Statuses and ages in the tree (the open session's threads too: time in state)."""
        controller = self.controller
        self.tree_view.relabel_sessions(
            self.sessions, controller.status_of, controller.last_event_of
        )
        if self.current is not None and self.current[0] in self.stores:
            self.tree_view.sync_session(self.stores[self.current[0]])
