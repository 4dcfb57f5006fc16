"""The hostile scenario: every string an attack.  The app and `tail` open it and stay whole."""

from __future__ import annotations

import re
import time

from qoder_tui.api.models import AgentMessage, MalformedEvent, ToolUse
from qoder_tui.app import QoderApp
from qoder_tui.commands import GoToProvider, plain_highlight
from qoder_tui.simulator import SimulatorServer

from .conftest import settings_for
from .test_app import SIZE, main_screen, until
from .test_cli import env_for, run

TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _hostile(server: SimulatorServer) -> str:
    return next(iter(server.simulator.world.sessions))


def test_tail_text_and_json_print_nothing_a_terminal_would_obey(make_sim) -> None:
    server = make_sim(scenario="hostile")
    sid = _hostile(server)
    for extra in ((), ("--json",)):
        res = run("tail", sid, "--limit", "100", *extra, env=env_for(server))
        assert res.returncode == 0, res.stderr
        assert not TERMINAL_CONTROL.search(res.stdout), TERMINAL_CONTROL.findall(res.stdout)[:5]
        assert not TERMINAL_CONTROL.search(res.stderr)
        assert len(res.stdout.splitlines()) == len(server.simulator.world.sessions[sid].session_log)
    assert "␛]52;c;" in res.stdout or "\\u001b]52;c;" in res.stdout


async def test_the_app_opens_the_hostile_session_and_stays_whole(make_sim) -> None:
    server = make_sim(scenario="hostile")
    sid = _hostile(server)
    app = QoderApp(settings_for(server), session_id=sid, live=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = main_screen(app)
        log = screen.log_view
        await until(pilot, lambda: log.store is not None and log.store.started)
        store = log.store
        await until(pilot, lambda: len(screen.stores[sid].threads) == 4)
        # The thread the server names but does not have: its 404 (markup and escapes in the
        # message) is a notification, not a crash.
        await until(pilot, lambda: any("[/bold]" in n.message for n in app._notifications))
        assert not any(TERMINAL_CONTROL.search(n.message) for n in app._notifications)
        # The tree shows the title as sent, markup and all, with escapes made visible.
        label = screen.tree_view.session_nodes[sid].label
        assert "[WIP]" in str(label) and "␛]0;pwned␇" in str(label)
        tree_threads = [k for k in screen.tree_view.thread_nodes if k[0] == sid]
        assert len(tree_threads) == 4  # self-parented and a→b→a cycle, each shown once
        assert any(isinstance(e, MalformedEvent) for e in store.events)
        # Unfolding the 10 MB output and the 1 MB message: each drawn within a frame or two.
        big_tool = next(e for e in store.events if isinstance(e, ToolUse))
        big_text = next(
            e for e in store.events if isinstance(e, AgentMessage) and len(e.text) > 500_000
        )
        log.focus()
        for event in (big_tool, big_text):
            assert log.select(event.id)
            await pilot.pause()
            # CPU time of the unfold and the frame that draws it (wall time would also
            # count whatever else this shared machine runs meanwhile).
            started = time.process_time()
            log.action_toggle_fold()
            log.render_lines(log.scrollable_content_region.reset_offset)
            took = time.process_time() - started
            assert took < 0.3, f"unfolding {event.type} took {took:.2f}s of CPU (was 8.7 s)"
            await pilot.pause()
            index = store.index_of(event.id)
            assert index is not None and log.heights[index] > 10_000
        height = log.scrollable_content_region.height
        for y in range(height):
            assert not TERMINAL_CONTROL.search(log.render_line(y).text)
        # The palette: titles as typed, never read as markup.
        hits = [
            plain_highlight(GoToProvider(screen).matcher("wip"), name)
            for name, _, _ in GoToProvider(screen)._entries()
        ]
        assert any("[WIP]" in hit.plain for hit in hits)
        await pilot.press("ctrl+p")
        for key in "zzzqqq":
            await pilot.press(key)
        await pilot.press("pagedown", "pageup", "escape")
        assert app.return_code is None  # still running: nothing crashed it
