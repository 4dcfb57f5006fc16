"""The opening GETs sent ahead while the app starts (api/prefetch.py), over loopback."""

from __future__ import annotations

import http.client
import os
from typing import Any
from urllib.parse import urlencode

import pytest
from textual.widgets import Static

from qoder_tui.api.client import opening_gets
from qoder_tui.api.errors import AuthError
from qoder_tui.api.prefetch import Prefetch, start_prefetch
from qoder_tui.app import QoderApp
from qoder_tui.simulator import SimulatorServer
from qoder_tui.widgets.event_log import EventLog

from .conftest import TOKEN, client_for, settings_for
from .test_app import SIZE, main_screen, until
from .test_controller import Harness


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


def _release(server: SimulatorServer) -> tuple[str, str]:
    """The release session and one of its child threads."""
    session = next(
        s for s in server.simulator.world.sessions.values() if "Release 2.8.0" in s.obj["title"]
    )
    session.ensure_built()
    return session.id, next(t for t in session.threads if t != session.primary_id)


def _targets(session_id: str, thread_id: str | None) -> list[str]:
    """The opening GETs as the simulator records requests."""
    return [
        f"/api/v1/cloud/{path}" + (f"?{urlencode(params)}" if params else "")
        for path, params in opening_gets(session_id, thread_id)
    ]


