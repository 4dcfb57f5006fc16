"""The live follower: exactly once, in order, across drops, faults and the history seam."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from qoder_tui.api import Follower, NotFoundError, StreamState
from qoder_tui.api.errors import AuthError, StreamError
from qoder_tui.api.models import AgentMessage, Event, MalformedEvent

from .conftest import TOKEN, client_for, no_wait


async def _collect(follower: Follower, count: int, timeout: float = 60.0) -> list[Event]:
    got: list[Event] = []

    async def run() -> None:
        async for event in follower.events():
            got.append(event)
            if len([e for e in got if not isinstance(e, MalformedEvent)]) >= count:
                return

    await asyncio.wait_for(run(), timeout)
    return got


def _big_thread(server) -> tuple[str, str, list[str]]:
    """The `big` scenario's largest thread: (session id, thread id, its event ids)."""
    world = server.simulator.world
    sess = max(world.sessions.values(), key=lambda s: len(s.session_log))
    log = sess.session_log
    return sess.id, sess.primary_id, [log.get(i)["id"] for i in range(len(log))]


async def _follow_big_thread(server) -> tuple[list[str], list[str], list[StreamState]]:
    """Follow the big thread to its end: the ids delivered, the ids it holds, the states."""
    session_id, thread_id, expected = _big_thread(server)
    states: list[StreamState] = []
    async with client_for(server, max_retries=10) as client:
        follower = Follower(client, session_id, thread_id, on_state=states.append, sleep=no_wait)
        got = await _collect(follower, len(expected))
    return [e.id for e in got], expected, states


async def test_fifty_drops_some_mid_frame_plus_429s_and_503s_exactly_once(make_sim) -> None:
    server = make_sim(
        scenario="big",
        big_events=1000,
        drop_every=19,
        drop_mid_frame=True,
        error_rate=0.25,
        error_mix=True,
        retry_after=0,
    )
    got, expected, states = await _follow_big_thread(server)
    assert got == expected
    stats = server.simulator.stats
    assert stats["drops"] >= 50
    assert stats.get("status_429", 0) > 0 and stats.get("status_503", 0) > 0
    assert any(s.phase == "reconnecting" and "closed" in s.reason for s in states)
    assert any(s.phase == "reconnecting" and "429" in s.reason for s in states)
    assert any(s.phase == "reconnecting" and "503" in s.reason for s in states)


@pytest.mark.parametrize("newline", ["lf", "crlf", "cr"])
async def test_frames_cut_anywhere_with_any_line_end_arrive_whole_and_once(
    make_sim, newline: str
) -> None:
    """Streams in 7-byte pieces (line ends and UTF-8 characters cut in two), with each line
    end SSE allows, and drops mid-frame: every event arrives once, its text intact, and the
    newest at once (not held back until the next heartbeat's bytes)."""
    server = make_sim(
        scenario="big",
        big_events=120,
        heartbeat=60.0,
        newline=newline,
        chunk_bytes=7,
        drop_every=23,
        drop_mid_frame=True,
    )
    session_id, thread_id, expected = _big_thread(server)
    log = server.simulator.world.sessions[session_id].session_log
    raw = [log.get(i) for i in range(len(log))]
    said = [e["content"][0]["text"] for e in raw if e["type"] == "agent.message"]
    async with client_for(server) as client:
        follower = Follower(client, session_id, thread_id, sleep=no_wait)
        events = await _collect(follower, len(expected), timeout=20.0)
    assert [e.id for e in events] == expected
    texts = [e.text for e in events if isinstance(e, AgentMessage)]
    assert texts == said and any(not t.isascii() for t in texts)
    assert server.simulator.stats["drops"] >= 5


async def test_session_stream_drops_and_errors_exactly_once(make_sim) -> None:
    server = make_sim(
        scenario="big", big_events=600, drop_every=11, drop_mid_frame=True, error_rate=0.2
    )
    session_id, _, expected = _big_thread(server)
    async with client_for(server, max_retries=10) as client:
        got = await _collect(Follower(client, session_id, sleep=no_wait), len(expected))
    assert [e.id for e in got] == expected


async def test_streams_that_cannot_be_decoded_reconnect_and_lose_nothing(make_sim) -> None:
    """Every third answer says gzip over a body that is not (a proxy mangling compression):
    the follower reconnects from its cursor and delivers every event once, in order."""
    server = make_sim(scenario="big", big_events=300, drop_every=40, bad_encoding_every=3)
    got, expected, states = await _follow_big_thread(server)
    assert got == expected
    assert server.simulator.stats["bad_encodings"] >= 2
    assert any(s.phase == "reconnecting" and "could not be decoded" in s.reason for s in states)


