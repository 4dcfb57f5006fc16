"""What a terminal shows: the bytes the app writes, played into a terminal emulator (pyte).

The other UI tests run headless, where Textual renders nothing for a terminal: they read
what the widgets drew, not what was written.  A frame writes only the regions that were
asked to be drawn, so a widget whose lines moved while it was being drawn can leave rows
on screen that no longer match it, and nothing headless sees that.  Here the app runs with
a driver that keeps what it writes, as a terminal would receive it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pyte
from textual.app import App, ComposeResult
from textual.drivers.headless_driver import HeadlessDriver
from textual.pilot import Pilot

from qoder_tui.api.models import parse_event
from qoder_tui.store import EventStore
from qoder_tui.widgets.event_log import EventLog

WIDTH, HEIGHT = 80, 20


class Terminal:
    """A terminal of WIDTH x HEIGHT fed with everything the app writes."""

    def __init__(self) -> None:
        self.screen = pyte.Screen(WIDTH, HEIGHT)
        self.stream = pyte.Stream(self.screen)
        self.screens: list[list[str]] = []
        """The screen after each frame."""
        self.writes: list[str] = []
        """What each frame wrote."""

    @property
    def frames(self) -> int:
        return len(self.screens)

    def feed(self, data: str) -> None:
        self.writes.append(data)
        self.stream.feed(data)
        self.screens.append(self.lines)

    @property
    def lines(self) -> list[str]:
        return list(self.screen.display)


class RecordingDriver(HeadlessDriver):
    """The headless driver, but not headless: Textual renders each frame and writes it here."""

    terminal: Terminal | None = None
    latest: RecordingDriver | None = None
    """The last one made (what a test hands input to, as a terminal's thread would)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        RecordingDriver.latest = self

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        if RecordingDriver.terminal is not None:
            RecordingDriver.terminal.feed(data)


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventLog(id="log")


def _message(i: int, content: str):  # type: ignore[no-untyped-def]
    stamp = f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z"
    return parse_event(
        {"id": f"e{i:06d}", "type": "agent.message", "content": content, "processed_at": stamp}
    )


async def until(pilot: Pilot[Any], condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.01)


async def _settled(pilot: Pilot[Any], terminal: Terminal) -> list[str]:
    """The terminal once the app has stopped writing frames for a while."""
    while True:
        frames = terminal.frames
        await pilot.pause(0.1)
        if terminal.frames == frames:
            return terminal.lines


@asynccontextmanager
async def _log_in_a_terminal() -> AsyncIterator[tuple[Pilot[Any], EventLog, Terminal]]:
    """An app of one event log (no frame budget), its frames played into a Terminal."""
    terminal = RecordingDriver.terminal = Terminal()
    app = LogApp(driver_class=RecordingDriver)
    try:
        async with app.run_test(headless=False, size=(WIDTH, HEIGHT)) as pilot:
            log = app.query_one(EventLog)
            log.frame_budget = None
            yield pilot, log, terminal
    finally:
        RecordingDriver.terminal = None


async def _as_redrawn(pilot: Pilot[Any], log: EventLog, terminal: Terminal) -> list[str]:
    """The terminal settled; it shows what drawing the whole log again shows (returned)."""
    shown = await _settled(pilot, terminal)
    log.refresh()
    redrawn = await _settled(pilot, terminal)
    assert shown == redrawn, "\n".join(
        f"{a!r}\n{b!r}" for a, b in zip(shown, redrawn, strict=True) if a != b
    )
    return redrawn


async def test_a_key_that_moves_lines_while_they_are_drawn_leaves_the_terminal_as_a_redraw_would() -> (
    None
):
    """A key that moves the selection asks for the lines of the two events it changes.  The
    frame that draws them also measures the events on screen; where an event drawn for the
    first time is shorter than its estimate (a placeholder's height, during a burst), every
    line below it moves.  A frame that wrote only the asked-for lines left the rest where
    they were: in the real terminal the selection mark was missing, and rows were out of
    place, until some later frame happened to draw the whole log.  During a burst the key
    asks for the whole log at once: no frame shows rows out of place."""
    async with _log_in_a_terminal() as (pilot, log, terminal):
        store = EventStore("s")
        store.start([_message(i, "one line") for i in range(20)], has_older=False)
        log.show(store, label_agents=False)
        log.focus()
        await until(pilot, lambda: any("one line" in line for line in terminal.lines), "lines")
        # Messages estimated taller than they are drawn (Markdown folds blank lines),
        # shown as placeholders: no budget to draw them.
        log.frame_budget = 0.0
        airy = "first\n\n\n\n\n\n\n\nlast"
        log.apply(store.append(_message(i, f"m{i} {airy}") for i in range(20, 60)))
        # More come in a burst, held for its next paint: the view stays where it is.
        log.apply(store.append(_message(i, airy) for i in range(60, 100)), paint=False)
        await until(pilot, lambda: any("m59" in line for line in terminal.lines), "m59")
        assert log.heights[-1] > 4  # (the estimate, before it is drawn)
        await _settled(pilot, terminal)
        log.frame_budget = None  # the key's frame draws every event on screen
        before_key = terminal.frames
        await pilot.press("k")
        # (the event at the bottom of the view: a burst's are held for its next paint)
        await until(pilot, lambda: log.cursor_id is not None, "the selection")
        assert log.cursor_id == "e000059"
        redrawn = await _as_redrawn(pilot, log, terminal)
        assert any("▌" in line for line in redrawn), "\n".join(redrawn)
        # Not even for a frame: the key's first frame draws the whole log in a burst.
        after_key = terminal.screens[before_key : before_key + 1]
        assert after_key == [redrawn], "\n".join(after_key[0] if after_key else [])


async def test_a_key_in_a_burst_writes_only_the_selections_lines_when_nothing_on_screen_moved() -> (
    None
):
    """During a burst a key's frame drew the whole log (placeholders on screen move lines
    when drawn).  When the selected event keeps its height and nothing on screen changed
    since the log was last drawn whole, the frame asks for the selection's lines only (in
    tmux, a whole log's frame took longer to write and for tmux to read).  The terminal
    still shows what a redraw would."""
    async with _log_in_a_terminal() as (pilot, log, terminal):
        store = EventStore("s")
        store.start([_message(i, f"line {i}") for i in range(40)], has_older=False)
        log.show(store, label_agents=False)
        log.focus()
        await until(pilot, lambda: any("line 39" in line for line in terminal.lines), "39")
        # A burst comes in, held for its next paint: the view stays where it is.
        log.apply(store.append(_message(i, f"line {i}") for i in range(40, 80)), paint=False)
        assert log.bursting
        await _settled(pilot, terminal)
        before = len(terminal.writes)
        log.refresh()  # (what a frame of the whole log writes)
        await _settled(pilot, terminal)
        whole = max(len(data) for data in terminal.writes[before:])
        before = len(terminal.writes)
        await pilot.press("k")
        await until(pilot, lambda: log.cursor_id is not None, "the selection")
        assert log.cursor_id == "e000039"
        await _settled(pilot, terminal)
        first = terminal.writes[before]
        assert "▌" in first and len(first) < whole / 4, (len(first), whole)
        await _as_redrawn(pilot, log, terminal)


LOUD = "news\n**loud** words"
"""A message that looks different drawn ("loud words") and as a placeholder ("**loud**")."""


def _shows(terminal: Terminal, text: str) -> Callable[[], bool]:
    return lambda: any(text in line for line in terminal.lines)


async def _placeholder_while_a_key_waits(
    pilot: Pilot[Any], log: EventLog, terminal: Terminal
) -> list[bool]:
    """Ten lines drawn; then, a key on its way (the list returned says whether it still
    is), LOUD and a short message come in, and the frame after shows LOUD's placeholder."""
    log.frame_budget = 0.012  # (as in the app)
    waiting = [False]
    log.key_waiting = lambda: waiting[0]
    store = EventStore("s")
    store.start([_message(i, f"line {i}") for i in range(10)], has_older=False)
    log.show(store, label_agents=False)
    log.focus()
    await until(pilot, _shows(terminal, "line 9"), "line 9")
    waiting[0] = True
    log.apply(store.append([_message(10, LOUD), _message(11, "quiet")]))
    await until(pilot, _shows(terminal, "**loud** words"), "the placeholder")
    return waiting


async def test_a_frame_drawn_while_a_key_is_on_its_way_draws_no_event_not_drawn_before() -> None:
    """A key read by the terminal's thread reaches its binding through the app, the focused
    widget and back; a frame that comes due meanwhile (a live burst's paint) does not show
    it, and drawing the new events in it (12-27 ms in tmux traces) delayed the key's own
    frame.  Such a frame draws what it drew before, and placeholders for the rest; the
    frame after the key draws them."""
    async with _log_in_a_terminal() as (pilot, log, terminal):
        waiting = await _placeholder_while_a_key_waits(pilot, log, terminal)
        shown = terminal.lines
        assert not any("loud words" in line for line in shown), "\n".join(shown)
        assert any("line 9" in line for line in shown), "\n".join(shown)  # (drawn before)
        waiting[0] = False  # the key's binding ran: the next frame draws the event
        await until(pilot, _shows(terminal, "loud words"), "drawn")
        assert not _shows(terminal, "**loud**")()


async def test_a_keys_frame_after_one_drawn_while_it_was_on_its_way_draws_the_selection_first(
    monkeypatch: Any,
) -> None:
    """Frames drawn while a key was on its way left placeholders; its own frame drew them
    all (15-18 ms of the log in tmux traces) before the selection showed.  It draws the
    selection now, and the frame after it the placeholders, as during a burst."""
    async with _log_in_a_terminal() as (pilot, log, terminal):
        waiting = await _placeholder_while_a_key_waits(pilot, log, terminal)
        cursor = log.action_cursor

        def binding(delta: int) -> None:
            waiting[0] = False  # (the key reached its binding)
            cursor(delta)

        monkeypatch.setattr(log, "action_cursor", binding)
        before = terminal.frames
        await pilot.press("k")
        await until(pilot, lambda: log.cursor_id is not None, "the selection")
        assert log.cursor_id == "e000011"  # (the newest: not the one left as a placeholder)
        await until(pilot, _shows(terminal, "▌"), "the mark")
        keys_frame = next(s for s in terminal.screens[before:] if any("▌" in ln for ln in s))
        assert any("**loud** words" in line for line in keys_frame), "\n".join(keys_frame)
        shown = await _as_redrawn(pilot, log, terminal)
        assert any("loud words" in line for line in shown) and "▌" in "".join(shown)
