"""Qoder's official SDK (qca-sdk) against our simulator, with strict model validation.

This is the evidence that the simulator speaks the real wire format: the
SDK's own models must accept every object it serves.
"""

from __future__ import annotations

import itertools

import pytest

qca = pytest.importorskip("qca")
from qca.managed import Managed  # noqa: E402
from qca.managed.types.session import Session as SdkSession  # noqa: E402

from qoder_tui.simulator import SimulatorServer  # noqa: E402

from .conftest import TOKEN, running_sim, sim_config  # noqa: E402


@pytest.fixture(scope="module")
def sim() -> SimulatorServer:
    with running_sim(sim_config(live=True, speed=20.0)) as server:
        yield server


@pytest.fixture
def sdk(sim: SimulatorServer) -> Managed:
    client = Managed(
        access_token=TOKEN, base_url=sim.base_url, _strict_response_validation=True, max_retries=0
    )
    yield client
    client.close()


def test_sdk_lists_sessions_with_page_tokens(sdk: Managed, sim: SimulatorServer) -> None:
    first = sdk.sessions.list(limit=2)
    assert len(first.data) == 2 and first.has_more and first.next_page
    every = list(sdk.sessions.list(limit=2))
    assert len(every) == len(sim.simulator.world.sessions) == len({s.id for s in every})
    assert all(isinstance(s, SdkSession) for s in every)
    one = sdk.sessions.retrieve(every[0].id)
    assert one.id == every[0].id and one.agent is not None and one.agent.name


def test_sdk_lists_threads_and_gets_each(sdk: Managed) -> None:
    for session in sdk.sessions.list(limit=10):
        threads = list(sdk.sessions.threads.list(session.id))
        assert threads and threads[0].parent_thread_id is None
        for thread in threads:
            got = sdk.sessions.threads.retrieve(thread.id, session_id=session.id)
            assert got.id == thread.id and got.session_id == session.id


def test_sdk_pages_events_forward_and_backward(sdk: Managed, sim: SimulatorServer) -> None:
    sessions = list(sdk.sessions.list())
    long = next(s for s in sessions if "pydantic" in (s.title or ""))
    forward = list(itertools.islice(sdk.sessions.events.list(long.id, limit=100), 450))
    server_log = sim.simulator.world.sessions[long.id].session_log
    assert [e.id for e in forward] == [e["id"] for e in server_log.items[:450]]
    newest = sdk.sessions.events.list(long.id, limit=50, order="desc")
    older = sdk.sessions.events.list(long.id, limit=50, before_id=newest.data[-1].id)
    assert [e.id for e in older.data][-1] == server_log.items[-51]["id"]
    threads = list(sdk.sessions.threads.list(long.id))
    child = threads[1]
    child_events = list(
        itertools.islice(
            sdk.sessions.threads.events.list(child.id, session_id=long.id, limit=30), 200
        )
    )
    assert child_events and child_events[0].type == "agent.thread_message_received"


def test_sdk_models_accept_every_event_of_every_session(sdk: Managed) -> None:
    seen_types: set[str] = set()
    for session in sdk.sessions.list():
        if "pydantic" in (session.title or ""):
            events = itertools.islice(sdk.sessions.events.list(session.id, limit=100), 3000)
        else:
            events = sdk.sessions.events.list(session.id, limit=100)
        for event in events:
            seen_types.add(event.type)
        for thread in sdk.sessions.threads.list(session.id):
            for event in itertools.islice(
                sdk.sessions.threads.events.list(thread.id, session_id=session.id, limit=100), 300
            ):
                seen_types.add(event.type)
    expected = {
        "user.message",
        "agent.message",
        "agent.thinking",
        "agent.tool_use",
        "agent.tool_result",
        "span.model_request_start",
        "span.model_request_end",
        "session.status_running",
        "session.status_idle",
        "session.status_rescheduled",
        "session.status_terminated",
        "session.error",
        "session.thread_created",
        "session.thread_status_running",
        "session.thread_status_idle",
        "agent.thread_message_sent",
        "agent.thread_message_received",
        "session.usage",
    }
    assert expected <= seen_types


def test_sdk_streams_live_and_resumes_with_last_event_id(
    sdk: Managed, sim: SimulatorServer
) -> None:
    live = next(iter(sdk.sessions.list(limit=1)))
    history = list(sdk.sessions.events.list(live.id, limit=100, order="desc").data)
    cursor = history[0].id
    with sdk.sessions.events.stream(live.id, last_event_id=cursor) as stream:
        first = list(itertools.islice(stream, 5))
    assert len(first) == 5
    server_ids = [e["id"] for e in sim.simulator.world.sessions[live.id].session_log.items]
    start = server_ids.index(cursor) + 1
    assert [e.id for e in first] == server_ids[start : start + 5]
    with sdk.sessions.events.stream(live.id, last_event_id=first[-1].id) as stream:
        more = list(itertools.islice(stream, 3))
    server_ids = [e["id"] for e in sim.simulator.world.sessions[live.id].session_log.items]
    assert [e.id for e in more] == server_ids[start + 5 : start + 8]
    resumable = sdk.sessions.events.resumable_stream(live.id, last_event_id=first[-1].id)
    try:
        again = list(itertools.islice(resumable, 3))
    finally:
        resumable.close()
    assert [e.id for e in again] == [e.id for e in more]


def test_sdk_thread_stream_with_last_event_id_header(sdk: Managed) -> None:
    live = next(iter(sdk.sessions.list(limit=1)))
    threads = list(sdk.sessions.threads.list(live.id))
    child = threads[1]
    events = list(sdk.sessions.threads.events.list(child.id, session_id=live.id, limit=5).data)
    with sdk.sessions.threads.events.stream(
        child.id, session_id=live.id, extra_headers={"Last-Event-ID": events[1].id}
    ) as stream:
        got = list(itertools.islice(stream, 3))
    assert [e.id for e in got] == [e.id for e in events[2:5]]


def test_sdk_sees_the_real_error_envelopes(sdk: Managed, sim: SimulatorServer) -> None:
    with pytest.raises(qca.NotFoundError) as info:
        sdk.sessions.retrieve("sess_missing")
    assert "sess_missing" in str(info.value)
    bad = Managed(access_token="nope", base_url=sim.base_url, max_retries=0)
    with pytest.raises(qca.AuthenticationError):
        bad.sessions.list()
    bad.close()
    with pytest.raises(qca.BadRequestError):
        sdk.sessions.events.list(next(iter(sdk.sessions.list(limit=1))).id, limit=101)