async def test_history_then_live_seam_exactly_once(make_sim) -> None:
    server = make_sim(live=True, speed=50.0)
    async with client_for(server) as client:
        live = (await client.list_sessions(limit=1)).data[0]
        history: list[Event] = []
        async for page in client.walk_backward(live.id, page_size=7):
            history[:0] = page
        follower = Follower(
            client,
            live.id,
            last_event_id=history[-1].id,
            seen=[e.id for e in history],
            sleep=no_wait,
        )
        got = await _collect(follower, 60)
    mine = [e.id for e in history + got]
    server_ids = [e["id"] for e in server.simulator.world.sessions[live.id].session_log.items]
    assert mine == server_ids[: len(mine)]
    assert len(set(mine)) == len(mine)


async def test_thread_stream_falls_back_to_events_route(make_sim) -> None:
    server = make_sim(scenario="big", big_events=50, thread_stream_route=False)
    session_id, thread_id, expected = _big_thread(server)
    async with client_for(server) as client:
        got = await _collect(Follower(client, session_id, thread_id, sleep=no_wait), len(expected))
    assert [e.id for e in got] == expected


async def test_malformed_frames_are_reported_and_nothing_is_lost(make_sim) -> None:
    server = make_sim(scenario="big", big_events=200, malformed_every=25, drop_every=30)
    session_id, thread_id, expected = _big_thread(server)
    async with client_for(server) as client:
        got = await _collect(Follower(client, session_id, thread_id, sleep=no_wait), len(expected))
    good = [e.id for e in got if not isinstance(e, MalformedEvent)]
    bad = [e for e in got if isinstance(e, MalformedEvent)]
    assert good == expected
    assert len(bad) == 8 and all("JSON" in e.problem for e in bad)


@pytest.mark.parametrize("style", ["comment", "event"])
async def test_heartbeats_are_not_events(make_sim, style: str) -> None:
    server = make_sim(scenario="big", big_events=30, heartbeat=0.02, heartbeat_style=style)
    session_id, _, expected = _big_thread(server)
    sim = server.simulator
    sess = sim.world.sessions[session_id]
    async with client_for(server) as client:
        follower = Follower(client, session_id, last_event_id=expected[-5], sleep=no_wait)
        got: list[Event] = []

        async def run() -> None:
            async for event in follower.events():
                got.append(event)

        async def until(condition: Callable[[], bool]) -> None:
            async with asyncio.timeout(30):
                while not condition():
                    await asyncio.sleep(0.005)

        task = asyncio.create_task(run())
        await until(lambda: len(got) >= 4)
        # Several heartbeats go out on the quiet stream, then one more event: once that
        # arrives, every heartbeat before it has been read.
        beats = sim.stats.get("heartbeats", 0)
        await until(lambda: sim.stats.get("heartbeats", 0) >= beats + 5)

        def grow() -> None:
            sess.session_log.grow(1)
            sess.notify()

        await asyncio.wrap_future(server.run_on_loop(grow))
        newest = sess.session_log.get(len(sess.session_log) - 1)["id"]
        await until(lambda: len(got) >= 5)
        task.cancel()
    assert [e.id for e in got] == [*expected[-4:], newest]


async def test_done_ends_a_connection_and_the_next_resumes_after_it(make_sim) -> None:
    server = make_sim(scenario="big", big_events=60, done_after=7)
    ids, expected, _ = await _follow_big_thread(server)
    assert ids == expected  # no "[DONE]" read as a malformed event, nothing lost or twice
    assert server.simulator.stats["streams"] >= len(expected) // 7


async def test_terminated_session_stream_ends(make_sim) -> None:
    server = make_sim()
    async with client_for(server) as client:
        sessions = (await client.list_sessions()).data
        term = next(s for s in sessions if s.display_status == "terminated")
        follower = Follower(client, term.id, sleep=no_wait)
        got = [e async for e in follower.events()]
    assert got[-1].type == "session.status_terminated"
    assert follower.state.phase == "ended"


async def test_refused_cursor_replays_without_duplicates(make_sim) -> None:
    server = make_sim(scenario="big", big_events=40)
    sess = next(iter(server.simulator.world.sessions.values()))
    log = sess.session_log
    expected = [log.get(i)["id"] for i in range(len(log))]
    async with client_for(server) as client:
        follower = Follower(
            client, sess.id, last_event_id="evt_gone", seen=expected[:30], sleep=no_wait
        )
        got = await _collect(follower, 10)
    assert [e.id for e in got] == expected[30:]


