"""Apps in a fixed state, for snapshot tests and for `make screenshots`.

The simulator runs with a fixed seed, a fixed start time and no live session;
the app's clock is fixed too, so every run draws the same screen.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from qoder_tui.api.models import ThreadMessage, ToolUse
from qoder_tui.app import QoderApp
from qoder_tui.screens.main import MainScreen
from qoder_tui.simulator import SimulatorServer

from .conftest import FIXED_START, settings_for

SIZE = (130, 38)


def fixed_clock():
    return FIXED_START


def make_app(server: SimulatorServer, **kw: object) -> QoderApp:
    return QoderApp(
        settings_for(server),
        clock=fixed_clock,
        live=False,
        server_label="embedded simulator",
        frame_budget=None,  # every visible event drawn in the frame that is captured
        **kw,  # type: ignore[arg-type]
    )


def session_id(server: SimulatorServer, part: str) -> str:
    return next(s.id for s in server.simulator.world.sessions.values() if part in s.obj["title"])


async def settle(pilot: Pilot, condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Until `condition` holds on three checks in a row (a page fetched after the first
    paint, e.g. older events, would otherwise land before or after the capture)."""
    deadline = time.monotonic() + timeout
    held = 0
    while held < 3:
        if time.monotonic() > deadline:
            raise AssertionError("the app did not reach the expected state")
        held = held + 1 if condition() else 0
        await pilot.pause(0.02)
    await pilot.pause()


def listed(screen: MainScreen) -> bool:
    """Every session is in the tree with the state its newest events gave it."""
    controller = screen.controller
    return (
        screen.is_mounted
        and len(screen.tree_view.session_nodes) == 5
        and not controller.probing
        and not controller.counting
        and len(controller.hints) == 5
    )


def screen_of(pilot: Pilot) -> MainScreen:
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def loaded(pilot: Pilot) -> MainScreen:
    def ready() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, MainScreen) or not screen.is_mounted:
            return False  # (the app's first screen, made before its widgets are)
        store = screen.log_view.store
        return (
            store is not None
            and store.started
            and not screen.fetching
            and len(screen.tree_view.session_nodes) == 5
            and listed(screen)
        )

    await settle(pilot, ready)
    return screen_of(pilot)


def main_screen_before() -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        await loaded(pilot)

    return run


def merged_before() -> Callable[[Pilot], Awaitable[None]]:
    """The session with every thread merged (m), settled at its newest events."""

    async def run(pilot: Pilot) -> None:
        screen = await loaded(pilot)
        await pilot.press("m")
        await settle(
            pilot,
            lambda: (
                screen.current is not None
                and screen.current[1] == "*"
                and screen.log_view.store is not None
                and screen.log_view.store.started
                and not screen.fetching
            ),
        )

    return run


def tool_block_before(*, unfold: bool) -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        screen = await loaded(pilot)
        log = screen.log_view
        store = log.store
        assert store is not None
        tool = next(
            e
            for e in reversed(store.events)
            if isinstance(e, ToolUse)
            and (r := store.result_for(e)) is not None
            and r.text.count("\n") >= 8
        )
        log.focus()
        log.select(tool.id, center=True)
        if unfold:
            await pilot.press("space")
        # Selecting may bring the top near enough to page in older events: wait them out.
        await settle(pilot, lambda: not screen.fetching and log.cursor_id == tool.id)

    return run


def help_before() -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        await settle(pilot, lambda: listed(screen_of(pilot)))
        await pilot.press("question_mark")
        await settle(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")

    return run


def handoff_before() -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        screen = await loaded(pilot)
        log = screen.log_view
        store = log.store
        assert store is not None
        sent = next(
            e
            for e in reversed(store.events)
            if isinstance(e, ThreadMessage) and e.direction == "sent"
        )
        log.focus()
        log.select(sent.id)
        await pilot.press("enter")
        await settle(
            pilot,
            lambda: (
                log.store is not None
                and log.store.thread_id == sent.to_thread_id
                and isinstance(log.selected, ThreadMessage)
                and not screen.fetching
            ),
        )

    return run


def raw_before() -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        screen = await loaded(pilot)
        log = screen.log_view
        log.focus()
        await pilot.press("up", "up", "r")
        await settle(pilot, lambda: type(pilot.app.screen).__name__ == "RawJsonScreen")

    return run


def diagnosis_before() -> Callable[[Pilot], Awaitable[None]]:
    """The waiting session, found with `a`, explained with `d`."""

    async def run(pilot: Pilot) -> None:
        await settle(pilot, lambda: listed(screen_of(pilot)))
        screen = screen_of(pilot)
        await settle(pilot, lambda: screen.controller.attention() != [])
        await pilot.press("a")
        await settle(
            pilot,
            lambda: (
                screen.log_view.store is not None
                and screen.log_view.store.started
                and screen.query_one("#stuck").display
            ),  # the reason it shows by itself
        )
        await pilot.press("d")
        await settle(pilot, lambda: type(pilot.app.screen).__name__ == "DiagnosisScreen")

    return run


def ledger_before() -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("h")
        await settle(pilot, lambda: type(pilot.app.screen).__name__ == "LedgerScreen")

    return run
