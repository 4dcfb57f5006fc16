"""The app driven with Pilot against the simulator over loopback HTTP and SSE."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from textual._styles_cache import StylesCache
from textual.pilot import Pilot

from qoder_tui.api.models import (
    Event,
    ModelRequestStart,
    Thinking,
    ThreadMessage,
    ToolResult,
    ToolUse,
    parse_event,
)
from qoder_tui.app import QoderApp
from qoder_tui.screens.help import HelpScreen
from qoder_tui.screens.main import MainScreen
from qoder_tui.screens.raw_json import RawJsonScreen
from qoder_tui.simulator import SimulatorServer
from qoder_tui.store import EventStore
from qoder_tui.widgets.event_log import EventLog
from qoder_tui.widgets.key_hints import KeyHints
from qoder_tui.widgets.log_title import LogTitle

from .conftest import FIXED_START, TOKEN, settings_for

SIZE = (140, 40)


async def until(
    pilot: Pilot, condition: Callable[[], object], *, timeout: float = 20.0, what: str = ""
) -> None:
    """Let the app run until `condition()` holds (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


def main_screen(app: QoderApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


def visible_text(app: QoderApp) -> str:
    """The log's visible lines, as text."""
    log = main_screen(app).log_view
    height = log.scrollable_content_region.height
    return "\n".join(log.render_line(y).text for y in range(height))


def _session(server: SimulatorServer, part: str) -> str:
    return next(s.id for s in server.simulator.world.sessions.values() if part in s.obj["title"])


def _clock():
    return FIXED_START


def _app_on(server: SimulatorServer, title_part: str) -> QoderApp:
    """The app at a fixed clock, history only, opening the session with this in its title."""
    sid = _session(server, title_part)
    return QoderApp(settings_for(server), session_id=sid, live=False, clock=_clock)


@pytest.fixture
def live_sim(make_sim) -> SimulatorServer:
    return make_sim(live=True, speed=25.0)


async def test_demo_opens_live_session_and_follows(live_sim: SimulatorServer) -> None:
    app = QoderApp(settings_for(live_sim), open_live_session=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(pilot, lambda: screen.current is not None and screen.log_view.store is not None)
        session_id, thread_id = screen.current
        assert thread_id is None
        assert live_sim.simulator.world.sessions[session_id].obj["status"] == "running"
        store = screen.log_view.store
        await until(pilot, lambda: store.started and len(store) > 0)
        before = len(store)
        await until(pilot, lambda: len(store) > before + 5, what="live events")
        log = screen.log_view
        assert log.follow
        await until(
            pilot, lambda: round(log.scroll_y) == log.max_scroll_y, what="scrolled to the end"
        )
        server_ids = [
            e["id"] for e in live_sim.simulator.world.sessions[session_id].session_log.items
        ]
        ids = [e.id for e in store.events]
        assert ids == server_ids[: len(ids)]
        # The tree shows the coordinator and its children with live badges.
        tree = screen.tree_view
        await until(
            pilot, lambda: len(screen.stores[session_id].threads) >= 3, what="child threads"
        )
        await until(pilot, lambda: len([k for k in tree.thread_nodes if k[0] == session_id]) >= 3)
        status = screen.status.render_info().plain
        assert "live" in status and "events" in status
        assert TOKEN not in status


async def test_coordinator_thread_follows_live_exactly_once(live_sim: SimulatorServer) -> None:
    app = QoderApp(settings_for(live_sim), open_live_session=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(pilot, lambda: screen.current is not None and screen.log_view.store is not None)
        session_id = screen.current[0]
        primary = screen.stores[session_id].primary
        assert primary is not None
        screen.open_scope((session_id, primary.id))
        view = screen.log_view.store
        assert view is not None and view.thread_id == primary.id
        await until(pilot, lambda: view.started and len(view) > 0)
        before = len(view)
        await until(pilot, lambda: len(view) > before + 5, what="live coordinator events")
        thread_log = live_sim.simulator.world.sessions[session_id].threads[primary.id].log
        expected = [e["id"] for e in thread_log.items]
        ids = [e.id for e in view.events]
        start = expected.index(ids[0])
        assert ids == expected[start : start + len(ids)]
        assert len(screen.followers) == 1  # one stream serves the session and its coordinator


async def test_select_session_and_thread_from_the_tree(demo_app_sim: SimulatorServer) -> None:
    app = QoderApp(settings_for(demo_app_sim), clock=_clock, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        tree = screen.tree_view
        await until(pilot, lambda: len(tree.session_nodes) == 5)
        stuck = _session(demo_app_sim, "Release 2.8.0")
        tree.focus()
        tree.move_cursor(tree.session_nodes[stuck])
        await pilot.press("enter")
        await until(
            pilot, lambda: screen.current == (stuck, None) and screen.log_view.store.started
        )
        await until(
            pilot, lambda: (stuck, list(screen.stores[stuck].threads)[1]) in tree.thread_nodes
        )
        deployer = list(screen.stores[stuck].threads)[1]
        tree.move_cursor(tree.thread_nodes[(stuck, deployer)])
        await pilot.press("enter")
        await until(
            pilot, lambda: screen.current == (stuck, deployer) and screen.log_view.store.started
        )
        text = visible_text(app)
        assert "waiting for approval" in text
        assert "deploy.sh" in text
        assert screen.stores[stuck].threads[deployer].status == "waiting"


async def test_page_back_keeps_the_anchor(demo_app_sim: SimulatorServer) -> None:
    long = _session(demo_app_sim, "pydantic")
    app = QoderApp(settings_for(demo_app_sim), session_id=long, clock=_clock, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        log = screen.log_view
        await until(
            pilot, lambda: log.store is not None and log.store.started and len(log.store) >= 100
        )
        store = log.store
        assert store.has_older
        # Scrolling up leaves the tail; nearing the top loads older pages, one per approach.
        log.focus()
        await pilot.press("pageup")
        assert not log.follow
        for want in (200, 300):
            await pilot.press("home")
            await until(pilot, lambda want=want: len(store) >= want, what="older pages")
            await until(pilot, lambda: not screen.fetching)
        await until(pilot, lambda: not screen.fetching)
        before = visible_text(app)
        top_before = round(log.scroll_y)
        count = len(store)
        await pilot.press("up")  # select an event; its place on screen must not move
        selected = log.cursor_id
        await until(pilot, lambda: selected is not None)
        shown = visible_text(app)
        log.post_message(log.NeedOlder(store))
        await until(pilot, lambda: len(store) > count and not screen.fetching, what="one more page")
        await pilot.pause()
        assert visible_text(app) == shown
        assert round(log.scroll_y) > top_before
        assert before  # the view had content
        server = demo_app_sim.simulator.world.sessions[long].session_log.items
        ids = [e.id for e in store.events]
        assert ids == [e["id"] for e in server[-len(ids) :]]


class _FocusWatched(QoderApp):
    """The app, recording every focus change of its screen from the screen's composing on."""

    focus_changes: list[type]

    def on_mount(self) -> None:
        self.focus_changes = []
        super().on_mount()
        self.watch(self.screen, "focused", lambda w: self.focus_changes.append(type(w)), init=False)


async def test_the_focus_is_where_the_app_opens_from_its_first_frame(
    demo_app_sim: SimulatorServer, live_sim: SimulatorServer
) -> None:
    """Opened on a session (or the demo's live one), the log has the focus as the screen is
    built, before its first frame (taking it later restyled the log: a frame of its own after
    the opened view's, every line drawn again); opened on the list, the tree has it."""
    from qoder_tui.widgets.event_log import EventLog
    from qoder_tui.widgets.session_tree import SessionTree

    on_session = _FocusWatched(
        settings_for(demo_app_sim), session_id=_session(demo_app_sim, "Rotate"), live=False
    )
    on_live = _FocusWatched(settings_for(live_sim), open_live_session=True)
    on_list = _FocusWatched(settings_for(demo_app_sim), clock=_clock, live=False)
    for app, wanted in ((on_session, EventLog), (on_live, EventLog), (on_list, SessionTree)):
        async with app.run_test(size=SIZE) as pilot:
            screen = main_screen(app)
            if wanted is EventLog:
                log = screen.log_view
                await until(pilot, lambda log=log: log.store is not None and log.store.started)
            else:
                tree = screen.tree_view
                await until(pilot, lambda tree=tree: len(tree.session_nodes) > 0)
            assert app.focus_changes == [wanted], app.focus_changes


async def test_start_of_thread_is_marked(demo_app_sim: SimulatorServer) -> None:
    sid = _session(demo_app_sim, "Rotate")
    app = QoderApp(settings_for(demo_app_sim), session_id=sid, clock=_clock, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        log = screen.log_view
        await until(pilot, lambda: log.store is not None and log.store.started)
        assert not log.store.has_older
        log.focus()
        await pilot.press("home")
        assert "start of session" in visible_text(app)


async def test_follow_off_shows_new_events_marker_and_end_resumes(
    live_sim: SimulatorServer,
) -> None:
    app = QoderApp(settings_for(live_sim), open_live_session=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(
            pilot, lambda: screen.log_view.store is not None and len(screen.log_view.store) > 20
        )
        log = screen.log_view
        log.focus()
        await pilot.press("pageup")
        assert not log.follow
        title = screen.query_one(LogTitle)
        top = round(log.scroll_y)
        await until(pilot, lambda: log.new_events >= 3, what="events while scrolled up")
        await until(pilot, lambda: title.new_events >= 3)
        assert "new event" in title.render().plain
        assert round(log.scroll_y) == top  # the view did not move
        await pilot.press("end")
        assert log.follow and log.new_events == 0
        await until(pilot, lambda: "new event" not in title.render().plain)
        n = len(log.store)
        await until(pilot, lambda: len(log.store) > n)
        await until(pilot, lambda: round(log.scroll_y) == log.max_scroll_y)


async def test_clicking_the_marker_resumes_following(live_sim: SimulatorServer) -> None:
    app = QoderApp(settings_for(live_sim), open_live_session=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(
            pilot, lambda: screen.log_view.store is not None and len(screen.log_view.store) > 20
        )
        log = screen.log_view
        log.focus()
        await pilot.press("pageup")
        title = screen.query_one(LogTitle)
        await until(pilot, lambda: title.marker != "", what="the marker")
        assert not log.follow
        # The marker is at the right end of the title line.
        assert await pilot.click(LogTitle, offset=(title.size.width - 3, 0))
        await until(pilot, lambda: log.follow, what="following again")


async def test_fold_and_unfold_thinking_and_tool_output(demo_app_sim: SimulatorServer) -> None:
    long = _session(demo_app_sim, "pydantic")
    app = QoderApp(settings_for(demo_app_sim), session_id=long, clock=_clock, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        log = screen.log_view
        await until(pilot, lambda: log.store is not None and log.store.started)
        store = log.store
        thinking = next(e for e in reversed(store.events) if isinstance(e, Thinking) and e.text)
        tool = next(
            e
            for e in reversed(store.events)
            if isinstance(e, ToolUse) and (r := store.result_for(e)) and r.text.count("\n") > 6
        )
        log.focus()
        for event, folded_height in ((thinking, 1), (tool, 1 + 4 + 1)):
            assert log.select(event.id)
            await pilot.pause()
            index = store.index_of(event.id)
            assert log.heights[index] == folded_height
            await pilot.press("space")
            await pilot.pause()
            assert log.heights[index] > folded_height
            await pilot.press("space")
            await pilot.pause()
            assert log.heights[index] == folded_height
        # Fold-all unfolds everything, and back.
        index = store.index_of(tool.id)
        await pilot.press("z")
        await pilot.pause()
        assert log.expand_all and log.heights[index] > 6
        await pilot.press("z")
        await pilot.pause()
        assert not log.expand_all and log.heights[index] == 6
        # Results and span starts are drawn inside their call/span: no place of their own.
        for i, event in enumerate(store.events):
            if isinstance(event, ToolResult) and event.call_id in store.uses:
                assert log.heights[i] == 0
            if isinstance(event, ModelRequestStart) and event.id in store.span_ends:
                assert log.heights[i] == 0


async def test_handoff_jump_and_back(demo_app_sim: SimulatorServer) -> None:
    long = _session(demo_app_sim, "pydantic")
    app = QoderApp(settings_for(demo_app_sim), session_id=long, clock=_clock, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        log = screen.log_view
        await until(pilot, lambda: log.store is not None and log.store.started)
        store = log.store
        sent = next(
            e
            for e in reversed(store.events)
            if isinstance(e, ThreadMessage) and e.direction == "sent"
        )
        log.focus()
        assert log.select(sent.id)
        await pilot.press("enter")
        child = sent.to_thread_id
        await until(pilot, lambda: screen.current == (long, child), what="the child thread")
        await until(
            pilot,
            lambda: (
                log.selected is not None and log.store is not None and log.store.thread_id == child
            ),
        )
        target = log.selected
        assert isinstance(target, ThreadMessage)
        assert target.direction == "received" and target.text == sent.text
        assert "handoff" in visible_text(app)
        await pilot.press("b")
        await until(pilot, lambda: screen.current == (long, None) and log.cursor_id == sent.id)


async def test_raw_json_view_and_copy(demo_app_sim: SimulatorServer) -> None:
    sid = _session(demo_app_sim, "Summarise")
    app = QoderApp(settings_for(demo_app_sim), session_id=sid, clock=_clock, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        log = screen.log_view
        await until(pilot, lambda: log.store is not None and log.store.started)
        log.focus()
        await pilot.press("up")
        selected = log.selected
        assert selected is not None
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RawJsonScreen))
        raw_screen = app.screen
        assert isinstance(raw_screen, RawJsonScreen) and raw_screen.event.id == selected.id
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("c")
        assert selected.id in app.clipboard and TOKEN not in app.clipboard


async def test_every_themes_colours_reach_the_log_as_colours_rich_can_draw(
    demo_app_sim: SimulatorServer,
) -> None:
    # Rich draws a colour it cannot read as none: muted timestamps in the terminal's default
    # colour (Textual's foreground-muted carries alpha), the ANSI themes' "ansi_blue" too.
    from rich.color import Color as RichColor

    from qoder_tui.screens.main import rich_colour

    app = QoderApp(settings_for(demo_app_sim), clock=_clock, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        for name in sorted(app.available_themes):
            app.theme = name
            theme = app.current_theme
            background = app.theme_variables.get("background")
            await until(
                pilot,
                lambda theme=theme, background=background: (
                    screen.log_view.palette.primary == rich_colour(theme.primary, over=background)
                    and screen.log_view.palette.dark == theme.dark
                ),
                what=f"the {name} palette",
            )
            palette = screen.log_view.palette
            roles = ("primary", "secondary", "accent", "success", "warning", "error", "muted")
            for role in (*roles, "foreground"):
                RichColor.parse(getattr(palette, role))  # raises if Rich cannot read it
            assert palette.muted != palette.foreground, (name, palette)


async def test_help_screen_lists_the_keys(demo_app_sim: SimulatorServer) -> None:
    app = QoderApp(settings_for(demo_app_sim), clock=_clock, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))


def _line_caches() -> int:
    """Textual's per-widget line caches alive now (each holds the lines its widget drew)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, StylesCache))


async def test_screens_and_notifications_that_are_gone_leave_no_drawn_lines_behind(
    demo_app_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Textual's memo of StylesCache.get_inner_outer (textual#6665) keeps the line cache of
    # every widget it ever drew, gone or not: five per help screen opened and closed.
    monkeypatch.setattr("qoder_tui.app.WIDGET_CACHE_SWEEP", 0.2)
    app = QoderApp(settings_for(demo_app_sim), clock=_clock, live=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: main_screen(app).tree_view.root.children)
        await pilot.pause()
        before = _line_caches()
        for _ in range(8):
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await until(
            pilot, lambda: _line_caches() <= before + 2, what="the help screens' lines let go"
        )
        # Notifications come and go with no screen closing: the sweep lets theirs go.  (Textual
        # itself holds on to the newest few: eight toasts leave 16 line caches alive.)
        for _ in range(4):
            for i in range(8):
                # (long enough to be seen shown: toasts of 50 ms came and went between two
                # looks of a loaded test run, which then waited for them in vain)
                app.notify(f"note {i}", timeout=0.3)
            await until(pilot, lambda: bool(app.screen.query("Toast")), what="toasts shown")
            await until(pilot, lambda: not app.screen.query("Toast"), what="toasts gone")
        await until(
            pilot, lambda: _line_caches() <= before + 24, what="the notifications' lines let go"
        )


async def test_an_app_that_has_ended_leaves_no_drawn_lines_in_the_process(
    demo_app_sim: SimulatorServer,
) -> None:
    app = QoderApp(settings_for(demo_app_sim), clock=_clock, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: main_screen(app).tree_view.root.children)
        await pilot.pause()
        assert StylesCache.get_inner_outer.cache_info().currsize > 0  # its widgets were drawn
    assert StylesCache.get_inner_outer.cache_info().currsize == 0


async def test_the_collectors_young_generation_is_larger_while_the_app_runs_and_put_back_after(
    demo_app_sim: SimulatorServer,
) -> None:
    """A burst's buffered events must not outlive the young collections into the oldest
    generation (each full collection then stalls the app): the app collects its young
    generation less often while it runs, and starts full collections itself (Python's own
    threshold for them out of reach); it leaves the process's collector as it was."""
    from qoder_tui.app import YOUNG_GENERATION
    from qoder_tui.collector import OUT_OF_REACH

    before = gc.get_threshold()
    gc.set_threshold(700, before[1] + 1, before[2] + 2)  # (distinct, to see them kept)
    try:
        app = QoderApp(settings_for(demo_app_sim), clock=_clock, live=False)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: main_screen(app).tree_view.root.children)
            assert gc.get_threshold() == (YOUNG_GENERATION, before[1] + 1, OUT_OF_REACH)
        assert gc.get_threshold() == (700, before[1] + 1, before[2] + 2)
        gc.set_threshold(YOUNG_GENERATION * 2, before[1], before[2])  # a larger one is kept
        app = QoderApp(settings_for(demo_app_sim), clock=_clock, live=False)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: main_screen(app).tree_view.root.children)
            assert gc.get_threshold()[0] == YOUNG_GENERATION * 2
    finally:
        gc.set_threshold(*before)


async def test_a_due_full_collection_runs_just_after_a_key_is_answered_not_while(
    demo_sim: SimulatorServer, monkeypatch
) -> None:
    """A full collection holds the interpreter for 50-90 ms here: one due runs once a key's
    effect is drawn (AFTER_ANSWER later, its frame written by then), not while a key is
    answered, and not only when input has been quiet for long."""
    import qoder_tui.collector as collector_module
    import qoder_tui.screens.main as main_module

    monkeypatch.setattr(main_module, "INPUT_QUIET", 600.0)  # only after a key, here
    monkeypatch.setattr(main_module, "COLLECT_AT_LATEST", 600.0)
    monkeypatch.setattr(collector_module, "CHECK_EVERY", 0.0)  # (counted at each look)
    full_starts: list[float] = []

    def noted(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full_starts.append(time.perf_counter())

    app = _app_on(demo_sim, "pydantic")
    gc.callbacks.append(noted)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = main_screen(app)
            log = screen.log_view
            await until(pilot, lambda: log.store is not None and len(log.store) > 5)
            full = app.full_collections
            assert full.running
            drawn: list[tuple[float, str | None]] = []
            on_drawn = log.on_drawn
            assert on_drawn is not None

            def noted_drawn() -> None:
                drawn.append((time.perf_counter(), log.cursor_id))
                on_drawn()

            log.on_drawn = noted_drawn
            log.focus()
            await pilot.press("k")  # (input came in: the quiet path is out of reach)
            await until(pilot, lambda: log.cursor_id is not None)
            collected = full.collections
            for _ in range(collector_module.MIDDLE_COLLECTIONS + 1):
                gc.collect(1)
            full.due()  # (the first count, if none yet: growth is measured from it)
            held = [[i] for i in range(len(gc.get_objects(generation=2)))]
            gc.collect(1)  # (into the oldest generation: now a full collection is due)
            assert full.due()
            pressed = time.perf_counter()
            await pilot.press("k")
            await until(pilot, lambda: full.collections > collected, what="the collection")
            assert not full.due()
            answered = next(t for t, cursor in drawn if t > pressed and cursor is not None)
            assert full_starts and full_starts[-1] > answered  # after the key's answer
            assert not [t for t in full_starts if pressed < t < answered]
            del held
    finally:
        gc.callbacks.remove(noted)


async def test_a_due_full_collection_runs_once_input_is_quiet_or_at_the_latest(
    demo_sim: SimulatorServer, monkeypatch
) -> None:
    """With no key to answer, a due full collection waits for input to be quiet for
    INPUT_QUIET; a reader who never stops (a key held down) gets it COLLECT_AT_LATEST
    after it became due."""
    import qoder_tui.collector as collector_module
    import qoder_tui.screens.main as main_module

    monkeypatch.setattr(collector_module, "CHECK_EVERY", 0.0)
    monkeypatch.setattr(main_module, "AFTER_ANSWER", 600.0)  # (not after a key, here)
    monkeypatch.setattr(main_module, "INPUT_QUIET", 600.0)
    monkeypatch.setattr(main_module, "COLLECT_AT_LATEST", 0.5)
    app = _app_on(demo_sim, "pydantic")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(pilot, lambda: screen.log_view.store is not None)
        full = app.full_collections
        collected = full.collections

        def make_due() -> list[list[int]]:
            for _ in range(collector_module.MIDDLE_COLLECTIONS + 1):
                gc.collect(1)
            full.due()  # (the first count, if none yet)
            held = [[i] for i in range(len(gc.get_objects(generation=2)))]
            gc.collect(1)
            assert full.due()
            return held

        screen.input_arrived()  # input just now: not quiet for INPUT_QUIET
        held = make_due()
        due_at = time.monotonic()
        await until(pilot, lambda: full.collections > collected, what="the latest moment")
        assert time.monotonic() - due_at >= 0.5
        monkeypatch.setattr(main_module, "INPUT_QUIET", 0.2)
        monkeypatch.setattr(main_module, "COLLECT_AT_LATEST", 600.0)
        screen.input_arrived()
        held = make_due()
        due_at = time.monotonic()
        await until(pilot, lambda: full.collections > collected + 1, what="input quiet")
        assert time.monotonic() - due_at >= 0.2 - 0.05  # (input came in just before)
        del held


@asynccontextmanager
async def _reading_keys(sim: SimulatorServer) -> AsyncIterator[tuple[Pilot, MainScreen, Any]]:
    """The app with its driver stamping input as a terminal's does (the driver is returned:
    what a test hands a key to, as the terminal's thread would), its log loaded and focused."""
    from qoder_tui.app import noting_input

    from .test_terminal import RecordingDriver  # (with no terminal, it writes nowhere)

    app = _app_on(sim, "pydantic")
    app.driver_class = noting_input(RecordingDriver)
    async with app.run_test(size=SIZE, headless=False) as pilot:
        screen = main_screen(app)
        log = screen.log_view
        await until(pilot, lambda: log.store is not None and len(log.store) > 5)
        log.focus()
        await pilot.pause()
        driver = RecordingDriver.latest
        assert driver is not None
        yield pilot, screen, driver


async def test_a_drain_due_while_the_terminal_has_read_a_key_waits_for_the_key(
    demo_sim: SimulatorServer, monkeypatch
) -> None:
    """The terminal's input thread stamps a key or a click as it reads it (the app's
    driver); the app's queue has it a loop turn or more later, after the timers that came
    due meanwhile.  A drain that comes due in between waits for the key, which is answered
    first (in tmux traces, drains of 5-12 ms ran there in most of the slowest presses)."""
    from textual import events
    from textual.app import App

    from qoder_tui.app import noting_input

    plain = _app_on(demo_sim, "pydantic")  # the app's own driver stamps input too
    assert plain.driver_class is noting_input(App.get_driver_class(plain))
    async with _reading_keys(demo_sim) as (pilot, screen, driver):
        log = screen.log_view
        selected_at_drain: list[str | None] = []
        drain = screen.controller.drain

        def noted(limit: int) -> Any:
            selected_at_drain.append(log.cursor_id)
            return drain(limit)

        monkeypatch.setattr(screen.controller, "drain", noted)
        driver.process_message(events.Key("k", "k"))  # (what the input thread does)
        screen._drain()  # a drain that came due just then
        await until(pilot, lambda: selected_at_drain, what="the drain")
        assert selected_at_drain[0] is not None, "the drain ran before the key was answered"


async def test_a_key_is_on_its_way_from_its_read_until_its_binding_ran(
    demo_sim: SimulatorServer,
) -> None:
    """What the log asks before drawing events it has not drawn (see EventLog.key_waiting):
    a key read by the terminal's thread, or received and not yet through its binding, is on
    its way; once its binding ran it is not, and a click never is."""
    from textual import events

    async with _reading_keys(demo_sim) as (pilot, screen, driver):
        log = screen.log_view
        assert log.key_waiting is not None and not log.key_waiting()
        driver.process_message(events.Key("k", "k"))  # (what the input thread does)
        assert log.key_waiting(), "a key read by the terminal's thread"
        await until(pilot, lambda: log.cursor_id is not None, what="the key's binding")
        await until(pilot, lambda: not log.key_waiting(), what="the key done")
        screen.input_arrived(key=False)  # a click
        assert not log.key_waiting()
        screen.input_arrived(key=True)  # a key received, its binding not run yet
        assert log.key_waiting()
        screen.input_handled()  # (what the app calls once the binding ran)
        assert not log.key_waiting()


async def test_rejected_token_is_a_message_not_a_crash(demo_app_sim: SimulatorServer) -> None:
    wrong = "wrong-" + TOKEN[::-1]
    app = QoderApp(settings_for(demo_app_sim, token=wrong), live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        panel = screen.message_panel
        await until(pilot, lambda: panel.display and "rejected the token" in str(panel.render()))
        text = str(panel.render())
        assert "QODER_ACCESS_TOKEN" in text
        assert wrong not in text and TOKEN not in text


async def test_missing_session_is_a_message(demo_app_sim: SimulatorServer) -> None:
    app = QoderApp(settings_for(demo_app_sim), session_id="sess_does_not_exist", live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        panel = screen.message_panel
        await until(pilot, lambda: panel.display and "sess_does_not_exist" in str(panel.render()))
        assert app.is_running


async def test_terminal_too_small_gets_a_message(demo_app_sim: SimulatorServer) -> None:
    app = QoderApp(settings_for(demo_app_sim), live=False)
    async with app.run_test(size=(50, 10)) as pilot:
        screen = main_screen(app)
        await pilot.pause()
        assert screen.has_class("too-small")
        assert "needs at least" in str(screen.query_one("#too-small").render())
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: not screen.has_class("too-small"))


async def test_a_narrow_terminal_narrows_the_tree_so_the_log_keeps_most_of_the_width(
    demo_app_sim: SimulatorServer,
) -> None:
    """At 60 columns the tree's 38 left the log 22; under 100 columns it takes 24."""
    app = QoderApp(settings_for(demo_app_sim), live=False)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = main_screen(app)
        tree, pane = screen.tree_view, screen.query_one("#log-pane")
        await until(pilot, lambda: tree.outer_size.width == 24, what="a narrow tree")
        assert pane.size.width > 60 // 2
        await pilot.resize_terminal(140, 40)
        await until(pilot, lambda: tree.outer_size.width == 38, what="the tree's usual width")


async def test_dropped_stream_shows_reconnecting_and_loses_nothing(make_sim) -> None:
    server = make_sim(
        live=True, speed=25.0, drop_every=7, error_rate=0.2, error_status=503, retry_after=0.05
    )
    app = QoderApp(settings_for(server), open_live_session=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(
            pilot, lambda: screen.log_view.store is not None and len(screen.log_view.store) > 0
        )
        store = screen.log_view.store
        seen_states: set[str] = set()

        def progressed() -> bool:
            state = screen.stream_states.get(screen.current)
            if state is not None:
                seen_states.add(state.phase)
            return len(store) > 80 and "reconnecting" in seen_states

        await until(pilot, progressed, timeout=40, what="reconnects and events")
        session_id = screen.current[0]
        server_ids = [
            e["id"] for e in server.simulator.world.sessions[session_id].session_log.items
        ]
        ids = [e.id for e in store.events]
        assert ids == server_ids[: len(ids)]


@pytest.fixture(scope="module")
def demo_app_sim() -> SimulatorServer:
    from .conftest import running_sim, sim_config

    with running_sim(sim_config()) as server:
        yield server


async def test_malformed_and_unknown_events_render_as_blocks(make_sim) -> None:
    server = make_sim(live=True, speed=25.0, malformed_every=5)
    app = QoderApp(settings_for(server), open_live_session=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(
            pilot, lambda: screen.log_view.store is not None and screen.log_view.store.started
        )
        store = screen.log_view.store
        await until(
            pilot,
            lambda: any(e.kind == "malformed" for e in store.events),
            what="a malformed frame",
        )
        broken = next(e for e in store.events if e.kind == "malformed")
        assert screen.log_view.select(broken.id)
        await pilot.pause()
        assert "unreadable event" in visible_text(app)
        assert app.is_running


async def test_a_bug_ends_the_app_with_one_line_and_a_crash_log(
    demo_app_sim: SimulatorServer, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    app = QoderApp(settings_for(demo_app_sim), live=False, quiet_crashes=True)

    def boom() -> None:
        raise RuntimeError("simulated bug " + TOKEN)

    with pytest.raises(RuntimeError):  # run_test re-raises it for tests; a person sees one line
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(main_screen(app).tree_view.session_nodes) == 5)
            main_screen(app).log_view.call_later(boom)
            await app._exception_event.wait()
    assert app.return_code == 1
    assert app.crash_message is not None
    assert "simulated bug" in app.crash_message and TOKEN not in app.crash_message
    log = (tmp_path / "qoder-tui" / "crash.log").read_text()
    assert "RuntimeError" in log and TOKEN not in log


def _biggest(server: SimulatorServer) -> Any:
    return max(server.simulator.world.sessions.values(), key=lambda s: len(s.session_log))


async def _following(pilot: Pilot, app: QoderApp) -> None:
    """Until the app's view is loaded and its stream live."""
    screen = main_screen(app)
    log = screen.log_view
    await until(pilot, lambda: log.store is not None and log.store.started)
    scope = screen._source(screen.current)
    await until(pilot, lambda: (s := screen.stream_states.get(scope)) and s.phase == "live")


async def _grow(server: SimulatorServer, session_id: str, count: int) -> None:
    """The simulator appends `count` events to a session at once (a burst on its stream)."""
    import httpx

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        r = await http.post(f"{server.root_url}/_sim/sessions/{session_id}/grow?count={count}")
        r.raise_for_status()


async def test_lines_drawn_before_their_thread_was_known_are_drawn_again_with_its_name(
    make_sim,
) -> None:
    """A child's first events arrive before the app has read its thread (a request of its
    own): they are drawn with the thread's id.  Once it is read, they are drawn again with
    its agent's name, without waiting for other events to bring a repaint."""
    import asyncio
    import random

    from qoder_tui.simulator.world import IdMaker, Writer

    server = make_sim()
    sess = server.simulator.world.sessions[_session(server, "pydantic")]
    app = QoderApp(settings_for(server), session_id=sess.id)
    async with app.run_test(size=SIZE) as pilot:
        await _following(pilot, app)
        log = main_screen(app).log_view
        frames: list[str] = []
        draw = log.render_lines

        def recorded(crop):  # type: ignore[no-untyped-def]
            lines = draw(crop)
            frames.append("\n".join(strip.text for strip in lines))
            return lines

        log.render_lines = recorded  # type: ignore[method-assign]
        server.config.faults.delay = 0.5  # reading the new thread takes a while

        def spawn() -> str:
            writer = Writer(sess, IdMaker(random.Random(3)), FIXED_START)
            child = writer.add_thread(name="Late Joiner", parent_id=sess.primary_id)
            child_id = child.obj["id"]
            writer.emit(
                child_id,
                "session.thread_status_running",
                {"session_thread_id": child_id},
                cross_post=True,
            )
            return str(child_id)

        child_id = await asyncio.wrap_future(server.run_on_loop(spawn))
        label = child_id[:14]
        await until(pilot, lambda: any(label in f for f in frames), what="its line, by id")
        await until(pilot, lambda: "Late Joiner" in frames[-1], what="its line, by name")
        assert label not in frames[-1]


@asynccontextmanager
async def _following_a_big_session(make_sim, **app_options):  # type: ignore[no-untyped-def]
    """The app opened on the big scenario's biggest session, following it live.
    Yields (the simulator, the session, the pilot, the main screen)."""
    server = make_sim(scenario="big", big_events=500)
    sess = _biggest(server)
    app = QoderApp(settings_for(server), session_id=sess.id, **app_options)
    async with app.run_test(size=SIZE) as pilot:
        await _following(pilot, app)
        yield server, sess, pilot, main_screen(app)


async def test_following_keeps_a_bounded_window_and_pages_the_rest_back(make_sim) -> None:
    async with _following_a_big_session(make_sim, window=1_000) as (server, sess, pilot, screen):
        log = screen.log_view
        await _grow(server, sess.id, 5000)
        store = log.store
        newest = sess.session_log.get(len(sess.session_log) - 1)["id"]
        await until(pilot, lambda: store.newest_id == newest, what="every live event")
        assert len(store) <= 1_000 + 1_000  # the window and its slack
        assert store.unloaded > 0 and store.has_older
        assert len(log.heights) == len(store) and log.offsets[-1] == sum(log.heights)
        ids = [e.id for e in store.events]
        assert ids == [sess.session_log.get(i)["id"] for i in range(5500 - len(ids), 5500)]
        header = log.header_text().plain
        assert f"{store.unloaded:,} older events unloaded" in header
        log.focus()
        oldest = store.oldest_id
        await pilot.press("home")
        await until(pilot, lambda: store.oldest_id != oldest, what="a page back in")
        assert store.index_of(oldest) == PAGE  # the page came back before what was kept


PAGE = 100


async def test_the_tree_cursor_stays_on_its_row_as_threads_are_added(make_sim) -> None:
    server = make_sim(live=True, speed=60.0)
    app = QoderApp(settings_for(server), open_live_session=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        tree = screen.tree_view
        await until(pilot, lambda: screen.current is not None and len(tree.session_nodes) == 5)
        live = screen.current[0]
        below = next(n for sid, n in tree.session_nodes.items() if sid != live)
        tree.focus()
        tree.move_cursor(below)
        count = len(screen.stores[live].threads)
        await until(pilot, lambda: len(screen.stores[live].threads) > count, what="a new child")
        await pilot.pause()
        assert tree.get_node_at_line(tree.cursor_line) is below
        labels = [str(n.label) for (sid, _), n in tree.thread_nodes.items() if sid == live]
        assert any(
            " tok" in label and " cr" in label for label in labels
        )  # idle children report their usage


async def test_the_status_bar_fits_in_100_columns(demo_sim) -> None:
    app = QoderApp(settings_for(demo_sim), open_live_session=True, live=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = main_screen(app)
        await until(
            pilot, lambda: screen.log_view.store is not None and screen.log_view.store.started
        )
        await until(pilot, lambda: screen.status.info.session_credits is not None)
        text = screen.status.render_info().plain
        assert "session" in text and "cr" in text and "events" in text
        assert len(text) <= 100, (len(text), text)
        # A filter takes more room: the line still fits, with the session's credits.
        await pilot.press("f", *"is:handoff", "enter")
        await until(pilot, lambda: "filter is:handoff" in screen.status.render_info().plain)
        text = screen.status.render_info().plain
        assert "cr" in text and "of" in text
        assert len(text) <= 100, (len(text), text)


async def test_notifications_do_not_cover_the_log(demo_sim) -> None:
    app = QoderApp(settings_for(demo_sim), open_live_session=True, live=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = main_screen(app)
        await until(pilot, lambda: screen.log_view.store is not None)
        app.notify("a notification with a fairly long text in it, to take some room", timeout=30)
        await until(pilot, lambda: bool(app.screen.query("Toast")))
        await pilot.pause()
        log = screen.log_view.region
        for toast in app.screen.query("Toast"):
            assert not toast.region.overlaps(log), (toast.region, log)


async def test_the_key_line_follows_focus_and_its_keys_can_be_clicked(
    demo_app_sim: SimulatorServer,
) -> None:
    app = _app_on(demo_app_sim, "pydantic")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        keys = screen.query_one(KeyHints)
        await until(pilot, lambda: screen.log_view.store is not None)
        line = keys.render().plain
        assert "Fold" in line and "Why stuck?" in line  # the log's keys, then the screen's
        screen.tree_view.focus()
        await until(pilot, lambda: "Fold" not in keys.render().plain, what="tree's keys")
        # A click on "? Help" presses `?`.
        x = keys.render().plain.index(" ? Help")
        await pilot.click(KeyHints, offset=(x + 2, 0))
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help opened")


async def test_a_session_opened_at_launch_takes_its_place_in_the_listed_order(
    demo_app_sim: SimulatorServer,
) -> None:
    """The opened session arrives before the list does; the tree still shows the server's order."""
    listed = demo_app_sim.simulator.world.sessions  # the server's own list, in its order
    order = [s.id for s in sorted(listed.values(), key=lambda s: s.obj["created_at"], reverse=True)]
    middle = order[len(order) // 2]
    app = QoderApp(settings_for(demo_app_sim), session_id=middle, live=False, clock=_clock)
    async with app.run_test(size=SIZE) as pilot:
        tree = main_screen(app).tree_view
        await until(pilot, lambda: len(tree.session_nodes) == len(order), what="all listed")
        shown = [n.data.session_id for n in tree.root.children if n.data and n.data.session_id]
        assert shown == order


async def test_enter_opens_the_newest_session_as_soon_as_the_list_shows(
    demo_app_sim: SimulatorServer,
) -> None:
    """Launched without a session, the tree lists them with the cursor on the first, so
    that Enter opens it at once (with no cursor, Enter did nothing)."""
    listed = demo_app_sim.simulator.world.sessions
    newest = max(listed.values(), key=lambda s: s.obj["created_at"]).id
    app = QoderApp(settings_for(demo_app_sim), live=False, clock=_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        tree = screen.tree_view
        await until(pilot, lambda: len(tree.session_nodes) == len(listed), what="the list")
        assert tree.has_focus
        await pilot.press("enter")
        await until(pilot, lambda: screen.current == (newest, None), what="the newest session")


async def test_sessions_created_after_launch_appear_on_top_and_the_cursor_stays(
    make_sim,
) -> None:
    """The list's first page is read again (every SESSIONS_REFRESH seconds; here at once):
    a session created since goes on top, and the cursor stays on the session it was on."""
    from datetime import timedelta

    server = make_sim()
    world = server.simulator.world
    app = QoderApp(settings_for(server), live=False, clock=_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        tree = screen.tree_view
        await until(pilot, lambda: len(tree.session_nodes) == len(world.sessions), what="list")
        await pilot.press("down")
        chosen = tree.cursor_node
        assert chosen is not None and chosen.data is not None

        def create() -> str:
            sess, when = world._new_session("Created after launch", "late", "idle", timedelta(0))
            sess.obj["created_at"] = sess.obj["updated_at"] = "2099-01-01T00:00:00Z"  # newest
            world._ctx(sess, when, 99)
            return sess.id

        import asyncio

        created = await asyncio.wrap_future(server.run_on_loop(create))
        screen.controller.refresh_sessions()
        await until(pilot, lambda: created in tree.session_nodes, what="the new session")
        assert tree.root.children[0] is tree.session_nodes[created]
        assert tree.cursor_node is chosen
        assert len(tree.session_nodes) == len(world.sessions)  # nothing twice


async def test_a_session_list_that_could_not_be_read_at_launch_is_read_again(
    unused_tcp_port: int,
) -> None:
    """Nothing answers at launch: the list's failure is said; once a server answers, the next
    reading of the list fills the tree and the failure gives way to the usual hint."""
    from qoder_tui.api.settings import Secret, Settings
    from qoder_tui.screens.main import PICK_HINT

    from .conftest import sim_config

    settings = Settings(
        base_url=f"http://127.0.0.1:{unused_tcp_port}/api/v1/cloud/", token=Secret(TOKEN)
    )
    app = QoderApp(settings, live=False, clock=_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        panel = screen.message_panel
        await until(pilot, lambda: "Failed listing sessions" in str(panel.render()), timeout=30)
        server = SimulatorServer(sim_config(), port=unused_tcp_port).start_in_thread()
        try:
            screen.controller.refresh_sessions()
            tree = screen.tree_view
            await until(pilot, lambda: len(tree.session_nodes) > 0, what="the listed sessions")
            await until(pilot, lambda: PICK_HINT in str(panel.render()), what="the hint")
        finally:
            server.stop()


async def test_lines_drawn_before_focus_take_the_focused_background(
    demo_app_sim: SimulatorServer,
) -> None:
    app = _app_on(demo_app_sim, "pydantic")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        log = screen.log_view
        await until(pilot, lambda: log.store is not None and log.store.started)

        def backgrounds() -> set[object]:
            log.render_lines(log.scrollable_content_region.reset_offset)  # a frame, as drawn
            lines = [log.render_line(y) for y in range(1, 10)]
            return {seg.style.bgcolor for line in lines for seg in line if seg.style}

        screen.tree_view.focus()
        await until(pilot, lambda: not log.has_focus)
        unfocused = backgrounds()
        log.focus()
        await until(pilot, lambda: log.has_focus)
        focused = backgrounds()
        assert focused == {log.rich_style.bgcolor} and focused != unfocused


async def test_merged_view_follows_every_thread_live_each_event_once(
    live_sim: SimulatorServer,
) -> None:
    from qoder_tui.store import ALL_THREADS

    app = QoderApp(settings_for(live_sim), open_live_session=True, clock=_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(pilot, lambda: screen.current is not None and screen.log_view.store)
        sid = screen.current[0]
        await pilot.press("m")
        view = screen.log_view
        await until(pilot, lambda: screen.current == (sid, ALL_THREADS))
        await until(pilot, lambda: view.store is not None and view.store.started)
        primary = screen.stores[sid].primary
        assert primary is not None

        def child_events() -> int:
            store = view.store
            return sum(1 for e in store.events if e.thread_id not in (None, primary.id))

        start = child_events()
        await until(pilot, lambda: child_events() >= start + 10, timeout=60, what="live children")
        ids = [e.id for e in view.store.events]
        assert len(ids) == len(set(ids))
        # Nothing lost: every child event the server sent since the view opened shows up.
        world = live_sim.simulator.world.sessions[sid]
        opened_at = max(e.time for e in view.store.events[:1])

        def missing() -> set[str]:
            sent = {
                e["id"]
                for t in world.threads.values()
                if t.id != world.primary_id
                for e in t.log.items
                if e["processed_at"] > opened_at.isoformat().replace("+00:00", "Z")
            }
            return sent - {e.id for e in view.store.events}

        await until(pilot, lambda: not missing(), timeout=30, what="every live child event")


async def test_a_thread_that_stays_idle_past_the_limit_raises_one_alert(
    live_sim: SimulatorServer,
) -> None:
    app = QoderApp(settings_for(live_sim), open_live_session=True, idle_alert=1.0)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = main_screen(app)
        await until(pilot, lambda: screen.current is not None)
        opened = time.time()

        def idle_alerts() -> list[str]:
            return [n.message for n in app._notifications if "has been idle" in n.message]

        await until(pilot, idle_alerts, timeout=60, what="an idle alert")
        message = idle_alerts()[0]
        store = screen.stores[screen.current[0]]
        info = next(t for t in store.threads.values() if message.startswith(t.name + " "))
        # It went idle while followed (not before the app opened), over a second ago.
        assert info.status == "idle" and info.since is not None
        assert info.since.timestamp() >= opened - 1 and time.time() - info.since.timestamp() >= 1
        # One alert per idle spell: a few more ticks bring no second one for it.
        ticks = 0

        def three_ticks() -> bool:
            nonlocal ticks
            screen._on_tick()
            ticks += 1
            return ticks >= 3

        await until(pilot, three_ticks)
        if info.status == "idle" and info.since is not None:
            assert sum(m.startswith(info.name + " ") for m in idle_alerts()) == 1


def _agent_message(i: int, content: str):  # type: ignore[no-untyped-def]
    """The i-th of a run of agent messages, a second apart."""
    from qoder_tui.api.models import parse_event

    stamp = f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z"
    return parse_event(
        {"id": f"e{i:06d}", "type": "agent.message", "content": content, "processed_at": stamp}
    )


def _log_only_app():  # type: ignore[no-untyped-def]
    """An app with nothing but an EventLog, for driving the log directly."""
    from textual.app import App, ComposeResult

    from qoder_tui.widgets.event_log import EventLog

    class LogApp(App[None]):
        def compose(self) -> ComposeResult:
            yield EventLog(id="log")

    return LogApp()


async def test_a_placeholders_lines_fill_the_log_to_the_cell_whatever_their_characters() -> None:
    """A placeholder's lines are cut to the log's width in cells, and padded to it: plain
    text by its length, wide (two-cell) characters and combining accents by their cells."""
    from rich.cells import cell_len, set_cell_size

    from qoder_tui.api.models import parse_event
    from qoder_tui.render.events import INDENT
    from qoder_tui.render.summary import summarize, type_label
    from qoder_tui.widgets.event_log import GUTTER

    texts = [
        "plain " * 60,  # long ASCII: cut by length
        "short",  # padded
        "宽字符" * 60,  # two cells a character, from the start
        "plain " * 10 + "宽" * 100,  # wide ones past the first width's worth
        "e\u0301" * 150,  # an accent combined with each letter: one cell each pair
        "tab\there " * 40,  # a tab
    ]
    events = [
        parse_event(
            {
                "id": f"e{i}",
                "type": "agent.message",
                "processed_at": f"2026-01-01T00:00:{i:02d}Z",
                "content": f"{text}\n{text}\n{text}",
            }
        )
        for i, text in enumerate(texts)
    ]
    app = _log_only_app()
    async with app.run_test(size=(90, 30)) as pilot:
        log = app.query_one(EventLog)
        store = EventStore("s")
        store.start(events, has_older=False)
        log.show(store, label_agents=False)
        await until(pilot, lambda: log._render_w > 0 and log.size.width > 0)
        width = log._render_w + GUTTER
        # An accent right where the line is cut: it belongs to the last cell's letter.
        prefix = cell_len(f"{' ' * GUTTER}00:00:06  {type_label(events[0]):<8} ")
        events.append(
            parse_event(
                {
                    "id": "e6",
                    "type": "agent.message",
                    "processed_at": "2026-01-01T00:00:06Z",
                    "content": "a" * (width - prefix - 1) + "e\u0301" + "z" * 80,
                }
            )
        )
        store.start(events, has_older=False)
        log.show(store, label_agents=False)
        for index, event in enumerate(events):
            rows = log._placeholder(index)
            assert len(rows) == max(1, log.heights[index])
            for row in rows.lines:
                text = "".join(segment.text for segment in row)
                assert cell_len(text) == width, (index, text)
            # The first line is Rich's cut of the whole line, to the cell.
            room = max(10, width - GUTTER - INDENT)
            line = f"{event.hhmmss}  {type_label(event):<8} {summarize(event, limit=room)}"
            whole = set_cell_size(" " * GUTTER + line, width)
            assert "".join(segment.text for segment in rows.lines[0]) == whole, index
        assert "e\u0301" in "".join(s.text for s in log._placeholder(len(texts)).lines[0])


async def test_a_trim_during_a_burst_lets_the_top_lines_event_go_without_an_error() -> None:
    """Following, a burst leaves the view where it was until it catches up; a trim can then
    let go of the very event under the top line (only a following view allows that)."""
    from qoder_tui.store import EventStore
    from qoder_tui.widgets.event_log import EventLog

    def message(i: int):  # type: ignore[no-untyped-def]
        return _agent_message(i, "x")

    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one(EventLog)
        store = EventStore("s", window=100)
        store.start([message(i) for i in range(60)], has_older=False)
        log.show(store, label_agents=False)
        await pilot.pause()
        assert log.follow and log.scroll_y > 0
        change = store.append(message(i) for i in range(60, 2_000))
        change.trimmed = store.trim()
        assert change.trimmed > 60  # the top line's event is among those let go
        log.apply(change, paint=False)
        log.catch_up()
        await pilot.pause()
        assert len(log.heights) == len(store) and log.scroll_y == log.max_scroll_y


async def test_a_key_holds_live_ingest_and_the_collector_until_its_effect_is_drawn(
    make_sim, monkeypatch
) -> None:
    """Input first: a key pauses a burst's ingest and the garbage collector, and the log's
    next frame after the key's binding ran (not a fixed grace) lets both go on; every event
    still arrives once."""
    import gc

    import qoder_tui.screens.main as main_module

    monkeypatch.setattr(main_module, "INPUT_GRACE", 600.0)  # only a draw can end the hold
    async with _following_a_big_session(make_sim) as (server, sess, pilot, screen):
        log = screen.log_view
        log.focus()
        drawn_at_key: list[int] = []
        draws = [0]
        counted = log.on_drawn

        collector: list[tuple[bool, bool]] = []  # enabled before, after the draw ending a hold

        def on_drawn() -> None:
            draws[0] += 1
            held_before = screen.controller.live_held
            enabled_before = gc.isenabled()
            assert counted is not None
            counted()
            if held_before and not screen.controller.live_held:
                drawn_at_key.append(draws[0])  # this draw ended the hold
                collector.append((enabled_before, gc.isenabled()))

        log.on_drawn = on_drawn
        await _grow(server, sess.id, 3000)
        store = log.store
        await until(pilot, lambda: len(store) > 600, what="the burst coming in")
        before = log.cursor_id
        await pilot.press("k")
        await until(pilot, lambda: log.cursor_id not in (None, before), what="the key's effect")
        await until(pilot, lambda: drawn_at_key, what="a draw ending the hold")
        assert not screen.controller.live_held
        assert collector[0] == (False, False)  # held through that frame...
        await until(pilot, gc.isenabled, what="the collector running again")  # ...then not
        newest = sess.session_log.get(len(sess.session_log) - 1)["id"]
        await until(pilot, lambda: store.newest_id == newest, what="the rest of the burst")
        ids = [e.id for e in store.events]
        total = len(sess.session_log)
        assert ids == [sess.session_log.get(i)["id"] for i in range(total - len(ids), total)]
        assert len(ids) >= 3000  # the whole burst, in order, each event once


async def test_input_whose_effect_is_never_drawn_gives_the_collector_back_after_the_grace(
    demo_sim: SimulatorServer, monkeypatch
) -> None:
    """A key that changes nothing on the log is never drawn: the collector, held for it,
    runs again once INPUT_GRACE is over.  A key that comes in while the frame drawing the
    one before is made keeps it held; an app that ends leaves it running."""
    import gc

    import qoder_tui.screens.main as main_module

    monkeypatch.setattr(main_module, "INPUT_GRACE", 0.05)
    app = _app_on(demo_sim, "pydantic")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(pilot, lambda: screen.log_view.store is not None)
        assert gc.isenabled()
        screen.input_arrived()
        assert not gc.isenabled()
        await until(pilot, gc.isenabled, what="the collector running again")
        # A key drawn, and the next one in before the frame was out: still held for it
        # (the grace out of reach now), until that one is drawn.
        monkeypatch.setattr(main_module, "INPUT_GRACE", 600.0)
        drawn = screen.log_view.on_drawn
        assert drawn is not None
        screen.input_arrived()
        screen.input_handled()
        drawn()
        screen.input_arrived()
        await pilot.pause()
        assert not gc.isenabled()
        screen.input_handled()
        drawn()
        await until(pilot, gc.isenabled, what="the collector running again")
        screen.input_arrived()
        assert not gc.isenabled()
    assert gc.isenabled()


async def test_a_burst_frame_draws_new_events_as_placeholders_until_the_burst_ends(
    monkeypatch,
) -> None:
    """While a burst comes in, a frame spends only BURST_FRAME_BUDGET drawing events not
    drawn before (here none: every new one is a placeholder, its text plain, markdown
    unread); when the burst is over, they are drawn in full."""
    from qoder_tui.store import EventStore
    from qoder_tui.widgets import event_log
    from qoder_tui.widgets.event_log import EventLog

    monkeypatch.setattr(event_log, "BURST_FRAME_BUDGET", 0.0)

    def message(i: int):  # type: ignore[no-untyped-def]
        return _agent_message(i, f"**m{i}**")

    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one(EventLog)

        def shown() -> str:
            """What a frame draws now (the screen rendered as the terminal would show it)."""
            return app.export_screenshot().replace("&#160;", " ")

        store = EventStore("s")
        store.start([message(i) for i in range(60)], has_older=False)
        log.show(store, label_agents=False)
        await until(pilot, lambda: "m59" in (drawn := shown()) and "**m59**" not in drawn)
        log.apply(store.append(message(i) for i in range(60, 260)), paint=False)
        log.catch_up()  # the burst's paint, while it still comes in
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y)
        drawn = shown()
        assert log.bursting and "**m259**" in drawn  # the placeholder: the text as it came
        log.burst_over()
        await until(pilot, lambda: "m259" in (drawn := shown()) and "**m2" not in drawn)


async def test_a_burst_frame_leaves_messages_to_the_bursts_end_and_lines_keep_their_columns(
    monkeypatch,
) -> None:
    """However much of its budget is left, a frame in a burst does not draw a message's
    Markdown (one message can take the whole budget); one-line kinds it draws.  A
    placeholder's line keeps the columns of a drawn one: time, agent, kind."""
    from qoder_tui.api.models import parse_event
    from qoder_tui.store import EventStore
    from qoder_tui.widgets import event_log
    from qoder_tui.widgets.event_log import EventLog

    monkeypatch.setattr(event_log, "BURST_FRAME_BUDGET", 60.0)  # time for everything

    def event(i: int):  # type: ignore[no-untyped-def]
        stamp = f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z"
        common = {"id": f"e{i:06d}", "processed_at": stamp, "session_thread_id": "t1"}
        if i % 2:
            return parse_event({**common, "type": "session.status_running"})
        return parse_event({**common, "type": "agent.message", "content": f"**m{i}**"})

    app = _log_only_app()
    async with app.run_test(size=(100, 20)) as pilot:
        log = app.query_one(EventLog)
        log.frame_budget = 60.0  # (a burst frame's budget is the least of the two)
        log.agent_name = lambda thread_id: "coder" if thread_id == "t1" else ""

        frames: list[list[str]] = [[]]
        draw = EventLog.render_lines

        def recorded(view: EventLog, crop: Any) -> Any:
            lines = draw(view, crop)
            frames.append([line.text for line in lines])
            return lines

        monkeypatch.setattr(EventLog, "render_lines", recorded)

        def shown() -> list[str]:  # the lines the last frame drew
            return frames[-1]

        def drawn(text: str) -> bool:  # in full: the Markdown read, no asterisks left
            return any(text in line for line in shown()) and f"**{text}**" not in str(shown())

        store = EventStore("s")
        store.start([event(i) for i in range(60)], has_older=False)
        log.show(store, label_agents=True)
        await until(pilot, lambda: drawn("m58"))
        log.apply(store.append(event(i) for i in range(60, 260)), paint=False)
        before = len(frames)
        log.catch_up()  # the burst's paint, while it still comes in
        await until(pilot, lambda: len(frames) > before, what="the burst's paint")
        lines = shown()
        assert log.bursting and log.scroll_y == log.max_scroll_y
        waiting = [line for line in lines if "**m258**" in line]
        assert waiting, lines  # the message's placeholder: its text as it came
        message = waiting[0]
        status = next(line for line in lines if "00:04:19" in line)  # drawn: its rule
        assert "── running" in status, status
        for line in (message, status):
            assert line.index("coder") == line.index("00:0") + 10, (message, status)
        log.burst_over()
        await until(pilot, lambda: drawn("m258"))


def _frames_drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the text of each frame of the event log, one string a frame."""
    from qoder_tui.widgets.event_log import EventLog

    frames: list[str] = []
    draw = EventLog.render_lines

    def recorded(view: EventLog, crop: Any) -> Any:
        lines = draw(view, crop)
        frames.append("\n".join(line.text for line in lines))
        return lines

    monkeypatch.setattr(EventLog, "render_lines", recorded)
    return frames


async def test_a_reader_who_scrolls_up_during_a_burst_gets_messages_drawn_in_full(
    monkeypatch,
) -> None:
    """Only a view that follows a burst leaves messages to its end: lines a reader scrolled
    up to stay on screen, and are drawn (within the frame's usual budget)."""
    from qoder_tui.store import EventStore
    from qoder_tui.widgets.event_log import EventLog

    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one(EventLog)
        log.frame_budget = 60.0  # (the usual budget, made roomy: no placeholder for time)
        frames = _frames_drawn(monkeypatch)
        store = EventStore("s")
        store.start([_agent_message(i, f"**m{i}**") for i in range(200)], has_older=False)
        log.show(store, label_agents=False)
        await until(pilot, lambda: frames and "m199" in frames[-1])
        log.apply(store.append(_agent_message(i, "x") for i in range(200, 600)), paint=False)
        assert log.bursting
        log.focus()
        for _ in range(3):  # up into lines never drawn, while the burst goes on
            await pilot.press("pageup")
        await until(pilot, lambda: not log.follow and "m1" in frames[-1])
        assert log.bursting and "**m1" not in frames[-1], frames[-1]


async def test_a_key_that_selects_an_event_draws_it_in_full_whatever_the_frames_budget(
    monkeypatch,
) -> None:
    """A frame draws events until its budget is spent and shows the rest as placeholders.
    It drew from the top down, so a key that selected the newest event of a burst often
    found the budget spent above it: the selection was on a placeholder, half the time in
    the ingest bench's bursts.  The selected event comes first, whatever the budget."""
    from qoder_tui.store import EventStore
    from qoder_tui.widgets.event_log import EventLog

    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one(EventLog)
        log.frame_budget = 60.0
        frames = _frames_drawn(monkeypatch)
        store = EventStore("s")
        store.start([_agent_message(i, f"**m{i}**") for i in range(20)], has_older=False)
        log.show(store, label_agents=False)
        await until(pilot, lambda: frames and "m19" in frames[-1])
        log.apply(store.append(_agent_message(i, f"**m{i}**") for i in range(20, 400)))
        log.frame_budget = 0.0  # no time to draw anything but what must be drawn
        log.focus()
        await pilot.press("k")  # the newest event, selected
        await until(pilot, lambda: log.cursor_id == "e000399" and "m399" in frames[-1])
        assert "**m399**" not in frames[-1], frames[-1]  # drawn, not its placeholder
        assert "**m398**" in frames[-1], frames[-1]  # (the others wait: no budget)


async def test_a_key_in_a_burst_draws_the_selection_first_and_the_placeholders_next(
    monkeypatch,
) -> None:
    """A key that moves the selection while a burst comes in is answered by a frame that
    draws the selection on the lines as the burst's paint left them (placeholders stay
    placeholders); the frame after it draws them, the burst still coming in.  Drawing
    them in the key's frame held it (12-16 ms of a frame, in tmux traces)."""
    from qoder_tui.store import EventStore
    from qoder_tui.widgets import event_log
    from qoder_tui.widgets.event_log import EventLog

    monkeypatch.setattr(event_log, "BURST_FRAME_BUDGET", 0.0)
    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one(EventLog)
        log.frame_budget = 60.0  # (the usual budget, made roomy: no placeholder for time)
        frames: list[tuple[str | None, str]] = []
        draw = EventLog.render_lines

        def recorded(view: EventLog, crop: Any) -> Any:
            lines = draw(view, crop)
            frames.append((view.cursor_id, "\n".join(line.text for line in lines)))
            return lines

        monkeypatch.setattr(EventLog, "render_lines", recorded)
        store = EventStore("s")
        store.start([_agent_message(i, f"**m{i}**") for i in range(60)], has_older=False)
        log.show(store, label_agents=False)
        await until(pilot, lambda: frames and "m59" in frames[-1][1])
        log.apply(store.append(_agent_message(i, f"**m{i}**") for i in range(60, 260)), paint=False)
        log.catch_up()  # the burst's paint, while it still comes in
        await until(pilot, lambda: "**m258**" in frames[-1][1], what="the burst's paint")
        log.focus()
        before = len(frames)
        await pilot.press("k")  # the newest event on screen, selected
        await until(pilot, lambda: any(cursor for cursor, _ in frames[before:]))
        first = next(text for cursor, text in frames[before:] if cursor == "e000259")
        assert "m259" in first and "**m259**" not in first, first  # the selection: drawn
        assert "**m258**" in first, first  # the others as the burst's paint left them
        await until(
            pilot,
            lambda: "m258" in frames[-1][1] and "**m2" not in frames[-1][1],
            what="the placeholders drawn",
        )
        assert log.bursting  # (by the frame after the key's, not by the burst's end)


TABLE = "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |"
"""A message drawn taller than estimated (its table has borders)."""


async def _following_one_liners(pilot, app):  # type: ignore[no-untyped-def]
    """The log-only app's log following 30 one-line messages, every visible event drawn in
    each frame however slow (no frame budget)."""
    from qoder_tui.store import EventStore
    from qoder_tui.widgets.event_log import EventLog

    log = app.query_one(EventLog)
    log.frame_budget = None
    store = EventStore("s")
    store.start([_agent_message(i, "one line") for i in range(30)], has_older=False)
    log.show(store, label_agents=False)
    await until(pilot, lambda: log.scroll_y == log.max_scroll_y > 0)
    return log, store


def _frames_and_refreshes(log, widget):  # type: ignore[no-untyped-def]
    """Records each frame of the log, as (scroll_y before it, after it), and every refresh
    `widget` asks for while one is being drawn."""
    drawing = [False]
    frames: list[tuple[float, float]] = []
    asked: list[object] = []
    draw, refresh = log.render_lines, widget.refresh

    def counted(crop):  # type: ignore[no-untyped-def]
        drawing[0] = True
        before = log.scroll_y
        try:
            return draw(crop)
        finally:
            drawing[0] = False
            frames.append((before, log.scroll_y))

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        if drawing[0]:
            asked.append((args, kwargs))
        return refresh(*args, **kwargs)

    log.render_lines = counted
    widget.refresh = watched
    return frames, asked


async def test_a_frame_that_moves_the_view_while_measuring_asks_for_no_second_frame() -> None:
    """Following, a frame finds new events taller than estimated and moves the view to the
    end as it draws: that frame draws the new place itself and the scrollbar follows.  It
    asks for no repaint of the log (that chained a second frame after every frame that drew
    new events: a fifth of the app's time during a burst)."""
    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log, store = await _following_one_liners(pilot, app)
        frames, asked_while_drawing = _frames_and_refreshes(log, log)
        log.apply(store.append(_agent_message(i, TABLE) for i in range(30, 33)), paint=True)
        await until(pilot, lambda: frames, what="the frame that draws the new events")
        before, after = frames[0]
        assert after == log.max_scroll_y > before  # it moved to the new end while drawing
        assert log.vertical_scrollbar.position == log.scroll_y
        assert asked_while_drawing == []


async def test_a_frame_drawn_during_a_burst_leaves_the_scrollbar_until_the_bursts_next_paint() -> (
    None
):
    """During a burst, a frame that finds events taller than estimated changes the log's
    height and place as it draws.  Updating the scrollbar then asked for another frame, which
    drew more of the burst's events and asked again, frame after frame until the next drain:
    the bar waits for the burst's next paint (catch_up) or its end instead."""
    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log, store = await _following_one_liners(pilot, app)
        bar = log.vertical_scrollbar
        await until(pilot, lambda: bar.window_virtual_size == log.virtual_size.height)
        frames, asked_while_drawing = _frames_and_refreshes(log, bar)
        log.apply(store.append(_agent_message(i, TABLE) for i in range(30, 33)), paint=False)
        log.catch_up()  # the burst's paint: to the new end, estimated
        estimated = log.virtual_size.height
        await until(pilot, lambda: frames, what="the frame that draws the new events")
        assert log.virtual_size.height > estimated  # measuring found them taller
        assert frames[0][1] == log.scroll_y == log.max_scroll_y  # and drew the new end
        assert asked_while_drawing == []  # nothing asked of the scrollbar meanwhile
        assert bar.window_virtual_size == estimated  # it waits
        log.burst_over()
        assert bar.window_virtual_size == log.virtual_size.height
        assert bar.position == log.scroll_y


def test_the_thumbs_place_is_the_one_textual_draws() -> None:
    """The log draws its scrollbar again only when `thumb_cells` changes: equal places must
    be equal drawings, and different places different drawings, for every size."""
    from math import ceil

    from textual.scrollbar import ScrollBarRender

    from qoder_tui.widgets.event_log import thumb_cells

    def drawn(size: int, virtual: float, window: float, position: float) -> list[object]:
        # As ScrollBar._render_bar hands them to the renderer (its position in eighths).
        shown = ceil(window) if window < virtual else 0
        bar = ScrollBarRender.render_bar(size, ceil(virtual), shown, int(position * 8) / 8)
        return [(s.text, s.style) for s in bar.segments]

    for size in (1, 2, 7, 19, 41):
        for virtual in (size - 1, size, size + 1, 3 * size + 2, 997, 150_000):
            for window in (size - 1, size, 0):
                looks: dict[object, list[object]] = {}
                drawings: dict[tuple[object, ...], object] = {}
                top = max(virtual - window, 0)
                for position in sorted(
                    {0, min(1, top), top // 3, top // 2 + 0.4, max(top - 1, 0), top}
                ):
                    look = thumb_cells(size, virtual, window, int(position * 8) / 8)
                    drawing = drawn(size, virtual, window, position)
                    assert looks.setdefault(look, drawing) == drawing, (size, virtual, window)
                    assert drawings.setdefault(tuple(drawing), look) == look, (size, virtual)
    # Sizes whose ceilings meet: no thumb, where Textual's own arithmetic would divide by 0.
    assert thumb_cells(10, 19.7, 19.5, 0.0) is None


async def _one_line_log_at_its_end(app, pilot):  # type: ignore[no-untyped-def]
    """The log-only app's log showing 400 one-line messages, at its end, with its scrollbar
    there too: (log, store, bar)."""
    from qoder_tui.store import EventStore
    from qoder_tui.widgets.event_log import EventLog

    log = app.query_one(EventLog)
    log.frame_budget = None
    store = EventStore("s")
    store.start([_agent_message(i, "one line") for i in range(400)], has_older=False)
    log.show(store, label_agents=False)
    await until(pilot, lambda: log.scroll_y == log.max_scroll_y > 300, what="at the end")
    bar = log.vertical_scrollbar
    await pilot.pause()
    await until(pilot, lambda: bar.position == log.scroll_y, what="the bar at the end")
    await pilot.pause()
    return log, store, bar


async def test_a_following_log_draws_its_scrollbar_again_only_when_the_thumb_moves() -> None:
    """A live log's height and place change on every drain while its thumb, one cell at the
    bottom, stays: drawing the bar again each time cost 1.3-6 ms a frame for nothing."""
    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log, store, bar = await _one_line_log_at_its_end(app, pilot)
        draws: list[float] = []
        render = bar.render

        def counted():  # type: ignore[no-untyped-def]
            draws.append(bar.position)
            return render()

        bar.render = counted  # type: ignore[method-assign]
        frames, _ = _frames_and_refreshes(log, log)

        def drawn_at_the_end(height: int) -> bool:
            return (
                bool(frames)
                and log.virtual_size.height > height
                and (frames[-1][1] == log.scroll_y == log.max_scroll_y)
            )

        for paint, first in ((True, 400), (False, 410)):
            height = log.virtual_size.height
            frames.clear()
            log.apply(
                store.append(_agent_message(i, "one line") for i in range(first, first + 10)),
                paint=paint,
            )
            if not paint:
                log.catch_up()
                log.burst_over()
            await until(pilot, lambda h=height: drawn_at_the_end(h), what="the new end drawn")
            await pilot.pause()
            assert draws == []
            assert bar.window_virtual_size == log.virtual_size.height
            assert bar.position == log.scroll_y
        # Reading back: the bar is drawn where the view goes, and not again for a move
        # within the same eighth of a cell (five lines here).
        from qoder_tui.widgets.event_log import thumb_cells

        def thumb(y: float) -> object:
            return thumb_cells(bar.size.height, bar.window_virtual_size, bar.window_size, y)

        middle = log.max_scroll_y // 2
        log.scroll_to(y=middle, animate=False)
        await until(pilot, lambda: draws and draws[-1] == middle, what="the bar drawn mid-way")
        y = next(
            y for y in range(middle - 7, middle + 8) if y != middle and thumb(y) == thumb(middle)
        )
        frames.clear()
        draws.clear()
        log.scroll_to(y=y, animate=False)
        await until(pilot, lambda: frames and frames[-1][1] == y, what="the view moved")
        await pilot.pause()
        assert draws == [] and bar.position == y
        log.scroll_home(animate=False)
        await until(pilot, lambda: draws, what="the bar drawn at the top")
        assert draws[-1] == bar.position == 0


async def test_a_moving_thumb_draws_only_the_scrollbars_rows_that_change() -> None:
    """When the thumb moves, only the bar's rows between the old and the new thumb are drawn
    again, and the bar on screen is then the one a whole new drawing gives (the cells above
    and below the thumb differ in what a click does, so none may be left behind)."""
    from textual.geometry import Region

    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log, store, bar = await _one_line_log_at_its_end(app, pilot)
        drawn_rows: list[int] = []
        render_line = bar.render_line

        def counted(y: int):  # type: ignore[no-untyped-def]
            drawn_rows.append(y)
            return render_line(y)

        bar.render_line = counted  # type: ignore[method-assign]

        def on_screen() -> list[list[object]]:
            # What the compositor has for the bar: each row's cached line (nothing is dirty
            # once a frame is out), as text and style (meta included) per cell.
            lines = bar.render_lines(Region(0, 0, bar.size.width, bar.size.height))
            return [[(seg.text, seg.style) for seg in line] for line in lines]

        async def check(move, what: str) -> None:  # type: ignore[no-untyped-def]
            before = on_screen()
            drawn_rows.clear()
            move()
            await until(pilot, lambda: on_screen() != before, what=what)
            await pilot.pause()
            seen, partial = on_screen(), sorted(set(drawn_rows))
            assert 0 < len(partial) < bar.size.height // 2, (what, partial)
            bar.refresh()  # the whole bar drawn anew
            await pilot.pause()
            assert on_screen() == seen, what

        # New events below a reader who stopped following push the thumb up, an eighth of
        # a cell at a time; scrolling moves it down and up.
        log.scroll_to(y=log.max_scroll_y // 2, animate=False)
        await until(pilot, lambda: not log.follow, what="stopped following")
        await pilot.pause()
        for first in (400, 520):
            await check(
                lambda f=first: log.apply(
                    store.append(_agent_message(i, "one line") for i in range(f, f + 120))
                ),
                f"events {first}+ added below",
            )
        for y in (log.scroll_y + 40, log.scroll_y + 80, log.scroll_y - 150):
            await check(lambda y=y: log.scroll_to(y=y, animate=False), f"scrolled to {y}")


async def test_background_reads_start_once_the_opened_view_is_drawn(
    demo_sim: SimulatorServer, monkeypatch
) -> None:
    """The probes of listed sessions and the failed-call counts wait for the first paint of
    what the app opened with (the fallback timer is out of reach here), then run."""
    import qoder_tui.screens.main as main_module

    monkeypatch.setattr(main_module, "BACKGROUND_AFTER", 600.0)
    app = _app_on(demo_sim, "pydantic")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        log = screen.log_view
        await until(pilot, lambda: log.store is not None and log.store.started)
        await until(pilot, lambda: screen.controller._painted.is_set(), what="the first paint")
        store = screen.stores[screen.current[0]]
        await until(
            pilot,
            lambda: all(t.failures_counted is not None for t in store.threads.values()),
            timeout=30,
            what="every thread's failed calls counted",
        )


async def test_code_highlighting_is_made_ready_in_a_thread_once_the_opened_view_is_drawn(
    demo_sim: SimulatorServer, monkeypatch
) -> None:
    """pygments compiles a lexer's patterns when it is first made (Python's 70 ms here), and
    that fell inside the first frame that drew a code block in the language.  Once what the
    app opened with is drawn, a thread makes the common languages' lexers ready."""
    import threading

    import qoder_tui.screens.main as main_module
    from qoder_tui.render import events as render_events

    monkeypatch.setattr(main_module, "BACKGROUND_AFTER", 600.0)
    render_events._code_lexer.cache_clear()  # as at launch (an earlier test made some)
    app = _app_on(demo_sim, "pydantic")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(pilot, lambda: screen._highlighting is not None, what="the thread started")
        thread = screen._highlighting
        assert thread is not None and thread is not threading.main_thread() and thread.daemon
        await until(pilot, lambda: not thread.is_alive(), timeout=30, what="the lexers made")
        ready = render_events._code_lexer.cache_info()
        assert ready.currsize >= len(render_events.CODE_LANGUAGES)
        for name in render_events.CODE_LANGUAGES:  # each made once, and found from now on
            assert not isinstance(render_events._code_lexer(name), str), name
        assert render_events._code_lexer.cache_info().misses == ready.misses


async def test_the_markdown_renderer_is_loaded_while_the_first_pages_are_on_their_way(
    make_sim,
) -> None:
    """Once the first frame is drawn, the app loads what messages are drawn with while it
    waits for the server (here 1.5 s an answer), instead of in the frame that shows them."""
    from qoder_tui.render import events as render_events

    server = make_sim(delay=1.5)
    sid = _session(server, "pydantic")
    render_events._markdown_class.cache_clear()  # as at launch (an earlier test loaded it)
    app = QoderApp(settings_for(server), session_id=sid, live=False, clock=_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(
            pilot,
            lambda: render_events._markdown_class.cache_info().currsize == 1,
            what="the markdown renderer loaded",
        )
        assert screen.log_view.store is None or len(screen.log_view.store) == 0
        await until(pilot, lambda: screen.log_view.store is not None and len(screen.log_view.store))


def _lines_drawn(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, the rows of the event log drawn anew (in order)."""
    return _rows_drawn(monkeypatch, lambda y, _text: y)


def _rows_drawn(monkeypatch: pytest.MonkeyPatch, entry: Callable[[int, str], Any]) -> list[Any]:
    """From now on, `entry(row, text)` for each row of the event log drawn anew (a row a
    frame shows as the one before showed it is kept, not drawn)."""
    from qoder_tui.widgets.event_log import EventLog

    drawn: list[Any] = []
    draw = EventLog._new_row

    def recorded(view: EventLog, y: int, *args: Any) -> Any:
        strip = draw(view, y, *args)
        drawn.append(entry(y, strip.text))
        return strip

    monkeypatch.setattr(EventLog, "_new_row", recorded)
    return drawn


async def test_a_key_that_stops_following_redraws_only_the_lines_of_the_selected_event(
    demo_app_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up from the newest events selects the one at the bottom and stops following; the
    frame for it draws that event's lines, not the whole log (during a burst that frame
    came on top of the burst's own)."""

    app = _app_on(demo_app_sim, "pydantic")
    async with app.run_test(size=SIZE) as pilot:
        log = main_screen(app).log_view
        await until(pilot, lambda: log.store is not None and log.store.started)
        await until(pilot, lambda: log.heights and log.offsets[-1] > log.size.height)
        await pilot.pause()
        assert log.follow and log.cursor_id is None
        drawn = _lines_drawn(monkeypatch)
        await pilot.press("k")
        await until(pilot, lambda: log.cursor_id is not None and drawn, what="the key's frame")
        await pilot.pause()
        store = log.store
        assert store is not None and not log.follow
        index = store.index_of(log.cursor_id)
        assert index is not None
        top = 1 + log.offsets[index] - round(log.scroll_y)
        rows = set(range(top, top + log.heights[index]))
        assert set(drawn) <= rows, (sorted(set(drawn)), sorted(rows))


@asynccontextmanager
async def _a_burst_of_3000(make_sim):  # type: ignore[no-untyped-def]
    """The app follows a big session; the simulator appends 3000 events to it at once.
    Yields (pilot, the main screen, the view's store, the id of the burst's last event)."""
    async with _following_a_big_session(make_sim) as (server, sess, pilot, screen):
        store = screen.log_view.store
        assert store is not None
        await _grow(server, sess.id, 3000)
        yield pilot, screen, store, sess.session_log.get(len(sess.session_log) - 1)["id"]


async def test_the_end_of_a_burst_is_stored_and_drawn_once_the_stream_goes_quiet(
    make_sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a burst, drains and paints come at most every BUSY_DRAIN_INTERVAL and
    BURST_PAINT_EVERY; what the burst's last moments brought waited for the next of each
    (up to 0.2 and 0.25 s).  Here both are 30 s: the end must come with the quiet."""
    import qoder_tui.screens.main as main_module

    monkeypatch.setattr(main_module, "BUSY_DRAIN_INTERVAL", 30.0)
    monkeypatch.setattr(main_module, "BURST_PAINT_EVERY", 30.0)
    async with _a_burst_of_3000(make_sim) as (pilot, screen, store, newest):
        log = screen.log_view
        await until(pilot, lambda: store.newest_id == newest, timeout=15, what="the burst stored")
        await until(
            pilot,
            lambda: not log.bursting and log.scroll_y == log.max_scroll_y,
            timeout=15,
            what="the burst's end drawn",
        )
        assert log.follow and len(log.heights) == len(store)


async def test_a_burst_goes_on_while_its_buffer_is_empty_and_ends_once_the_stream_is_quiet(
    make_sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The followers read in batches: a drain often empties the buffer in the middle of a
    burst.  Taking that for the burst's end drew every event on screen in full again
    (12-20 ms a frame, for lines the burst moved past at its next paint).  Here the stream
    is quiet only after 3 s without an event: the burst, all stored and drawn at its
    newest, still goes on until then, and then ends."""
    import qoder_tui.screens.main as main_module

    monkeypatch.setattr(main_module, "STREAM_QUIET", 3.0)
    monkeypatch.setattr(main_module, "BURST_PAINT_EVERY", 0.5)
    async with _a_burst_of_3000(make_sim) as (pilot, screen, store, newest):
        log = screen.log_view
        await until(
            pilot,
            lambda: (
                store.newest_id == newest
                and not screen.controller.has_buffered
                and len(log.heights) == len(store)
                and log.scroll_y == log.max_scroll_y
            ),
            timeout=15,
            what="the burst stored and drawn at its newest",
        )
        assert log.bursting, "a drain that emptied the buffer ended the burst"
        await until(pilot, lambda: not log.bursting, timeout=15, what="the burst's end")
        assert screen.controller.stream_quiet(3.0)


async def test_events_that_arrive_below_a_view_that_does_not_follow_redraw_none_of_its_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reading back while live events come in: each drain used to redraw every line of the
    log, though only the scrollbar changes.  Events that land in view are still drawn."""
    from qoder_tui.store import EventStore

    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log, store = await _following_one_liners(pilot, app)
        log.select(store.events[10].id)  # reading back: the view stops following
        await until(pilot, lambda: not log.follow and log.scroll_y < log.max_scroll_y)
        await pilot.pause()
        drawn = _lines_drawn(monkeypatch)
        height = log.virtual_size.height
        log.apply(store.append(_agent_message(i, "one line") for i in range(30, 40)))
        await until(pilot, lambda: log.virtual_size.height > height, what="the new size")
        await pilot.pause()
        await pilot.pause()
        assert drawn == []  # nothing on screen changed
        # A log shorter than the view, not following (an event selected): the new event
        # lands in view, and is drawn.
        short = EventStore("s")
        short.start([_agent_message(i, "one line") for i in range(2)], has_older=False)
        log.show(short, label_agents=False)
        log.select(short.events[0].id, center=False)
        await until(pilot, lambda: not log.follow and log.offsets[-1] < log.size.height)
        await pilot.pause()
        drawn.clear()
        log.apply(short.append([_agent_message(2, "one line")]))
        await until(pilot, lambda: drawn, what="the view drawn again")


async def test_the_seconds_of_a_pending_call_redraw_only_its_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every second a call still running shows its time: that call's lines are drawn again,
    not the whole log."""
    from datetime import timedelta

    from qoder_tui.api.models import parse_event

    app = _log_only_app()
    async with app.run_test(size=(80, 20)) as pilot:
        log, store = await _following_one_liners(pilot, app)
        call = parse_event(
            {
                "id": "call-1",
                "type": "agent.tool_use",
                "name": "Bash",
                "input": {"command": "sleep 60"},
                "processed_at": "2026-01-01T00:00:40Z",
            }
        )
        assert call.time is not None
        now = [call.time + timedelta(seconds=3)]
        log.clock = lambda: now[0]
        log.apply(store.append([call, _agent_message(41, "after the call")]))
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y)
        await pilot.pause()
        await pilot.pause()
        drawn: list[tuple[int, str]] = _rows_drawn(monkeypatch, lambda y, text: (y, text))
        now[0] += timedelta(seconds=1)
        log.tick()
        await until(pilot, lambda: any("4s" in text for _, text in drawn), what="the next second")
        await pilot.pause()
        index = store.index_of(call.id)
        assert index is not None
        top = 1 + log.offsets[index] - round(log.scroll_y)
        rows = {y for y, _ in drawn}
        assert rows <= set(range(top, top + log.heights[index])), sorted(rows)


# ---------------------------------------------------------------- lines that change by themselves


def _at(seconds: float) -> str:
    when = FIXED_START + timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _ev(i: int, type_: str, seconds: float, **fields: Any) -> Event:
    return parse_event({"id": f"e{i}", "type": type_, "processed_at": _at(seconds), **fields})


async def _showing(pilot: Pilot, app: QoderApp, store: EventStore) -> EventLog:
    """The app's log showing `store` (the app opened on its list; nothing else in the log)."""
    screen = main_screen(app)
    await until(pilot, lambda: len(screen.tree_view.session_nodes) > 0)
    log = screen.log_view
    log.show(store, label_agents=False)
    await pilot.pause()
    return log


async def test_a_running_model_request_is_drawn_again_as_its_time_goes_up(
    demo_app_sim: SimulatorServer,
) -> None:
    """A model request not ended shows how long it has run: its drawn lines are not reused
    once that changes."""
    now = [FIXED_START]
    app = QoderApp(settings_for(demo_app_sim), clock=lambda: now[0], live=False)
    store = EventStore("s", "t")
    store.start([_ev(2, "span.model_request_start", -3)], has_older=False)
    async with app.run_test(size=SIZE) as pilot:
        await _showing(pilot, app, store)
        assert "request running 3s" in visible_text(app), visible_text(app)
        now[0] = FIXED_START + timedelta(seconds=5)
        assert "request running 8s" in visible_text(app), visible_text(app)


async def test_a_selected_model_request_that_ends_hands_the_selection_to_its_end(
    demo_app_sim: SimulatorServer,
) -> None:
    """A model request's start is drawn inside its end's line once the end comes in: the
    selection moves to the end, the line the reader sees, and the view shows it.  It stayed
    on the start, which had no line any more: in the demo, the first `k` after launch
    often selected a running request, and a moment later no line showed a selection."""
    app = QoderApp(settings_for(demo_app_sim), clock=_clock, live=False)
    store = EventStore("s", "t")
    messages = [_ev(i, "agent.message", i - 60, content=f"m{i}") for i in range(1, 40)]
    store.start([*messages, _ev(40, "span.model_request_start", -1)], has_older=False)
    async with app.run_test(size=SIZE) as pilot:
        log = await _showing(pilot, app, store)
        log.focus()
        await pilot.press("k")  # the newest event, selected: the running request
        await until(pilot, lambda: log.cursor_id == "e40" and not log.follow)
        end = _ev(42, "span.model_request_end", 1, model_request_start_id="e40")
        log.apply(store.append([_ev(41, "agent.message", 0, content="m41"), end]))
        assert log.cursor_id == "e42"
        assert log._on_screen(len(store) - 1)
        await pilot.pause()
        marked = [line for line in visible_text(app).splitlines() if line.startswith("▌")]
        assert len(marked) == 1 and "model" in marked[0], visible_text(app)


async def test_lines_that_name_other_events_are_drawn_again_when_those_load(
    demo_app_sim: SimulatorServer,
) -> None:
    """A request's end shows its duration once its start is loaded, an approval stop names
    the call it waits on once that call is, a handoff names the other thread's agent once it
    is known, and a user message's turn counts a model request that ends after it."""
    app = QoderApp(settings_for(demo_app_sim), clock=_clock, live=False)
    store = EventStore("s", "t")
    store.start(
        [
            _ev(5, "span.model_request_end", 0, model_request_start_id="e4"),
            _ev(
                6,
                "session.status_idle",
                1,
                stop_reason={"type": "requires_action", "event_ids": ["e3"]},
            ),
            _ev(7, "agent.thread_message_received", 2, from_session_thread_id="t2", content="hi"),
            _ev(8, "user.message", 3, content="go on"),
            _ev(9, "span.model_request_start", 4),
        ],
        has_older=True,
    )
    async with app.run_test(size=SIZE) as pilot:
        log = await _showing(pilot, app, store)
        shown = visible_text(app)
        assert "request finished" in shown and "waiting on e3" in shown, shown
        assert "from t2" in shown and "model 0s" in shown, shown
        log.agent_name = lambda thread_id: "Researcher" if thread_id == "t2" else ""
        change = store.prepend(
            [
                _ev(3, "agent.tool_use", -5, name="Bash", input={"command": "ls -la"}),
                _ev(4, "span.model_request_start", -2.5),
            ],
            has_older=False,
        )
        log.apply(change)
        log.apply(store.append([_ev(10, "span.model_request_end", 6, model_request_start_id="e9")]))
        shown = visible_text(app)
        assert "2.5s" in shown and "waiting on Bash" in shown and "ls -la" in shown, shown
        assert "from Researcher" in shown and "model 2s" in shown, shown


# ---------------------------------------------------------------- the log's own lines


async def _log_drawn(pilot: Pilot, app: QoderApp) -> tuple[EventLog, EventStore]:
    """The log once its opened view is loaded and drawn."""
    log = main_screen(app).log_view
    await until(pilot, lambda: log.store is not None and log.store.started and log.heights)
    await pilot.pause()
    assert log.store is not None
    return log, log.store


async def test_the_logs_lines_are_the_ones_textuals_styles_cache_would_draw(
    demo_app_sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log hands its finished lines to the compositor itself (a plain box: no border,
    padding, tint or opacity), keeping the rows that look as they did.  What it hands over
    must be, segment for segment, what Textual's styles cache draws from render_line: at
    the newest events, with an event selected, with search marks, and at the top (the
    header, and a short log's blank rows below its events)."""
    from textual.geometry import Region

    plain = [True]
    own = EventLog._plain_box
    monkeypatch.setattr(EventLog, "_plain_box", lambda view: plain[0] and own(view))

    def drawn_both_ways(log: EventLog) -> tuple[list[Any], list[Any]]:
        crop = Region(0, 0, *log.size)
        plain[0] = True
        mine = [list(strip) for strip in log.render_lines(crop)]
        plain[0] = False
        log.refresh()  # (every line of the styles cache drawn again)
        textuals = [list(strip) for strip in log.render_lines(crop)]
        plain[0] = True
        return mine, textuals

    app = _app_on(demo_app_sim, "pydantic")
    async with app.run_test(size=SIZE) as pilot:
        log, store = await _log_drawn(pilot, app)
        assert log.follow
        mine, textuals = drawn_both_ways(log)
        assert mine == textuals
        # Events not drawn yet (the frame's budget spent) show as placeholders: the same.
        made: list[int] = []
        placeholder = log._placeholder
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(log, "_placeholder", lambda i: made.append(i) or placeholder(i))
            patch.setattr(log, "frame_budget", 0.0)
            log._cache.clear()
            mine, textuals = drawn_both_ways(log)
        assert made and mine == textuals
        await pilot.press("k")
        await until(pilot, lambda: log.cursor_id is not None)
        await pilot.pause()
        mine, textuals = drawn_both_ways(log)
        assert any("▌" in "".join(seg.text for seg in line) for line in mine)
        assert mine == textuals
        word = store.events[-1].hhmmss
        log.search_query = word
        log.refresh()
        await pilot.pause()
        mine, textuals = drawn_both_ways(log)
        assert any(seg.style and seg.style.reverse for line in mine for seg in line)
        assert mine == textuals
        log.search_query = ""
        log.scroll_home(animate=False)
        await until(pilot, lambda: log.scroll_y == 0)
        await pilot.pause()
        mine, textuals = drawn_both_ways(log)
        assert "".join(seg.text for seg in mine[0]).strip()  # the header line
        assert mine == textuals
        short = EventStore("s")
        short.start([store.events[-1]], has_older=False)
        log.show(short, label_agents=False)
        await pilot.pause()
        mine, textuals = drawn_both_ways(log)
        assert not "".join(seg.text for seg in mine[-1]).strip()  # a blank row below
        assert mine == textuals


async def test_a_log_styled_with_padding_is_drawn_by_textuals_styles_cache(
    demo_app_sim: SimulatorServer,
) -> None:
    """Styles that draw around or over the lines (here padding) are Textual's to draw: the
    log's own finished lines are for a plain box only."""
    from textual.geometry import Region

    app = _app_on(demo_app_sim, "pydantic")
    async with app.run_test(size=SIZE) as pilot:
        log, store = await _log_drawn(pilot, app)
        time_text = store.events[-1].hhmmss
        before = [s.text for s in log.render_lines(Region(0, 0, *log.size))]
        assert any(line.startswith("  " + time_text) for line in before)
        log.styles.padding = (0, 0, 0, 4)
        await until(pilot, lambda: log.content_region.x == log.region.x + 4)
        await pilot.pause()
        after = [s.text for s in log.render_lines(Region(0, 0, *log.size))]
        assert any(line.startswith("      " + time_text) for line in after), after[-3:]