async def test_an_error_frame_is_fatal_after_the_events_written_with_it(make_sim) -> None:
    """The server writes ten events and an `event: error` frame at once: the ten are handed
    over, then the error ends following (no reconnect), its message cleaned."""
    server = make_sim(scenario="big", big_events=60, error_after=10)
    session_id, thread_id, expected = _big_thread(server)
    states: list[StreamState] = []
    got: list[str] = []
    async with client_for(server) as client:
        follower = Follower(client, session_id, thread_id, on_state=states.append, sleep=no_wait)
        with pytest.raises(StreamError) as raised:
            async with asyncio.timeout(30):
                async for event in follower.events():
                    got.append(event.id)
    assert got == expected[:10]
    message = str(raised.value)
    assert "Overloaded" in message and "retry later" in message
    assert "\x1b" not in message and "\u202e" not in message
    assert states[-1].phase == "failed" and server.simulator.stats["streams"] == 1


async def test_unknown_thread_and_bad_token_are_fatal(make_sim) -> None:
    server = make_sim(scenario="big", big_events=10)
    sess = next(iter(server.simulator.world.sessions.values()))
    async with client_for(server) as client:
        with pytest.raises(NotFoundError):
            async for _ in Follower(client, sess.id, "sthr_missing", sleep=no_wait).events():
                pass
    async with client_for(server, token="nope-" + TOKEN[:4]) as client:
        follower = Follower(client, sess.id, sleep=no_wait)
        with pytest.raises(AuthError) as info:
            async for _ in follower.events():
                pass
        assert follower.state.phase == "failed"
        assert TOKEN not in str(info.value)


class RecordedSleeps:
    """A sleep for the follower that records each wait and does not wait (the schedule is
    what is tested, not the wall clock)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


async def test_backoff_starts_again_after_each_connection_that_delivered(make_sim) -> None:
    server = make_sim(scenario="big", big_events=2000, drop_every=10)
    session_id, thread_id, expected = _big_thread(server)
    sleeps = RecordedSleeps()
    async with client_for(server) as client:
        follower = Follower(client, session_id, thread_id, sleep=sleeps)
        got = await _collect(follower, len(expected))
    assert [e.id for e in got] == expected
    assert len(sleeps.waits) >= 199  # one wait per cut
    assert max(sleeps.waits) <= 1.0, sorted(sleeps.waits)[-5:]


async def test_sse_retry_field_sets_the_wait(make_sim) -> None:
    server = make_sim(scenario="big", big_events=60, drop_every=20, sse_retry_ms=120)
    session_id, thread_id, expected = _big_thread(server)
    sleeps = RecordedSleeps()
    async with client_for(server) as client:
        follower = Follower(client, session_id, thread_id, sleep=sleeps)
        got = await _collect(follower, len(expected))
    assert [e.id for e in got] == expected
    assert follower.retry_hint == pytest.approx(0.12)
    assert sleeps.waits and all(0.06 <= w <= 0.12 for w in sleeps.waits), sleeps.waits


@pytest.mark.parametrize("status", [400, 404])
async def test_refused_cursor_resyncs_in_order_without_replaying_history(
    make_sim, status: int
) -> None:
    server = make_sim(scenario="big", big_events=300, cursor_refusal_status=status)
    session_id, thread_id, ids = _big_thread(server)
    log = server.simulator.world.sessions[session_id].session_log
    async with client_for(server) as client:
        held = (await client.newest_events(session_id, thread_id)).data  # events 200..299
        assert [e.id for e in held] == ids[200:]
        log.grow(50)
        expected = [log.get(i)["id"] for i in range(300, 350)]
        follower = Follower(
            client,
            session_id,
            thread_id,
            last_event_id="evt_expired_cursor",
            seen=[e.id for e in held],
            newest_time=held[-1].time,
            sleep=no_wait,
        )
        got = await _collect(follower, 50)
    assert [e.id for e in got] == expected
    assert server.simulator.stats["cursors_refused"] == 1


async def test_soak_two_hundred_faults_every_event_once_in_order(make_sim) -> None:
    """Drops (half mid-frame), 429 with Retry-After and with retry-after-ms, and 503s."""
    server = make_sim(
        scenario="big",
        big_events=4000,
        drop_every=20,
        drop_mid_frame=True,
        error_rate=0.3,
        error_mix=True,
        retry_after=0.3,
    )
    session_id, thread_id, expected = _big_thread(server)
    sleeps = RecordedSleeps()
    async with client_for(server, max_retries=10) as client:
        follower = Follower(client, session_id, thread_id, sleep=sleeps)
        got = await _collect(follower, len(expected), timeout=120)
    stats = server.simulator.stats
    assert [e.id for e in got] == expected
    faults = stats["drops"] + stats["errors_injected"]
    assert faults >= 200, stats
    assert stats.get("status_429", 0) and stats.get("status_503", 0), stats
    assert stats.get("retry_after_ms", 0), stats
    assert 0.3 in [round(w, 3) for w in sleeps.waits]  # the server's hints were honoured
