"""The Textual app: wiring only.  The main screen does the work."""

from __future__ import annotations

import functools
import gc
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.message import Message

from .api.client import QoderClient
from .api.errors import redact
from .api.prefetch import Prefetch
from .api.settings import Settings
from .collector import FullCollections
from .commands import GoToProvider, SafeCommandPalette
from .screens.main import InputStamp, MainScreen
from .store import DEFAULT_WINDOW
from .ui_caches import release_widget_caches


def styles_dir() -> Path:
    """`qoder_tui/styles` in an installed wheel; the top-level `styles/` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "styles", here.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    raise FileNotFoundError(
        "qoder-tui's stylesheet (styles/app.tcss) is missing from the installation"
    )


PROMPT_INPUT = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)
"""Input a person waits to see answered (not mouse moves)."""

TERMINAL_CHECK = 1.0
"""Seconds between checks that the terminal the app runs in is still there."""

WIDGET_CACHE_SWEEP = 30.0
"""Seconds between releases of what Textual keeps of widgets that are gone (notifications)."""

YOUNG_GENERATION = 5000
"""The collector's young-generation threshold while the app runs (Python's default is 700).

A live burst keeps a drain interval's parsed events (up to a few thousand) in the follower's
buffer. Collecting the young generation every 700 allocations, those events outlived two
collections and moved to the oldest generation, and about every third 20,000-event burst that
set off a full collection of the whole heap (100-160 ms here, with any key press waiting
behind it). With 5000 they are mostly gone by the middle generation's collection. In-process
20,000-event bursts, taking turns: no full collection in 30 against 16 in 42 with 700, and
57.5 against 59.9 us of CPU an event (means of 18 each). Put back when the app ends."""


def terminal_fds() -> list[int]:
    """The standard streams that are terminals now."""
    fds = []
    for stream in (sys.__stdin__, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None and os.isatty(stream.fileno()):
                fds.append(stream.fileno())
        except (OSError, ValueError):
            pass
    return fds


@functools.cache
def noting_input(driver_class: type[Driver]) -> type[Driver]:
    """The driver class, stamping its app's InputStamp as its input thread reads a key or a
    click (Driver.process_message: "additional processing on a message, prior to sending")."""

    class NotingInput(driver_class):  # type: ignore[valid-type,misc]
        def __init__(self, app: App[Any], **kwargs: Any) -> None:
            super().__init__(app, **kwargs)
            self._input_stamp: InputStamp | None = getattr(app, "input_stamp", None)

        def process_message(self, message: Message) -> None:
            if self._input_stamp is not None and isinstance(message, PROMPT_INPUT):
                # (floats: safe from a thread)
                self._input_stamp.at = now = time.monotonic()
                if isinstance(message, events.Key):
                    self._input_stamp.key_at = now
            super().process_message(message)

    NotingInput.__name__ = NotingInput.__qualname__ = f"NotingInput{driver_class.__name__}"
    return NotingInput


class QoderApp(App[None]):
    TITLE = "qoder-tui"
    CSS_PATH = str(styles_dir() / "app.tcss")
    COMMANDS = App.COMMANDS | {GoToProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        session_id: str | None = None,
        thread_id: str | None = None,
        open_live_session: bool = False,
        clock: Callable[[], datetime] | None = None,
        live: bool = True,
        server_label: str | None = None,
        quiet_crashes: bool = False,
        frame_budget: float | None = 0.012,
        window: int = DEFAULT_WINDOW,
        alert_bell: bool = True,
        idle_alert: float | None = None,
        prefetch: Prefetch | None = None,
    ) -> None:
        super().__init__()
        self.quiet_crashes = quiet_crashes
        """True when run by the CLI: a bug ends the app with one line, details in a file."""
        self.crash_message: str | None = None
        self.terminal_lost = False
        """The app quit because its terminal went away (nothing may be written to it)."""
        self._terminal_fds: list[int] = []
        self.full_collections = FullCollections()
        """When the collector's full collections run (the screen picks the moment)."""
        self.input_stamp = InputStamp()
        """When the driver's input thread last read a key or a click (see noting_input)."""
        self.settings = settings
        self.client = QoderClient(settings, prefetch=prefetch)
        self._screen_args = {
            "session_id": session_id,
            "thread_id": thread_id,
            "open_live_session": open_live_session,
            "clock": clock,
            "live": live,
            "server_label": server_label,
            "frame_budget": frame_budget,
            "window": window,
            "alert_bell": alert_bell,
            "idle_alert": idle_alert,
            "full_collections": self.full_collections,
            "input_stamp": self.input_stamp,
        }

    def get_driver_class(self) -> type[Driver]:
        return noting_input(super().get_driver_class())

    def action_command_palette(self) -> None:
        if self.use_command_palette and not SafeCommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(SafeCommandPalette(id="--command-palette"))

    def get_default_screen(self) -> MainScreen:
        # The app's first screen, not one pushed over Textual's blank one from on_mount: a
        # pushed screen is laid out and drawn inside Textual's start-up batch, whose frames
        # are not written, and then drawn again (measured: 50 ms of a 600 ms launch).
        return MainScreen(self.client, **self._screen_args)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.full_collections.start(young=max(gc.get_threshold()[0], YOUNG_GENERATION))
        self._terminal_fds = [] if self.is_headless else terminal_fds()
        if self._terminal_fds:
            self.set_interval(TERMINAL_CHECK, self._check_terminal)
        self.set_interval(WIDGET_CACHE_SWEEP, release_widget_caches)

    def _check_terminal(self) -> None:
        """Quit once the terminal has gone (its window closed without a hangup reaching us,
        as under `make`).  Textual's input thread then reads end-of-file in a busy loop: the
        app would go on following, and using a core, with nobody to see it."""
        if any(not os.isatty(fd) for fd in self._terminal_fds):
            self.terminal_lost = True
            self.exit()

    async def on_event(self, event: events.Event) -> None:
        # A key or a click, as soon as the terminal sends it: live ingest makes way for it
        # until its effect is drawn (the screen holds drains and the followers for a moment).
        if isinstance(event, PROMPT_INPUT) and isinstance(screen := self.screen, MainScreen):
            if not event.is_forwarded:
                screen.input_arrived(key=isinstance(event, events.Key))
            elif isinstance(event, events.Key):
                # A key back from the focused widget: the app runs its binding now, and
                # once that is drawn, ingest goes on.
                await super().on_event(event)
                screen.input_handled()
                return
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self.full_collections.stop()
        await self.client.aclose()
        release_widget_caches()  # nothing of this app stays behind in the process

    def _fatal_error(self) -> None:
        """A bug: end with one line for the person and the details in a file, not a traceback.

        (Textual's own handler prints the traceback with local variables, which
        is no place for a person, nor for a token.)
        """
        error = self._exception
        if not self.quiet_crashes or error is None:
            super()._fatal_error()
            return
        token = self.settings.token.reveal() if self.settings.token else None
        path = write_crash_log(error, token)
        where = f" (details in {path})" if path else ""
        self.crash_message = redact(
            f"unexpected error: {type(error).__name__}: {error}{where}", token
        )
        self._close_messages_no_wait()


def write_crash_log(error: BaseException, token: str | None) -> Path | None:
    """The traceback, without local variables and with the token removed, in the user's cache."""
    import os
    import traceback

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qoder-tui"
    try:
        base.mkdir(parents=True, exist_ok=True)
        path = base / "crash.log"
        text = "".join(traceback.format_exception(error))
        path.write_text(redact(text, token), encoding="utf-8")
        return path
    except OSError:
        return None
