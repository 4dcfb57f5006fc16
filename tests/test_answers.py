"""Answers: sessions' real state before opening, why a session is stuck, the handoff ledger."""

from __future__ import annotations

import json
from itertools import pairwise

from qoder_tui.api.models import parse_event
from qoder_tui.app import QoderApp
from qoder_tui.attention import diagnose, session_hint
from qoder_tui.controller import Alert
from qoder_tui.screens.answers import DiagnosisScreen, LedgerScreen
from qoder_tui.store import SessionStore

from .conftest import FIXED_START, client_for, settings_for
from .test_app import SIZE, main_screen, until
from .test_controller import Harness


def _busiest_child(server, session_id: str):  # type: ignore[no-untyped-def]
    """The child thread with the most events: children run the tools, so this one fails most."""
    session = server.simulator.world.sessions[session_id]
    session.ensure_built()
    return max(
        (t for t in session.threads.values() if t.id != session.primary_id),
        key=lambda t: len(t.log),
    )


def _title(server, part: str) -> str:
    return next(s.id for s in server.simulator.world.sessions.values() if part in s.obj["title"])


HANDOFFS = ("agent.thread_message_sent", "agent.thread_message_received")


def _handoff_ids(log) -> list[str]:  # type: ignore[no-untyped-def]
    """A simulated thread's handoffs (sent and received), oldest first."""
    return [log.get(i)["id"] for i in range(len(log)) if log.get(i)["type"] in HANDOFFS]


async def _scroll_to_start(pilot, store) -> None:  # type: ignore[no-untyped-def]
    """The reader goes up (home) until the view holds its thread's first event."""
    while store.has_older:
        loaded = len(store)
        await pilot.press("home")
        await until(pilot, lambda n=loaded: len(store) > n or not store.has_older, timeout=30)