async def test_an_app_given_its_opening_answers_asks_for_none_of_them_again(make_sim) -> None:
    server = make_sim()
    sid, tid = _release(server)
    prefetch = start_prefetch(settings_for(server), sid, tid)
    assert prefetch is not None
    app = QoderApp(
        settings_for(server), session_id=sid, thread_id=tid, live=False, prefetch=prefetch
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        # Every answer sent ahead is taken ...
        await until(
            pilot,
            lambda: (
                screen.log_view.store is not None
                and screen.log_view.store.started
                and len(screen.log_view.store) > 0
                and not prefetch.untaken()
            ),
            what=f"the thread shown and every answer taken (not: {prefetch.untaken()})",
        )
        assert screen.current == (sid, tid)
        # The session waits on an approval: opening it asks, unasked, why it is stuck.  That
        # reads the newest events of the session stream and of its child, both just loaded:
        # from the store, not from the server again.
        await until(pilot, lambda: screen.query_one("#stuck").display, what="the unasked diagnosis")
        children = [t for t, s in screen.stores[sid].threads.items() if not s.thread.is_primary]
        assert children == [tid]
        said = str(screen.query_one("#stuck", Static).content)
        assert "waiting for approval" in said and "./deploy.sh" in said, said
        # None of the opening GETs was sent again: they are the ones the controller asks for.
        sent = list(server.simulator.recent_requests)
        targets = _targets(sid, tid)
        assert len(targets) == 5
        counts = {t: sent.count(t) for t in targets}
        assert counts == dict.fromkeys(targets, 1), (counts, sent)


async def test_a_client_answered_ahead_has_not_built_its_http_client(make_sim) -> None:
    server = make_sim()
    sid, tid = _release(server)
    prefetch = start_prefetch(settings_for(server), sid, tid)
    client = client_for(server, prefetch=prefetch)
    await client.get_session(sid)
    await client.all_threads(sid)
    page = await client.newest_events(sid, tid, limit=100)
    assert page.data
    # (building it loads httpcore and h11: a launch does that after its first paint)
    assert not client.http_started
    await client.get_thread(sid, tid)  # not sent ahead
    assert client.http_started
    await client.aclose()


async def test_answers_that_broke_on_the_way_are_asked_for_again(make_sim) -> None:
    # Every second answer is a body that says it is gzip and is not.
    server = make_sim(bad_encoding_every=2)
    sid, tid = _release(server)
    prefetch = start_prefetch(settings_for(server), sid, tid)
    assert prefetch is not None
    client = client_for(server, prefetch=prefetch)
    session = await client.get_session(sid)
    threads = await client.all_threads(sid)
    pages = [await client.newest_events(sid, t, limit=100) for t in (None, tid)]
    sessions = await client.list_sessions(limit=50)
    assert session.id == sid and tid in {t.id for t in threads}
    assert all(page.data for page in pages) and sid in {s.id for s in sessions.data}
    assert prefetch.untaken() == []
    assert server.simulator.stats["bad_encodings"] >= 2
    sent = list(server.simulator.recent_requests)
    assert sum(sent.count(t) for t in _targets(sid, tid)) > 5  # the broken ones, again
    await client.aclose()


async def test_a_refusal_answered_ahead_reads_as_one_answered_later(make_sim) -> None:
    server = make_sim()
    sid, tid = _release(server)
    wrong = settings_for(server, token="tok-wrong-" + TOKEN[::-1])
    ahead = client_for(server, "tok-wrong-" + TOKEN[::-1], prefetch=start_prefetch(wrong, sid, tid))
    later = client_for(server, "tok-wrong-" + TOKEN[::-1])
    messages = []
    for client in (ahead, later):
        with pytest.raises(AuthError) as caught:
            await client.get_session(sid)
        messages.append(str(caught.value))
        await client.aclose()
    # (each names the request id the server gave its answer)
    assert [m.rsplit("request id", 1)[0] for m in messages] == [
        messages[1].rsplit("request id", 1)[0]
    ] * 2
    assert "token" in messages[0].lower() and "tok-wrong" not in messages[0]


def test_nothing_is_sent_ahead_behind_a_proxy(make_sim, monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx goes through the proxy the environment names; http.client would not.
    server = make_sim()
    sid, tid = _release(server)
    monkeypatch.setenv("NO_PROXY", "localhost")  # names no proxy
    assert isinstance(start_prefetch(settings_for(server), sid, tid), Prefetch)
    monkeypatch.setenv("https_proxy", "http://proxy.invalid:3128")
    assert start_prefetch(settings_for(server), sid, tid) is None


async def test_a_stream_is_opened_after_the_first_paint_not_before(make_sim) -> None:
    server = make_sim(live=True, speed=25.0)
    session = next(s for s in server.simulator.world.sessions.values() if s.live)
    h = Harness(server, background_after_first_paint=True)
    scope = (session.id, None)
    await h.open_followed(scope)
    # Its follower exists; two requests sent after it are answered, and the follower has
    # not connected: it waits until the UI has drawn the page (connecting loads httpcore).
    for _ in range(2):
        await h.client.get_session(session.id)
    assert server.simulator.stats["streams"] == 0
    h.controller.first_paint_done()
    await h.until(lambda: server.simulator.stats["streams"] == 1)
    await h.until(
        lambda: (s := h.controller.stream_states.get(scope)) is not None and s.phase == "live"
    )
    await h.close()


async def test_an_answer_that_broke_ahead_counts_as_one_of_the_tries(make_sim) -> None:
    from qoder_tui.api.errors import ConnectionFailedError

    # Every answer is mangled: the GET sent ahead, then the client's three retries.
    server = make_sim(bad_encoding_every=1)
    sid, tid = _release(server)
    client = client_for(server, prefetch=start_prefetch(settings_for(server), sid, tid))
    with pytest.raises(ConnectionFailedError, match="could not be decoded"):
        await client.get_session(sid)
    target = f"/api/v1/cloud/sessions/{sid}"
    assert list(server.simulator.recent_requests).count(target) == client.max_retries + 1
    await client.aclose()


def test_only_the_same_get_takes_an_answer_sent_ahead(make_sim) -> None:
    server = make_sim()
    sid, tid = _release(server)
    prefetch = start_prefetch(settings_for(server), sid, tid)
    assert prefetch is not None
    session = f"sessions/{sid}"
    assert prefetch.take(session, {"expand": "threads"}) is None  # another query
    assert prefetch.take(session, [("expand", "threads")]) is None
    assert prefetch.take("sessions", [("limit", "49")]) is None
    assert prefetch.take(session, None) is not None
    assert prefetch.take(session, None) is None  # once


async def test_an_answer_taken_before_its_thread_runs_still_arrives(make_sim) -> None:
    import asyncio

    from qoder_tui.api.client import request_headers, tls_context

    server = make_sim()
    sid, tid = _release(server)
    settings = settings_for(server)
    prefetch = Prefetch(
        settings.base_url,
        request_headers(settings),
        opening_gets(sid, tid),
        tls=tls_context(settings.base_url),
    )
    answer = prefetch.take(f"sessions/{sid}", None)  # before any thread has run
    assert answer is not None
    prefetch.start()
    got = await asyncio.wait_for(asyncio.wrap_future(answer), 10)
    assert got.status_code == 200 and got.json()["id"] == sid


async def test_an_app_that_stops_waiting_for_an_answer_leaves_no_error_behind(
    make_sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import threading
    import time

    server = make_sim(delay=0.5)  # the answers are on their way while the app ends
    sid, tid = _release(server)
    prefetch = start_prefetch(settings_for(server), sid, tid)
    client = client_for(server, prefetch=prefetch)
    errors: list[object] = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    waiting = asyncio.create_task(client.get_session(sid))
    while not server.simulator.stats["requests"]:
        await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    deadline = time.monotonic() + 10
    while any(t.name == "qoder-prefetch" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the GETs sent ahead never ended"
        await asyncio.sleep(0.02)
    assert errors == []  # (a thread that fails prints its traceback on the reader's terminal)
    await client.aclose()


def test_an_answer_in_a_charset_nobody_knows_still_reads() -> None:
    import email

    from qoder_tui.api.prefetch import Answer

    headers = email.message_from_string(
        "Content-Type: text/plain; charset=no-such-charset\n\n",
        _class=http.client.HTTPMessage,
    )
    assert Answer(502, headers, "Bad gateway \u2013 try later".encode()).text == (
        "Bad gateway \u2013 try later"
    )


async def test_a_view_answered_ahead_is_in_the_first_frame_textual_writes(
    make_sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Textual writes none of the frames it draws while it starts the app (its startup
    # batch), and does not draw again what they drew: a view shown then reached the
    # terminal only with the next full frame, and was drawn twice.  Nor is a first frame
    # without the view, and a second with it, a first paint.
    server = make_sim()
    sid, tid = _release(server)
    prefetch = start_prefetch(settings_for(server), sid, tid)
    assert prefetch is not None
    assert prefetch.wait(10), "the simulator did not answer"  # all in before the app starts
    app = QoderApp(
        settings_for(server), session_id=sid, thread_id=tid, live=False, prefetch=prefetch
    )
    shown_in_batch: list[int] = []
    drawn: list[tuple[int, int]] = []  # each drawing of the log: events held, in a batch
    show, draw = EventLog.show, EventLog.render_lines

    def showing(log: EventLog, *args: object, **kw: object) -> None:
        shown_in_batch.append(app._batch_count)  # (Textual's own count: observed only)
        show(log, *args, **kw)  # type: ignore[arg-type]

    def drawing(log: EventLog, crop: Any) -> Any:
        drawn.append((len(log.store) if log.store is not None else 0, app._batch_count))
        return draw(log, crop)

    monkeypatch.setattr(EventLog, "show", showing)
    monkeypatch.setattr(EventLog, "render_lines", drawing)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await until(
            pilot,
            lambda: screen.log_view.store is not None and len(screen.log_view.store) > 0,
            what="the thread shown",
        )
        assert shown_in_batch and not any(shown_in_batch), shown_in_batch
        await until(pilot, lambda: drawn, what="the log drawn")
        held, in_batch = drawn[0]
        assert held > 0 and not in_batch, drawn[:5]
