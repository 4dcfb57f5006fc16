"""Session control without Textual: against the simulator over loopback, no widgets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from qoder_tui.api.models import Event, parse_event
from qoder_tui.controller import (
    POSTED,
    Deferred,
    Failed,
    SessionController,
    SessionReady,
    SessionsListed,
    ViewChanged,
)
from qoder_tui.simulator import SimulatorServer
from qoder_tui.store import EventStore, SessionStore

from .conftest import client_for


class Harness:
    """Plays the screen's part: runs what tasks hand over, records every other notice."""

    def __init__(self, server: SimulatorServer, **kw: object) -> None:
        self.client = client_for(server)
        self.notices: list[object] = []
        self.queue: list[object] = []
        self.controller = SessionController(self.client, self._emit, **kw)  # type: ignore[arg-type]

    def _emit(self, notice: object) -> None:
        (self.queue if isinstance(notice, POSTED) else self.notices).append(notice)

    async def until(self, condition: Callable[[], object], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            while self.queue:
                notice = self.queue.pop(0)
                if isinstance(notice, Deferred):
                    notice.run()
                else:
                    self.notices.append(notice)
            if condition():
                return
            assert time.monotonic() < deadline, f"timed out waiting for {condition}"
            await asyncio.sleep(0.005)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [n for n in self.notices if isinstance(n, kind)]

    async def open_followed(self, scope: tuple[str, str | None]) -> EventStore:
        """Load the session, open `scope` and wait until its page is in and it has a follower."""
        self.controller.load_session(scope[0], scope)
        await self.until(lambda: self.of(SessionReady))
        view = self.controller.open(scope)
        assert view is not None
        await self.until(lambda: view.started and scope in self.controller.followers)
        return view

    async def close(self) -> None:
        await self.controller.aclose()
        await self.client.aclose()


def _title(server: SimulatorServer, part: str) -> str:
    return next(s.id for s in server.simulator.world.sessions.values() if part in s.obj["title"])


async def test_a_session_is_loaded_once_however_often_it_is_asked_for(demo_sim) -> None:
    h = Harness(demo_sim)
    sid = _title(demo_sim, "Summarise")
    path = f"/api/v1/cloud/sessions/{sid}"
    before = demo_sim.simulator.path_counts.get(path, 0)
    for _ in range(5):
        h.controller.load_session(sid, (sid, None))
    await h.until(lambda: h.of(SessionReady))
    await h.until(lambda: not h.controller._tasks)
    assert demo_sim.simulator.path_counts.get(path, 0) - before == 1
    assert [n.open_scope for n in h.of(SessionReady)] == [(sid, None)]
    await h.close()


async def test_what_tasks_finished_is_applied_once_by_whichever_asks_first(demo_sim) -> None:
    h = Harness(demo_sim)
    sid = _title(demo_sim, "Summarise")
    h.controller.load_session(sid, (sid, None))
    deadline = time.monotonic() + 20
    while not h.queue:  # the load finished: its notice waits for the UI's turn
        assert time.monotonic() < deadline, "the session never loaded"
        await asyncio.sleep(0.005)
    assert not h.of(SessionReady) and sid not in h.controller.stores
    # The screen, as it mounts, applies it before its notice comes round ...
    h.controller.run_finished()
    assert [n.open_scope for n in h.of(SessionReady)] == [(sid, None)]
    assert sid in h.controller.stores
    # ... and the notice, when it does, applies nothing a second time.
    await h.until(lambda: not h.queue)
    assert len(h.of(SessionReady)) == 1
    await h.close()


async def _a_session_knowing_no_threads(
    demo_sim: SimulatorServer,
) -> tuple[Harness, str, str, SessionStore]:
    """A harness whose controller holds the release session with no thread known yet: the
    harness, the session's id, one of its children's ids and the session's store."""
    h = Harness(demo_sim)
    sid = _title(demo_sim, "Release 2.8.0")
    session = await h.client.get_session(sid)  # builds the session and its threads
    sim_session = demo_sim.simulator.world.sessions[sid]
    child = next(t for t in sim_session.threads if t != sim_session.primary_id)
    store = h.controller.stores[sid] = SessionStore(session)  # knows no threads yet
    return h, sid, child, store


async def test_an_unknown_thread_is_fetched_once_however_many_events_name_it(demo_sim) -> None:
    h, sid, child, store = await _a_session_knowing_no_threads(demo_sim)
    named = [Event(id=f"x{i}", type="agent.message", thread_id=child) for i in range(30)]
    for _ in range(3):
        h.controller._observe(store, named)
    await h.until(lambda: child in store.threads)
    await h.until(lambda: not h.controller._tasks)
    assert (
        demo_sim.simulator.path_counts.get(f"/api/v1/cloud/sessions/{sid}/threads/{child}", 0) == 1
    )
    await h.close()


async def test_a_failure_for_a_scope_left_behind_does_not_take_the_screen(demo_sim) -> None:
    h = Harness(demo_sim)
    good = _title(demo_sim, "Summarise")
    h.controller.load_session("sess_missing", ("sess_missing", None))
    h.controller.load_session(good, (good, None))
    await h.until(lambda: h.of(SessionReady))
    h.controller.open((good, None))  # the reader is elsewhere before the 404 is applied
    await h.until(lambda: h.of(Failed))
    failed = h.of(Failed)[0]
    assert "sess_missing" in failed.text and not failed.fatal
    await h.close()


async def _following_the_big_session(make_sim):  # type: ignore[no-untyped-def]
    """A 500-event session opened on a new simulator, its stream followed and live."""
    server = make_sim(scenario="big", big_events=500)
    sess = max(server.simulator.world.sessions.values(), key=lambda s: len(s.session_log))
    h = Harness(server)
    scope = (sess.id, None)
    await h.open_followed(scope)
    await h.until(
        lambda: (s := h.controller.stream_states.get(scope)) is not None and s.phase == "live"
    )
    return server, sess, h, scope


async def _grow(h: Harness, server: SimulatorServer, session_id: str, count: int) -> None:
    """The simulator appends `count` events to the session at once (a live burst)."""
    url = f"{server.root_url}/_sim/sessions/{session_id}/grow?count={count}"
    (await h.client.http.post(url)).raise_for_status()


async def test_live_events_drain_in_order_and_stopping_closes_the_stream(make_sim) -> None:
    server, sess, h, scope = await _following_the_big_session(make_sim)
    view = h.controller.store_for(scope)
    assert view is not None and view.started
    await _grow(h, server, sess.id, 1200)
    applied = 0

    def drained() -> bool:
        nonlocal applied
        applied += h.controller.drain(400).applied
        return len(view) == 1300  # the newest page of 100, then 1,200 live

    await h.until(drained)
    log = sess.session_log
    assert [e.id for e in view.events] == [log.get(i)["id"] for i in range(400, 1700)]
    assert applied == 1200
    assert any(isinstance(n, ViewChanged) and n.reset for n in h.notices)
    task = h.controller.followers[scope]
    await h.close()
    assert task.done()


async def test_sessions_nobody_views_let_their_events_go(demo_sim) -> None:
    h = Harness(demo_sim, live=False)
    order = [_title(demo_sim, t) for t in ("Summarise", "Rotate", "Release 2.8.0")]
    for sid in order:
        h.controller.load_session(sid, (sid, None))
        await h.until(lambda sid=sid: sid in h.controller.stores)
        view = h.controller.open((sid, None))
        await h.until(lambda view=view: view is not None and view.started)
    first, second, third = (h.controller.stores[s] for s in order)
    assert not first.scopes  # two sessions later: its events are gone, its threads stay
    assert first.threads and second.scopes and third.scopes
    await h.close()


def test_the_followers_memory_of_ids_is_bounded() -> None:
    from qoder_tui.api.follower import RecentIds

    recent = RecentIds(limit=1_000)
    for i in range(50_000):
        recent.add(f"e{i}")
    assert len(recent) == 1_000
    assert "e49999" in recent and "e48999" not in recent


async def test_a_session_its_threads_and_its_newest_page_are_fetched_at_once(make_sim) -> None:
    server = make_sim(delay=0.3)  # every answer takes 0.3 s: one after another would be 0.9 s
    h = Harness(server, live=False)
    sid = _title(server, "Summarise")
    started = time.monotonic()
    h.controller.load_session(sid, (sid, None))
    await h.until(lambda: h.of(SessionReady))
    view = h.controller.open((sid, None))
    assert view is not None and view.started  # the page came with the session
    assert time.monotonic() - started < 0.75
    await h.close()


async def test_a_finds_the_children_the_coordinator_waits_on(make_sim) -> None:
    """Besides approvals and errors, `a` goes to a running child the coordinator handed
    work to and has not heard back from."""
    from qoder_tui.api.models import ThreadMessage

    server = make_sim(live=True, speed=25.0)
    live = next(s for s in server.simulator.world.sessions.values() if s.obj["status"] == "running")
    h = Harness(server, live=True)
    h.controller.load_session(live.id, (live.id, None))
    await h.until(lambda: h.of(SessionReady))
    h.controller.open((live.id, None))  # as the screen does on SessionReady

    def waited_on() -> list:
        h.controller.drain(100_000)
        return [s for s in h.controller.attention() if s[0] == live.id and s[1]]

    await h.until(waited_on, timeout=60)
    scope = waited_on()[0]
    store = h.controller.stores[live.id]
    assert store.threads[scope[1]].status == "running"
    handoffs = [
        e
        for e in store.scopes[None].events
        if isinstance(e, ThreadMessage) and e.peer_thread_id == scope[1]
    ]
    assert handoffs and handoffs[-1].direction == "sent"  # handed over, no answer yet
    await h.close()


async def test_a_jump_to_an_event_thousands_back_fetches_the_page_at_it(demo_sim) -> None:
    """The ledger's Enter on an old handoff: two requests, not fifty pages and a give-up."""
    from qoder_tui.controller import Select

    sid = _title(demo_sim, "pydantic")
    world = demo_sim.simulator.world.sessions[sid]
    world.ensure_built()
    child = max(
        (t for t in world.threads.values() if t.id != world.primary_id), key=lambda t: len(t.log)
    )
    items = child.log.items
    assert len(items) > 1_000
    h = Harness(demo_sim, live=False)
    scope = (sid, child.id)
    h.controller.load_session(sid, scope)
    await h.until(lambda: h.of(SessionReady))
    h.controller.open(scope)
    store = lambda: h.controller.store_for(scope)  # noqa: E731 (a new store once it detaches)
    await h.until(lambda: store().started)
    threads = h.controller.stores[sid].threads.values()
    # (Once the threads' failed calls are counted, every request below is the jump's.)
    await h.until(lambda: all(t.failures_counted is not None for t in threads), timeout=30)
    for target in (items[len(items) // 2]["id"], items[0]["id"]):
        before = dict(demo_sim.simulator.path_counts)
        h.controller.find(scope, target)
        await h.until(lambda t=target: any(n.event_id == t for n in h.of(Select)), timeout=30)
        view = store()
        assert target in view and view.has_newer
        assert view.has_older == (target != items[0]["id"])  # the first event: nothing older
        index = next(i for i, e in enumerate(items) if e["id"] == target)
        assert [e.id for e in view.events] == [e["id"] for e in items[index : index + len(view)]]
        requests = sum(demo_sim.simulator.path_counts.values()) - sum(before.values())
        assert 2 <= requests <= 2 + 3  # a few pages back, then the event before it and its page
    await h.close()


async def test_a_finds_a_stuck_thread_in_a_running_session_not_opened(make_sim) -> None:
    """A running session nobody opened: a look at its running threads' newest events tells
    `a` which child holds it up (a call unanswered for long, or a handoff not answered)."""
    from datetime import UTC, datetime, timedelta

    from qoder_tui.api.models import ThreadMessage, ToolUse

    server = make_sim(live=True, speed=25.0)
    live = next(s for s in server.simulator.world.sessions.values() if s.obj["status"] == "running")
    later = lambda: datetime.now(UTC) + timedelta(hours=1)  # noqa: E731 (every call is old)
    h = Harness(server, live=False, clock=later)
    h.controller.list_sessions()
    await h.until(lambda: live.id in h.controller.hints)

    def stuck() -> list:
        found = [s for s in h.controller.attention() if s[0] == live.id and s[1]]
        if not found and not h.controller.probing:
            h.controller.probe_sessions([live.id])  # look again: the session moves on
        return found

    await h.until(stuck, timeout=60)
    assert live.id not in h.controller.stores  # never opened
    look = h.controller.looks[live.id]
    thread_id = stuck()[0][1]
    assert look.threads[thread_id].status == "running"
    to_it = [
        e
        for e in look.scopes[None].events
        if isinstance(e, ThreadMessage) and e.peer_thread_id == thread_id
    ]
    source = look.source_of(thread_id)  # (the coordinator's events are the session stream's)
    own = look.scopes[source]
    calls = [
        e
        for e in own.events
        if isinstance(e, ToolUse) and (source is not None or look.belongs_to_primary(e))
    ]
    assert (to_it and to_it[-1].direction == "sent") or (
        calls and own.result_for(calls[-1]) is None
    )
    await h.close()


async def test_followers_make_way_for_input_while_it_is_answered(make_sim) -> None:
    """hold_live (a key just came in): a follower in the middle of a burst stops taking
    events for that long, then takes the rest, each once."""
    server, sess, h, scope = await _following_the_big_session(make_sim)
    await _grow(h, server, sess.id, 20_000)
    buffer = lambda: h.controller.buffers.get(scope, [])  # noqa: E731
    await h.until(lambda: 0 < len(buffer()) < 15_000)  # the burst is coming in
    taken = h.controller.batches_taken
    await h.until(lambda: h.controller.batches_taken > taken)  # (it has just taken one)
    started = time.monotonic()
    taken = h.controller.batches_taken
    h.controller.hold_live(0.5)
    await h.until(lambda: h.controller.parked == 1)
    # Stopped at the next batch: not a few milliseconds later, with more chunks read and
    # parsed while the input waits.
    assert h.controller.batches_taken - taken <= 1
    held = len(buffer())
    while h.controller.parked:
        assert len(buffer()) == held  # nothing taken while the input is answered
        await asyncio.sleep(0.01)
    assert time.monotonic() - started >= 0.45  # parked until the hold ran out
    await h.until(lambda: len(buffer()) > held)  # then it goes on
    # Held again, until the input is answered (release_live), not until the hold runs out.
    h.controller.hold_live(600)
    await h.until(lambda: h.controller.parked == 1 or len(buffer()) >= 20_000 - 1)
    held = len(buffer())
    if h.controller.parked:
        watched = time.monotonic()
        while time.monotonic() - watched < 0.1:
            assert len(buffer()) == held and h.controller.live_held
            await asyncio.sleep(0.01)
    h.controller.release_live()
    assert not h.controller.live_held
    await h.until(lambda: len(buffer()) >= 20_000 - 1, timeout=30)  # then the rest
    ids = [e.id for e in buffer()]
    assert len(ids) == len(set(ids))
    await h.close()


async def test_a_stream_held_for_input_is_quiet_only_after_the_hold(make_sim) -> None:
    """The screen ends a burst once the stream has been quiet a moment (stream_quiet).  A
    follower held while a key is answered reads nothing: counted from its last event, the
    stream looked quiet as soon as the hold ended, and every key ended the burst (the next
    frame drew every event on screen in full).  The quiet counts from the hold's end."""
    server, sess, h, scope = await _following_the_big_session(make_sim)
    await _grow(h, server, sess.id, 20_000)
    buffer = lambda: h.controller.buffers.get(scope, [])  # noqa: E731
    await h.until(lambda: 0 < len(buffer()) < 15_000)  # the burst is coming in
    h.controller.hold_live(600)
    await h.until(lambda: h.controller.parked == 1)
    assert not h.controller.stream_quiet(0.05)  # (held: not quiet)
    await h.until(lambda: time.monotonic() - h.controller.last_arrival > 0.1)
    h.controller.release_live()
    assert not h.controller.stream_quiet(0.05), "the hold was taken for a quiet stream"
    await h.until(lambda: len(buffer()) >= 20_000 - 1, timeout=30)  # the rest of the burst
    await h.until(lambda: h.controller.stream_quiet(0.05))  # and then it is quiet
    await h.close()


async def _census_waits_until(demo_sim, setup, release) -> None:  # type: ignore[no-untyped-def]
    """Load the long pydantic session with `setup` applied: no thread's tool results are read
    (a round trip of the app's own later, none was asked for, none counted); after
    `release`, every thread's failed calls are counted."""
    sid = _title(demo_sim, "pydantic")
    world = demo_sim.simulator.world.sessions[sid]
    world.ensure_built()
    children = [t for t in world.threads.values() if t.id != world.primary_id]
    before = dict(demo_sim.simulator.path_counts)  # (the simulator is shared by other tests)
    h = setup()
    h.controller.load_session(sid, (sid, None))
    await h.until(lambda: h.of(SessionReady))

    def asked(thread_id: str) -> int:
        """Requests for a thread's events since the test began."""
        end = f"/sessions/{sid}/threads/{thread_id}/events"
        counts = demo_sim.simulator.path_counts
        return sum(n - before.get(p, 0) for p, n in counts.items() if p.endswith(end))

    first, second = children
    h.controller.open((sid, first.id))
    await h.until(lambda: h.controller.store_for((sid, first.id)).started)
    store = h.controller.stores[sid]
    assert (asked(first.id), asked(second.id)) == (1, 0)  # the view's own page only
    assert all(store.threads[t.id].failures_counted is None for t in children)
    release(h)
    await h.until(lambda: all(store.threads[t.id].failures_counted for t in children), timeout=30)
    for t in children:
        failed = {
            e["id"] for e in t.log.items if e["type"].endswith("tool_result") and e.get("is_error")
        }
        assert failed <= store.threads[t.id].failed_calls
    await h.close()


async def test_counting_failed_calls_waits_while_live_events_wait_to_be_drained(demo_sim) -> None:
    """Background reads make way for live events: while a follower's buffer holds events
    not yet drained, no census page is asked for; once drained, they all are."""

    def buffered() -> Harness:
        h = Harness(demo_sim, live=False)
        h.controller.buffers[("elsewhere", None)] = [parse_event({"id": "x", "type": "x"})]
        h.controller._live_drained.clear()  # (as the follower leaves it)
        return h

    await _census_waits_until(demo_sim, buffered, lambda h: h.controller.drain(100))


async def test_background_reads_wait_for_the_first_paint(demo_sim) -> None:
    """The app's controller holds background reads (counting failed calls, probes) until the
    screen says what it opened with is drawn."""

    def held() -> Harness:
        return Harness(demo_sim, live=False, background_after_first_paint=True)

    await _census_waits_until(demo_sim, held, lambda h: h.controller.first_paint_done())


async def test_reading_the_list_again_looks_again_only_at_new_sessions_and_changed_statuses(
    make_sim,
) -> None:
    """Each look at a session costs requests (its newest events, and for a running one its
    threads): a session whose status changed is looked at again, one whose time alone moved
    (a running session's moves all the time) is not, and a new one is."""
    from datetime import timedelta

    server = make_sim()
    sim = server.simulator
    world = sim.world
    h = Harness(server, background_after_first_paint=False)
    h.controller.list_sessions()
    await h.until(lambda: h.of(SessionsListed) and not h.controller.probing)
    flipped = _title(server, "Rotate")  # terminated
    touched = _title(server, "pydantic")  # idle

    def events_read(session_id: str) -> int:
        return sim.path_counts.get(f"/api/v1/cloud/sessions/{session_id}/events", 0)

    before = {sid: events_read(sid) for sid in (flipped, touched)}

    def change() -> str:
        world.sessions[flipped].obj["status"] = "idle"
        world.sessions[touched].obj["updated_at"] = "2099-01-01T00:00:00Z"
        sess, when = world._new_session("New", "late", "idle", timedelta(0))
        world._ctx(sess, when, 5)
        return sess.id

    created = await asyncio.wrap_future(server.run_on_loop(change))
    h.controller.refresh_sessions()
    await h.until(lambda: len(h.of(SessionsListed)) == 2)
    await h.until(lambda: not h.controller.probing and not h.controller._refreshing_sessions)
    assert events_read(flipped) == before[flipped] + 1
    assert events_read(touched) == before[touched]
    assert events_read(created) == 1
    assert h.of(SessionsListed)[-1].fresh
    await h.close()


def test_a_failed_call_arriving_live_redraws_its_thread_row() -> None:
    """A thread row counts its failed calls: a live error result makes its session's rows
    news for the tree, where a result that went well does not."""
    from qoder_tui.api.models import Session, Thread

    def ev(i: int, type_: str, **fields: object) -> Event:
        return parse_event(
            {"id": f"e{i}", "type": type_, "processed_at": f"2026-01-01T00:00:{i:02d}Z", **fields}
        )

    controller = SessionController(None, lambda notice: None)  # type: ignore[arg-type]
    store = SessionStore(Session(id="s"))
    store.set_threads([Thread(id="P", parent_thread_id=None)])
    controller.stores["s"] = store
    store.scope(None).start([ev(1, "agent.message", content="hi")], has_older=False)
    controller.buffers[("s", None)] = [
        ev(2, "agent.tool_result", tool_use_id="u1", content="ok", is_error=False)
    ]
    assert "s" not in controller.drain(100).sessions
    controller.buffers[("s", None)] = [
        ev(3, "agent.tool_result", tool_use_id="u2", content="boom", is_error=True)
    ]
    assert "s" in controller.drain(100).sessions
    assert store.primary is not None and store.primary.failed_calls == {"e3"}


async def _big_session_opened(make_sim):  # type: ignore[no-untyped-def]
    """A 500-event session's stream opened at its newest page, not followed: the simulator,
    the stream's event ids, the harness and the scope."""
    server = make_sim(scenario="big", big_events=500)
    sess = max(server.simulator.world.sessions.values(), key=lambda s: len(s.session_log))
    log = sess.session_log
    ids = [log.get(i)["id"] for i in range(len(log))]
    h = Harness(server, live=False)
    scope = (sess.id, None)
    h.controller.load_session(sess.id, scope)
    await h.until(lambda: h.of(SessionReady))
    newest = h.controller.open(scope)
    assert newest is not None
    await h.until(lambda: newest.started)
    return server, ids, h, scope


async def test_an_older_page_that_comes_after_the_view_reopened_at_its_start_stays_out(
    make_sim,
) -> None:
    """The reader scrolls up (an older page is asked for), then presses `t` before it comes:
    the start comes first, then the older page, which belongs before the events the view
    held when it was asked for, not before the thread's first event.  (It went there: the
    view showed events from the middle above the start, scrolled down to them.)"""
    server, ids, h, scope = await _big_session_opened(make_sim)
    c = h.controller
    newest = c.store_for(scope)
    assert newest is not None and newest.has_older and newest.oldest_id == ids[-100]
    faults = server.simulator.config.faults
    faults.delay = 2.0  # (read as each request comes in: this one answers late)
    c.need_older(scope)
    await h.until(lambda: any("before_id=" in r for r in server.simulator.recent_requests))
    faults.delay = 0.0
    assert c.to_start(scope)
    await h.until(lambda: (s := c.store_for(scope)) is not None and ids[0] in s)
    start = c.store_for(scope)
    assert start is not None and start is not newest
    await h.until(lambda: not c._tasks, timeout=30)  # the older page has come and gone
    assert [e.id for e in start.events] == ids[: len(start)]
    assert not start.has_older and start.has_newer
    await h.close()


async def test_a_newer_page_that_comes_after_the_view_reopened_at_its_start_leaves_no_gap(
    make_sim,
) -> None:
    """Paging forward from the start, the reader presses `t` again before the page asked
    for comes: that page followed the old view's last event, not the new one's.  The view
    asks again, after its own last event, and holds the thread's events in order."""
    server, ids, h, scope = await _big_session_opened(make_sim)
    c = h.controller
    assert c.to_start(scope)
    await h.until(lambda: (s := c.store_for(scope)) is not None and ids[0] in s)
    first = c.store_for(scope)
    assert first is not None
    c.need_newer(scope)
    await h.until(lambda: len(first) == 200)
    faults = server.simulator.config.faults
    faults.delay = 2.0  # (the next page, after the 200th event, answers late)
    c.need_newer(scope)
    await h.until(
        lambda: any(f"after_id={ids[199]}" in r for r in server.simulator.recent_requests)
    )
    faults.delay = 0.0
    assert c.to_start(scope)
    await h.until(lambda: (s := c.store_for(scope)) is not first and s is not None and s.started)
    again = c.store_for(scope)
    assert again is not None and again.newest_id == ids[99]
    await h.until(lambda: not c._tasks, timeout=30)
    assert [e.id for e in again.events] == ids[: len(again)] and len(again) > 100
    await h.close()


async def test_a_diagnosis_reads_the_newest_page_a_view_holds_while_it_is_fresh(
    make_sim, monkeypatch
) -> None:
    """Opening a session that waits asks why, unasked: the session stream's newest page was
    just read, and is read from the store.  Once it may be out of date (not followed live,
    read more than FRESH_PAGE ago), a diagnosis asks the server again."""
    import qoder_tui.controller as controller_module
    from qoder_tui.controller import DiagnosisReady

    server = make_sim()  # (its own: the requests it saw are counted)
    h = Harness(server, live=False)
    c = h.controller
    sid = _title(server, "Release 2.8.0")
    scope = (sid, None)
    c.load_session(sid, scope)
    await h.until(lambda: h.of(SessionReady))
    view = c.open(scope)
    assert view is not None
    await h.until(lambda: view.started)
    page = f"/api/v1/cloud/sessions/{sid}/events?limit=100&order=desc"

    def asked() -> int:
        return list(server.simulator.recent_requests).count(page)

    before = asked()
    c.diagnose(sid)
    await h.until(lambda: len(h.of(DiagnosisReady)) == 1)
    assert asked() == before
    assert any("waiting for approval" in f.cause for f in h.of(DiagnosisReady)[0].findings)
    monkeypatch.setattr(controller_module, "FRESH_PAGE", 0.0)
    c.diagnose(sid)
    await h.until(lambda: len(h.of(DiagnosisReady)) == 2)
    assert asked() == before + 1
    assert h.of(DiagnosisReady)[1].findings == h.of(DiagnosisReady)[0].findings
    await h.close()


async def test_a_search_lands_on_the_line_that_draws_a_folded_event(demo_sim) -> None:
    """A model request's start is drawn inside its end's line, and a tool result inside its
    call's block: a search that matches one selects the event whose line shows it (a start
    has no line of its own), and the next search goes on past that line."""
    from qoder_tui.api.models import ModelRequestStart, ToolResult
    from qoder_tui.controller import Select

    sid = _title(demo_sim, "Summarise")
    h = Harness(demo_sim, live=False)
    scope = (sid, None)
    h.controller.load_session(sid, scope)
    await h.until(lambda: h.of(SessionReady))
    view = h.controller.open(scope)
    assert view is not None
    await h.until(lambda: view.started)
    ids = [e.id for e in view.events]
    for kind, query in (
        (ModelRequestStart, "span.model_request_start"),
        (ToolResult, "tool_result"),
    ):
        folded = [e for e in view.events if isinstance(e, kind) and view.is_folded(e)]
        assert folded, kind
        host = view.host_of(folded[-1])
        assert host is not None and not view.is_folded(host)
        # The search goes back from just after both (a start comes before its end, a call
        # before its result), or from the newest event.
        last = max(ids.index(host.id), ids.index(folded[-1].id))
        after = ids[last + 1] if last + 1 < len(ids) else None
        selects = len(h.of(Select))
        h.controller.search(scope, query, before=after)
        await h.until(lambda n=selects: len(h.of(Select)) == n + 1)
        assert h.of(Select)[-1].event_id == host.id
        # The next one goes on past that line, to an older one.
        h.controller.search(scope, query, before=host.id)
        await h.until(lambda n=selects: len(h.of(Select)) == n + 2)
        older = h.of(Select)[-1].event_id
        assert ids.index(older) < ids.index(host.id)
        assert not view.is_folded(view.get(older))
    await h.close()


async def test_a_live_event_of_any_kind_naming_an_unknown_thread_fetches_it_once(
    demo_sim,
) -> None:
    """Whatever the kind (the quiet ones _observe only asks the thread of, and the others),
    an event naming a thread the session does not know makes the tree change and the
    thread be fetched, once."""
    h, sid, child, store = await _a_session_knowing_no_threads(demo_sim)
    path = f"/api/v1/cloud/sessions/{sid}/threads/{child}"
    fetched = demo_sim.simulator.path_counts.get(path, 0)  # (the simulator is the module's)
    kinds = ["agent.message", "agent.thinking", "agent.tool_use", "span.model_request_start"]
    kinds += ["agent.tool_result", "span.model_request_end"]  # (not quiet)
    for i, type_ in enumerate(kinds):
        event = parse_event({"id": f"q{i}", "type": type_, "session_thread_id": child})
        assert h.controller._observe(store, [event], alert=True), type_
    await h.until(lambda: child in store.threads)
    await h.until(lambda: not h.controller._tasks)
    assert demo_sim.simulator.path_counts.get(path, 0) == fetched + 1
    quiet = parse_event({"id": "q9", "type": "agent.message", "session_thread_id": child})
    assert not h.controller._observe(store, [quiet], alert=True)  # known now: no news
    await h.close()


def test_the_quiet_kinds_carry_no_count_status_or_news() -> None:
    """_observe asks a quiet kind's event only for its thread: none of them may be counted,
    observed or be news, and no type parsed into one is a session status or thread change."""
    from qoder_tui import controller, store
    from qoder_tui.api.models import KNOWN_TYPES

    tables = (store._COUNT_BY_KIND, store._OBSERVE_BY_KIND, controller._NEWS_BY_KIND)
    for kind in controller._QUIET_KINDS:
        assert all(kind not in table for table in tables), kind
    quiet_types = [
        t
        for t in KNOWN_TYPES
        if type(parse_event({"id": "e", "type": t})) in controller._QUIET_KINDS
    ]
    assert "agent.message" in quiet_types and "agent.tool_use" in quiet_types
    for type_ in quiet_types:
        assert not type_.startswith(("session.status", "session.thread")), type_