def _shown(view) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The events that take a place in the log (with a filter: those that match)."""
    return [e for e, h in zip(view.store.events, view.heights, strict=True) if h]


async def _opened(pilot, app):  # type: ignore[no-untyped-def]
    """The main screen and its log, once the view the app opened with is loaded."""
    screen = main_screen(app)
    view = screen.log_view
    await until(pilot, lambda: view.store is not None and view.store.started)
    return screen, view


async def test_each_sessions_state_is_known_before_it_is_opened(demo_sim) -> None:
    expected = {"Release 2.8.0": "waiting", "Summarise": "errored", "Rotate": "terminated"}
    async with client_for(demo_sim) as client:
        for part, status in expected.items():
            sid = _title(demo_sim, part)
            page = await client.newest_events(sid, limit=20)
            hint = session_hint(page.data, "idle")
            assert hint.status == status, part
            log = demo_sim.simulator.world.sessions[sid].session_log
            assert hint.last_event_at == page.data[-1].time
            assert page.data[-1].id == log.get(len(log) - 1)["id"]


async def test_diagnosis_names_the_approval_the_session_waits_on(demo_sim) -> None:
    sid = _title(demo_sim, "Release 2.8.0")
    async with client_for(demo_sim) as client:
        session = await client.get_session(sid)
        store = SessionStore(session)
        store.set_threads(await client.all_threads(sid))
        primary = store.primary
        assert primary is not None
        threads = {
            info.id: (info.name, (await client.newest_events(sid, info.id)).data)
            for info in store.threads.values()
        }
    status = {t.id: t.status for t in store.threads.values()}
    findings = diagnose(threads, primary=primary.id, now=FIXED_START, status=status)
    deployer = next(f for f in findings if f.thread == "Deployer")
    assert "waiting for approval" in deployer.cause and "./deploy.sh" in deployer.cause
    assert deployer.since is not None and deployer.severity == "warning"
    # The coordinator waits on the same call, named, not as an id.
    coordinator = next(f for f in findings if f.thread_id == primary.id)
    assert "./deploy.sh" in coordinator.cause


async def test_diagnosis_gives_an_errors_retry_history(demo_sim) -> None:
    sid = _title(demo_sim, "Summarise")
    async with client_for(demo_sim) as client:
        session = await client.get_session(sid)
        store = SessionStore(session)
        store.set_threads(await client.all_threads(sid))
        primary = store.primary
        assert primary is not None
        events = (await client.newest_events(sid, primary.id)).data
    errors = [e for e in events if e.type == "session.error"]
    assert len(errors) == 3
    findings = diagnose(
        {primary.id: (primary.name, events)}, primary=primary.id, now=FIXED_START, status={}
    )
    cause = next(f for f in findings if f.severity == "error").cause
    waits = [(b.time - a.time).total_seconds() for a, b in pairwise(errors)]
    assert "model_overloaded_error" in cause and "attempt 3 of 3 (exhausted)" in cause
    assert "waits " + ", ".join(f"{w:.0f}s" for w in waits) in cause
    assert f"request {errors[-1].raw['error']['request_id']}" in cause


async def test_the_ledger_matches_the_simulators_own_timeline(demo_sim) -> None:
    sid = _title(demo_sim, "pydantic")
    h = Harness(demo_sim, live=False)
    h.controller.load_session(sid, (sid, None))
    await h.until(lambda: sid in h.controller.stores)
    h.controller.handoffs(sid)
    from qoder_tui.controller import LedgerReady

    await h.until(lambda: h.of(LedgerReady))
    rows = h.of(LedgerReady)[0].rows
    log = [e for e in demo_sim.simulator.world.sessions[sid].session_log]
    sent = [e for e in log if e["type"] == "agent.thread_message_sent"]
    assert [r.sent_id for r in rows] == [e["id"] for e in sent]
    for row, event in zip(rows, sent, strict=True):
        child = event["to_session_thread_id"]
        after = log[log.index(event) :]
        running = next(
            e
            for e in after
            if e["type"] == "session.thread_status_running" and e.get("session_thread_id") == child
        )
        reply = next(
            e
            for e in after
            if e["type"] == "agent.thread_message_received"
            and e.get("from_session_thread_id") == child
        )
        assert row.picked_up_at == parse_event(running).time
        assert row.answered_at == parse_event(reply).time
        assert row.reply_id == reply["id"]
        assert row.total == (parse_event(reply).time - parse_event(event).time).total_seconds()
        assert row.reply and row.task and row.usage.total_tokens > 0
    await h.close()


async def test_a_thread_that_starts_waiting_raises_an_alert(demo_sim) -> None:
    sid = _title(demo_sim, "pydantic")
    h = Harness(demo_sim, live=False)
    h.controller.load_session(sid, (sid, None))
    await h.until(lambda: sid in h.controller.stores)
    store = h.controller.stores[sid]
    child = next(t for t in store.threads.values() if not t.thread.is_primary)
    waiting = parse_event(
        json.dumps(
            {
                "id": "evt_wait",
                "type": "session.thread_status_idle",
                "session_thread_id": child.id,
                "processed_at": "2026-11-20T09:40:00Z",
                "stop_reason": {"type": "requires_action", "event_ids": ["evt_x"]},
            }
        )
    )
    running = parse_event(
        {
            "id": "evt_run",
            "type": "session.thread_status_running",
            "session_thread_id": child.id,
            "processed_at": "2026-11-20T09:39:00Z",
        }
    )
    h.controller._observe(store, [waiting])  # a page loaded: history, not news
    assert not h.of(Alert) and child.status == "waiting"
    h.controller._observe(store, [running], alert=True)
    h.controller._observe(store, [waiting], alert=True)  # live: it starts waiting now
    alerts = h.of(Alert)
    assert (
        alerts and alerts[0].scope == (sid, child.id) and "waiting for approval" in alerts[0].text
    )
    h.controller._observe(store, [waiting], alert=True)  # already waiting: no second alert
    assert len(h.of(Alert)) == 1
    await h.close()


async def test_three_keys_find_the_stuck_session_and_say_why(demo_sim) -> None:
    app = QoderApp(settings_for(demo_sim), clock=lambda: FIXED_START, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        stuck = _title(demo_sim, "Release 2.8.0")
        await until(
            pilot,
            lambda: (
                stuck in screen.sessions
                and screen.controller.status_of(screen.sessions[stuck]) == "waiting"
            ),
        )
        await pilot.press("a")  # 1: the next thing that needs me
        await until(pilot, lambda: screen.current == (stuck, None))
        await pilot.press("d")  # 2: why
        await until(pilot, lambda: isinstance(app.screen, DiagnosisScreen))
        diagnosis = app.screen
        assert isinstance(diagnosis, DiagnosisScreen)
        first = diagnosis.findings[0]
        assert "waiting for approval" in first.cause and "./deploy.sh" in first.cause
        await pilot.press("enter")  # 3: show it
        await until(pilot, lambda: screen.log_view.selected is not None)
        assert screen.current == (stuck, first.thread_id)
        assert screen.log_view.selected.id == first.event_id


async def test_the_ledger_opens_with_h_and_enter_shows_the_handoff(demo_sim) -> None:
    sid = _title(demo_sim, "pydantic")
    app = QoderApp(settings_for(demo_sim), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(
            pilot, lambda: screen.log_view.store is not None and screen.log_view.store.started
        )
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, LedgerScreen))
        ledger = app.screen
        assert isinstance(ledger, LedgerScreen) and len(ledger.rows) > 10
        from textual.widgets import DataTable

        def table_filled() -> bool:
            tables = ledger.query(DataTable)  # a fresh query each time: it is composed later
            return bool(tables) and tables.first().row_count == len(ledger.rows)

        await until(pilot, table_filled)
        table = ledger.query_one(DataTable)
        # Every column shows (the task and the reply share what the others leave): nothing
        # to scroll sideways to.
        await until(pilot, lambda: table.size.width > 0 and table.max_scroll_x == 0)
        header = "".join(str(c.label) for c in table.columns.values())
        assert "credits" in header and "state" in header
        table.move_cursor(row=len(ledger.rows) - 1)  # the newest handoff
        await until(pilot, lambda: table.cursor_row == len(ledger.rows) - 1)
        await pilot.press("enter")
        target = ledger.rows[-1].sent_id
        await until(pilot, lambda: screen.log_view.selected is not None)
        assert screen.log_view.selected.id == target
        assert screen.current == (sid, None)


async def test_search_finds_text_that_is_only_in_older_history(demo_sim) -> None:
    import re
    from collections import Counter

    from qoder_tui.render.summary import search_text

    sid = _title(demo_sim, "pydantic")
    demo_sim.simulator.world.sessions[sid].ensure_built()
    log = demo_sim.simulator.world.sessions[sid].session_log
    texts = [search_text(parse_event(dict(e))) for e in log.items]
    words = Counter(w for t in texts for w in set(re.findall(r"[a-z0-9_]{6,}", t)))
    # A word that only one old event has: 19,000 events back from the newest page.
    index, needle = next(
        (i, w)
        for i, t in enumerate(texts[:1000])
        for w in re.findall(r"[a-z0-9_]{6,}", t)
        if words[w] == 1
    )
    target = log.items[index]
    app = QoderApp(settings_for(demo_sim), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        _, view = await _opened(pilot, app)
        store = view.store
        assert target["id"] not in store
        view.focus()
        await pilot.press("slash", *needle, "enter")
        await until(pilot, lambda: view.selected is not None, timeout=120)
        shown = view.selected
        assert shown.id == target["id"] or (
            target["type"] == "agent.tool_result" and store.result_for(shown).id == target["id"]
        )
        assert len(store) > 19_000  # history was paged back to reach it
        # It is marked on screen.
        height = view.scrollable_content_region.height
        marks = [
            seg.text
            for y in range(height)
            for seg in view.render_line(y)
            if seg.style is not None and seg.style.reverse and seg.style.bold
        ]
        assert any(needle in m.casefold() for m in marks), marks


async def test_filter_is_error_narrows_the_long_session_to_its_failures(demo_sim) -> None:
    from qoder_tui.api.models import SessionError, ToolUse

    sid = _title(demo_sim, "pydantic")
    child = _busiest_child(demo_sim, sid)
    app = QoderApp(settings_for(demo_sim), session_id=sid, thread_id=child.id, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, view = await _opened(pilot, app)
        await pilot.press("f", *"is:error", "enter")
        # Too few failures in the newest page to fill the view: older pages load by themselves.
        await until(pilot, lambda: view.shown_count >= 5, timeout=60)
        store = view.store
        shown = _shown(view)
        for event in shown:
            assert isinstance(event, (ToolUse, SessionError)), event.type
            if isinstance(event, ToolUse):
                assert store.result_for(event).is_error
        bar = screen.status.render_info().plain
        assert f"filter is:error · {view.shown_count:,} of" in bar
        # An empty filter shows everything again.
        await pilot.press("f")
        screen.query_one("#filter").value = ""
        await pilot.press("enter")
        assert view.filter is None and view.shown_count > len(shown)


async def test_a_filter_on_types_pages_history_by_type_and_clearing_it_restores_the_log(
    demo_sim,
) -> None:
    sid = _title(demo_sim, "pydantic")
    child = _busiest_child(demo_sim, sid)
    log = child.log
    wanted = set(HANDOFFS)
    handoffs = _handoff_ids(log)
    app = QoderApp(settings_for(demo_sim), session_id=sid, thread_id=child.id, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, view = await _opened(pilot, app)
        await pilot.press("f", *"is:handoff", "enter")
        # The thread's handoffs are spread over thousands of events: asked of the server by
        # type, every one of them is found in a few pages, not by loading the whole thread.
        store = view.store
        await until(pilot, lambda: store.sparse > 0, timeout=30)
        await _scroll_to_start(pilot, store)  # each time, the next page by type
        shown = [e.id for e in _shown(view)]
        assert shown == handoffs
        assert store.sparse > 0
        assert {e.type for e in store.events[: store.sparse]} <= wanted
        assert store.sparse <= len(handoffs) and len(store) < len(log) // 2
        # Without the filter, what was paged in by type goes: the log is whole again, and
        # what is older than its newest page pages in as before.
        await pilot.press("f")
        screen.query_one("#filter").value = ""
        await pilot.press("enter")
        store = view.store
        assert view.filter is None and store.sparse == 0 and store.has_older
        ids = [e.id for e in store.events]
        start = log.index_of(ids[0])
        assert ids == [log.get(i)["id"] for i in range(start, start + len(ids))]
        shown = _shown(view)
        assert any(e.type not in wanted for e in shown)


def test_filter_terms_combine_and_bad_ones_say_why() -> None:
    import pytest

    from qoder_tui.filters import FilterError, parse_filter
    from qoder_tui.store import EventStore

    store = EventStore("s")
    use = parse_event(
        {"id": "u", "type": "agent.tool_use", "name": "Bash", "input": {"command": "make test"}}
    )
    result = parse_event(
        {
            "id": "r",
            "type": "agent.tool_result",
            "tool_use_id": "u",
            "content": "boom",
            "is_error": True,
        }
    )
    other = parse_event({"id": "m", "type": "agent.message", "content": "all good"})
    store.start([use, result, other], has_older=False)
    name = lambda _tid: "Code Fixer"  # noqa: E731
    f = parse_filter('is:error tool:bash thread:"code fixer"')
    assert f is not None and f.matches(use, store, name) and not f.matches(other, store, name)
    g = parse_filter("-is:tool good")
    assert g is not None and g.matches(other, store, name) and not g.matches(use, store, name)
    assert parse_filter("  ") is None
    # What the server's type filter can be asked for: the types every match must have.
    assert f.types == {
        "agent.tool_use",
        "agent.mcp_tool_use",
        "agent.custom_tool_use",
        "agent.tool_result",
        "agent.mcp_tool_result",
        "user.custom_tool_result",
        "user.tool_result",
    }
    assert g.types is None  # a negated term and free text narrow nothing by type
    assert parse_filter("type:agent.message").types == {"agent.message"}  # type: ignore[union-attr]
    assert parse_filter("type:agent.mess").types is None  # type: ignore[union-attr]
    assert parse_filter("is:handoff is:slow").types == set()  # type: ignore[union-attr]
    with pytest.raises(FilterError, match="is:nope"):
        parse_filter("is:nope")


async def test_e_walks_back_through_failures_paging_history(demo_sim) -> None:
    from qoder_tui.filters import is_error

    sid = _title(demo_sim, "pydantic")
    child = _busiest_child(demo_sim, sid)
    app = QoderApp(settings_for(demo_sim), session_id=sid, thread_id=child.id, live=False)
    async with app.run_test(size=SIZE) as pilot:
        _, view = await _opened(pilot, app)
        view.focus()
        seen: list[str] = []
        for _ in range(3):
            before = view.cursor_id
            await pilot.press("e")
            await until(
                pilot, lambda before=before: view.cursor_id not in (None, before), timeout=60
            )
            event = view.selected
            assert is_error(event, view.store, view.agent_name), event.type
            seen.append(event.id)
        order = [view.store.index_of(i) for i in seen]
        assert order == sorted(order, reverse=True)  # each one older than the last
        await pilot.press("E")
        await until(pilot, lambda: view.cursor_id == seen[1])


async def test_a_session_that_needs_attention_says_why_above_the_log(demo_sim) -> None:
    from textual.widgets import Static

    stuck = _title(demo_sim, "Release 2.8.0")
    fine = _title(demo_sim, "pydantic")
    app = QoderApp(settings_for(demo_sim), clock=lambda: FIXED_START, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        strip = screen.query_one("#stuck", Static)
        await until(
            pilot,
            lambda: (
                stuck in screen.sessions
                and screen.controller.status_of(screen.sessions[stuck]) == "waiting"
            ),
        )
        screen.open_scope((stuck, None))
        await until(pilot, lambda: strip.display, what="the reason, unasked")
        text = str(strip.content)
        assert "Deployer" in text and "waiting for approval" in text and "./deploy.sh" in text
        screen.open_scope((fine, None))
        await until(pilot, lambda: not strip.display)


def test_a_turn_is_timed_from_its_user_message_to_its_idle(demo_sim) -> None:
    from qoder_tui.api.models import UserMessage
    from qoder_tui.render.events import turn_summary
    from qoder_tui.store import EventStore

    sid = _title(demo_sim, "pydantic")
    session = demo_sim.simulator.world.sessions[sid]
    session.ensure_built()
    raw = list(session.session_log.items)[:3000]
    store = EventStore(sid)
    store.start([parse_event(dict(e)) for e in raw], has_older=False)
    message = next(e for e in store.events if isinstance(e, UserMessage))
    turn = store.turn_stats(message)
    assert turn is not None and turn.ended
    start = raw.index(next(e for e in raw if e["id"] == message.id))
    idle = next(e for e in raw[start:] if e["type"] == "session.status_idle")
    spans = {e["id"]: e for e in raw[start:] if e["type"] == "span.model_request_start"}
    ends = [
        e
        for e in raw[start : raw.index(idle)]
        if e["type"] == "span.model_request_end" and e.get("model_request_start_id") in spans
    ]
    model = sum(
        (
            parse_event(dict(e)).time - parse_event(dict(spans[e["model_request_start_id"]])).time
        ).total_seconds()
        for e in ends
    )
    assert turn.duration == (parse_event(dict(idle)).time - message.time).total_seconds()
    assert abs(turn.model - model) < 1e-6 and turn.model > 0 and turn.tools > 0
    assert turn.tokens > 0 and turn.credits is not None
    assert turn_summary(turn).startswith("turn ") and " tok" in turn_summary(turn)
    # In the merged view, the children's events around it are not the coordinator's turn:
    # the same turn, timed the same, and its calls are not settled by a child going idle.
    from qoder_tui.store import ALL_THREADS

    last = parse_event(dict(raw[-1])).time
    events = {e.id: e for e in store.events}
    for thread in session.threads.values():
        if thread.id == session.primary_id:
            continue
        for item in thread.log.items:
            event = parse_event(dict(item))
            if event.time is not None and event.time <= last and event.id not in events:
                event.thread_id = thread.id
                events[event.id] = event
    merged = EventStore(sid, ALL_THREADS)
    merged.start(sorted(events.values(), key=lambda e: e.time), has_older=False)
    assert len(merged) > len(store)
    assert merged.turn_stats(message) == turn


async def test_merged_view_finds_the_childrens_failures_from_the_session(demo_sim) -> None:
    """m merges every thread: is:error and e on the whole session reach the children's calls."""
    from qoder_tui.api.models import ModelRequestEnd, ToolUse
    from qoder_tui.filters import SLOW_MODEL_SECONDS
    from qoder_tui.store import ALL_THREADS

    sid = _title(demo_sim, "pydantic")
    sim_session = demo_sim.simulator.world.sessions[sid]
    sim_session.ensure_built()
    app = QoderApp(settings_for(demo_sim), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, view = await _opened(pilot, app)
        await pilot.press("m")
        await until(pilot, lambda: screen.current == (sid, ALL_THREADS))
        await until(pilot, lambda: view.store is not None and view.store.started, what="merged")
        merged = view.store
        children = {t.id for t in sim_session.threads.values() if t.id != sim_session.primary_id}
        assert {e.thread_id for e in merged.events} & children  # the children's own events
        times = [e.time for e in merged.events]
        assert times == sorted(times)  # one time line
        # Scrolling up pages every thread back together, still in order, each event once.
        for _ in range(3):
            before = len(merged)
            view.action_top()
            await until(pilot, lambda n=before: len(merged) > n, timeout=30, what="older, merged")
        ids = [e.id for e in merged.events]
        assert len(ids) == len(set(ids))
        times = [e.time for e in merged.events]
        assert times == sorted(times)
        # e from the newest event: the newest failing call of any child.
        view.action_follow()
        await pilot.press("e")
        await until(pilot, lambda: view.selected is not None, timeout=30, what="a failure")
        failed = view.selected
        assert isinstance(failed, ToolUse) and failed.thread_id in children
        assert merged.result_for(failed).is_error
        # s: the newest slow model request, whichever thread made it.
        view.action_follow()
        await until(pilot, lambda: view.selected is None)
        await pilot.press("s")
        await until(pilot, lambda: view.selected is not None, timeout=30, what="a slow request")
        slow = view.selected
        assert isinstance(slow, ModelRequestEnd)
        started = merged.span_start_time(slow)
        assert started is not None and (slow.time - started).total_seconds() >= SLOW_MODEL_SECONDS
        # is:error narrows the merged view to failures, each a child's.
        await pilot.press("f", *"is:error", "enter")
        await until(pilot, lambda: view.shown_count >= 1)
        shown = _shown(view)
        assert shown and all(e.thread_id in children for e in shown if isinstance(e, ToolUse))
        # Each thread's row counts the failed calls seen so far.
        from qoder_tui.api.models import ToolResult

        store = screen.stores[sid]
        for child_id in children:
            loaded = store.scopes.get(child_id)
            failed = sum(
                1
                for e in (loaded.events if loaded else [])
                if isinstance(e, ToolResult) and e.is_error
            )
            assert len(store.threads[child_id].failed_calls) >= failed
            if failed:
                await until(
                    pilot,
                    lambda c=child_id: (
                        f"{len(store.threads[c].failed_calls)} failed"
                        in str(screen.tree_view.thread_nodes[(sid, c)].label)
                    ),
                    what="failed count",
                )
        assert any(store.threads[c].failed_calls for c in children)
        # m again: back to the session's own stream.
        await pilot.press("escape", "m")
        await until(pilot, lambda: screen.current == (sid, None))


async def test_thread_rows_count_every_failed_call_not_only_those_loaded(demo_sim) -> None:
    from qoder_tui.api.models import ToolResult

    sid = _title(demo_sim, "pydantic")
    sim_session = demo_sim.simulator.world.sessions[sid]
    sim_session.ensure_built()
    truth = {
        t.id: sum(
            1
            for i in range(len(t.log))
            if t.log.get(i)["type"] in ("agent.tool_result", "agent.mcp_tool_result")
            and t.log.get(i).get("is_error") is True
        )
        for t in sim_session.threads.values()
        if t.id != sim_session.primary_id
    }
    app = QoderApp(settings_for(demo_sim), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(pilot, lambda: sid in screen.stores)
        store = screen.stores[sid]
        await until(
            pilot,
            lambda: all(store.threads[c].failures_counted for c in truth),
            timeout=60,
            what="every child's history read",
        )
        for child_id, failed in truth.items():
            assert len(store.threads[child_id].failed_calls) == failed
            label = str(screen.tree_view.thread_nodes[(sid, child_id)].label)
            assert (f"· {failed} failed" in label) == bool(failed), label
        # Not one child's events were loaded: the counts come from its whole history.
        assert not any(
            isinstance(e, ToolResult)
            for c in truth
            for e in (store.scopes[c].events if c in store.scopes else [])
        )
        assert sum(truth.values()) > 0


async def test_jumps_by_meaning_find_the_waiting_call_and_a_handoff(demo_sim) -> None:
    """w and o from the newest event, across every thread of the session (m)."""
    from qoder_tui.api.models import StatusChange, ThreadMessage, ToolUse
    from qoder_tui.store import ALL_THREADS, status_word

    sid = _title(demo_sim, "Release 2.8.0")
    app = QoderApp(settings_for(demo_sim), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, view = await _opened(pilot, app)
        await pilot.press("m")
        await until(pilot, lambda: screen.current == (sid, ALL_THREADS) and view.store.started)
        merged = view.store

        async def jump(key: str) -> object:
            view.action_follow()
            await until(pilot, lambda: view.selected is None)
            await pilot.press(key)
            await until(pilot, lambda: view.selected is not None, timeout=30, what=key)
            return view.selected

        # The approval stops (waiting statuses) and the call they wait on, newest first.
        found = await jump("w")
        for _ in range(6):
            if isinstance(found, ToolUse):
                break
            assert isinstance(found, StatusChange) and status_word(found) == "waiting"
            before = found
            await pilot.press("w")
            await until(pilot, lambda b=before: view.selected is not b, timeout=30, what="w")
            found = view.selected
        assert isinstance(found, ToolUse) and merged.result_for(found) is None
        assert found.input.get("command", "").startswith("./deploy.sh")
        assert isinstance(await jump("o"), ThreadMessage)


async def test_session_totals_count_every_thread_not_only_what_is_loaded(demo_sim) -> None:
    sid = _title(demo_sim, "pydantic")
    world = demo_sim.simulator.world.sessions[sid]
    world.ensure_built()
    truth = world.obj["usage"]  # the server's own running totals, over every thread
    app = QoderApp(settings_for(demo_sim), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(
            pilot, lambda: screen.log_view.store is not None and screen.log_view.store.started
        )
        await until(pilot, lambda: screen.status.info.session_usage is not None)
        shown = screen.status.info.session_usage
        assert shown.input_tokens == truth["input_tokens"]
        assert shown.output_tokens == truth["output_tokens"]
        assert screen.status.info.session_credits == truth["total_credits"]
        # Far more than the one loaded page of the session stream reports.
        assert shown.input_tokens > screen.log_view.store.usage.input_tokens * 5


async def test_t_shows_a_thread_from_its_true_start_and_pages_forward_to_live(demo_sim) -> None:
    from qoder_tui.screens.main import FROM_START_NOTE
    from qoder_tui.widgets.log_title import LogTitle

    sid = _title(demo_sim, "pydantic")
    child = _busiest_child(demo_sim, sid)
    first = child.log.items[0]["id"]
    newest = child.log.items[-1]["id"]
    app = QoderApp(settings_for(demo_sim), session_id=sid, thread_id=child.id, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, view = await _opened(pilot, app)
        assert view.store.has_older and first not in view.store
        await pilot.press("t")  # one key, not hundreds of Home presses
        await until(pilot, lambda: view.store.started and first in view.store, what="start")
        store = view.store
        assert store.events[0].id == first and not store.has_older and store.has_newer
        assert "start of thread" in view.render_line(0).text and not view.follow
        title = screen.query_one(LogTitle)
        assert title.note == FROM_START_NOTE  # says how to get back
        # Scrolling down pages forward: in order, each event once.
        for _ in range(3):
            count = len(store)
            view.scroll_end(animate=False, immediate=True)
            await until(pilot, lambda n=count: len(store) > n, timeout=30, what="newer page")
        ids = [e.id for e in store.events]
        server = [e["id"] for e in child.log.items[: len(ids)]]
        assert ids == server
        # Leaving it for the session and coming back: its newest events, not the old window.
        screen.open_scope((sid, None))
        await until(pilot, lambda: screen.log_view.store.started)
        assert not screen.stores[sid].scope(child.id).has_newer
        screen.open_scope((sid, child.id))
        await until(pilot, lambda: view.store.started and newest in view.store, what="newest")
        assert view.follow
        await pilot.press("t")
        await until(pilot, lambda: first in view.store, what="start again")
        store = view.store
        # End: the newest events again.
        await pilot.press("end")
        await until(pilot, lambda: view.store is not store and view.store.started, what="newest")
        assert view.store.events[-1].id == newest and view.follow and not view.store.has_newer
        assert title.note == ""


async def test_t_in_the_merged_view_starts_at_the_sessions_first_event_and_pages_forward(
    demo_sim,
) -> None:
    from qoder_tui.store import ALL_THREADS

    sid = _title(demo_sim, "pydantic")
    sim_session = demo_sim.simulator.world.sessions[sid]
    sim_session.ensure_built()
    children = [t for t in sim_session.threads.values() if t.id != sim_session.primary_id]
    logs = [sim_session.session_log] + [t.log for t in children]
    firsts = sorted((log.get(0)["processed_at"], log.get(0)["id"]) for log in logs if len(log))
    app = QoderApp(settings_for(demo_sim), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, view = await _opened(pilot, app)
        await pilot.press("m")
        await until(pilot, lambda: screen.current == (sid, ALL_THREADS) and view.store.started)
        assert view.store.has_older
        await pilot.press("t")
        await until(pilot, lambda: view.store.started and view.store.has_newer, what="start")
        merged = view.store
        assert merged.events[0].id == firsts[0][1] and not merged.has_older
        assert "start of" in view.render_line(0).text and not view.follow
        # Scrolling down pages forward whichever thread is loaded least far: one time line,
        # each event once, and each thread's events in its own order from its first.
        for _ in range(4):
            count = len(merged)
            view.scroll_end(animate=False, immediate=True)
            await until(pilot, lambda n=count: len(merged) > n, timeout=30, what="newer page")
        times = [e.time for e in merged.events]
        assert times == sorted(times)
        ids = [e.id for e in merged.events]
        assert len(ids) == len(set(ids))
        for thread in children:
            own = [e.id for e in merged.events if e.thread_id == thread.id]
            assert own == [thread.log.get(i)["id"] for i in range(len(own))]
        assert {e.thread_id for e in merged.events} & {t.id for t in children}
        # End: every thread's newest events again.
        await pilot.press("end")
        await until(
            pilot,
            lambda: view.store is not merged and view.store.started and not view.store.has_newer,
            what="newest",
        )
        newest = max(
            (log.get(len(log) - 1)["processed_at"], log.get(len(log) - 1)["id"]) for log in logs
        )
        assert view.store.events[-1].id == newest[1] and view.follow


async def test_a_server_that_refuses_type_filters_still_filters_and_counts(make_sim) -> None:
    """Forward mode answers 400 to `types[]`: the filter then pages every event and picks,
    and the failed-call counts read every event of each thread."""
    server = make_sim(refuse_types=True)
    sid = _title(server, "pydantic")
    child = _busiest_child(server, sid)
    log = child.log
    handoffs = _handoff_ids(log)
    app = QoderApp(settings_for(server), session_id=sid, thread_id=child.id, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, view = await _opened(pilot, app)
        await pilot.press("f", *"is:handoff", "enter")
        store = view.store
        await _scroll_to_start(pilot, store)
        shown = [e.id for e in _shown(view)]
        assert shown == handoffs  # every one, found in whole pages
        assert store.sparse == 0 and len(store) == len(log)
        assert screen.controller.client.types_refused
        info = screen.stores[sid].threads[child.id]
        await until(pilot, lambda: info.failures_counted is not None, timeout=30)
        failed = sum(
            1
            for i in range(len(log))
            if log.get(i)["type"] == "agent.tool_result" and log.get(i).get("is_error") is True
        )
        assert len(info.failed_calls) == failed


async def test_a_ledger_read_only_partly_says_so(make_sim) -> None:
    """Without type filters, the 20,000-event session's handoffs are more than the ledger reads:
    it says its rows are the first ones, not all of them."""
    from qoder_tui.controller import LedgerReady

    for refuse, complete in ((False, True), (True, False)):
        server = make_sim(refuse_types=refuse)
        sid = _title(server, "pydantic")
        h = Harness(server, live=False)
        h.controller.load_session(sid, None)
        await h.until(lambda h=h, sid=sid: sid in h.controller.stores)
        h.controller.handoffs(sid)
        await h.until(lambda h=h: h.of(LedgerReady), timeout=60)
        ledger = h.of(LedgerReady)[0]
        assert ledger.complete is complete and ledger.rows
        await h.close()


async def test_m_t_E_finds_the_sessions_first_failing_call(demo_sim) -> None:
    """Three keys to the first failing tool call of the 20,000-event session: every thread
    merged (m), from its start (t), the next failure forward (E), reading newer pages."""
    from qoder_tui.api.models import ToolUse
    from qoder_tui.store import ALL_THREADS

    sid = _title(demo_sim, "pydantic")
    sim_session = demo_sim.simulator.world.sessions[sid]
    sim_session.ensure_built()
    first_failures = []
    for thread in sim_session.threads.values():
        items = thread.log.items
        failed = {
            e["tool_use_id"] for e in items if e["type"] == "agent.tool_result" and e["is_error"]
        }
        uses = [e for e in items if e["type"] == "agent.tool_use" and e["id"] in failed]
        if uses:
            first_failures.append((uses[0]["processed_at"], uses[0]["id"]))
    expected = min(first_failures)[1]
    app = QoderApp(settings_for(demo_sim), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        screen, view = await _opened(pilot, app)
        await pilot.press("m")
        await until(pilot, lambda: screen.current == (sid, ALL_THREADS) and view.store.started)
        await pilot.press("t")
        await until(pilot, lambda: view.store.started and view.store.has_newer, what="start")
        assert "↓ more" in screen.status.render_info().plain
        await pilot.press("E")
        await until(pilot, lambda: view.selected is not None, timeout=60, what="a failure")
        failed = view.selected
        assert isinstance(failed, ToolUse) and view.store.result_for(failed).is_error
        assert failed.id == expected


async def test_t_on_a_thread_whose_start_is_loaded_shows_it_without_asking_again(
    make_sim,
) -> None:
    """A short session (34 events, all in its newest page): `t` shows its first line at the
    top.  (It fetched the first page again, found the thread caught up, and followed it at
    its end: nothing moved.)"""
    server = make_sim()  # (its own: the requests it saw are read)
    sid = _title(server, "Summarise")
    app = QoderApp(settings_for(server), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        _, view = await _opened(pilot, app)
        assert not view.store.has_older and view.follow and view.scroll_y > 0
        asked = len(server.simulator.recent_requests)
        await pilot.press("t")
        await until(pilot, lambda: view.scroll_y == 0, what="the top")
        assert "start of session" in view.render_line(0).text and not view.follow
        fresh = list(server.simulator.recent_requests)[asked:]
        start = f"/api/v1/cloud/sessions/{sid}/events?limit=100&order=asc"
        assert start not in fresh, fresh


async def test_keys_that_move_the_view_work_before_textual_lays_a_new_view_out(make_sim) -> None:
    """A key pressed right after a view is shown, before Textual has laid the log out with its
    new height (no scrollbar yet): Textual's `scroll_to` did nothing then, and `t` on a short
    thread (the start loaded: only `home`'s move) left the view at its end."""
    server = make_sim()
    sid = _title(server, "Summarise")
    app = QoderApp(settings_for(server), session_id=sid, live=False)
    async with app.run_test(size=SIZE) as pilot:
        _, view = await _opened(pilot, app)
        store = view.store
        view.show(None, label_agents=True)
        await pilot.pause()  # laid out empty: no scrollbar
        view.show(store, label_agents=True)  # at its end: no layout since
        end = view.scroll_y
        assert end > 0 and view.follow
        step = view.scrollable_content_region.height - 2
        view.action_page(-1)
        assert view.scroll_y == max(0, end - step) < end and not view.follow
        view.show(store, label_agents=True)
        view.action_top()
        assert view.scroll_y == 0 and not view.follow
        await pilot.pause()
        assert view.scroll_y == 0 and not view.follow
        assert "start of session" in view.render_line(0).text
        view.action_page(1)  # (the reader's own move: reaching the end follows again)
        assert view.scroll_y == min(step, view.max_scroll_y) > 0
        assert view.follow == (view.scroll_y == view.max_scroll_y)
