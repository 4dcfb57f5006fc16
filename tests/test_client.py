"""The client against the simulator over loopback HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from qoder_tui.api import AuthError, ConnectionFailedError, NotFoundError, QoderClient
from qoder_tui.api.errors import BadRequestError
from qoder_tui.api.settings import Secret, Settings
from qoder_tui.simulator import SimulatorServer

from .conftest import TOKEN, client_for


async def test_pages_backward_through_5000_events_once_in_order(make_sim) -> None:
    server = make_sim(scenario="big", big_events=5000)
    async with client_for(server) as client:
        sessions = (await client.list_sessions()).data
        big = next(s for s in sessions if "5,000" in (s.title or ""))
        threads = await client.all_threads(big.id)
        assert len(threads) == 1 and threads[0].is_primary
        collected = []
        pages = 0
        async for page in client.walk_backward(big.id, threads[0].id, page_size=100):
            collected[:0] = page
            pages += 1
        log = server.simulator.world.sessions[big.id].threads[threads[0].id].log
        expected = [log.get(i)["id"] for i in range(len(log))]
        assert [e.id for e in collected] == expected
        assert pages == 50


async def test_a_type_filtered_page_of_a_big_synthetic_thread_makes_only_its_events(
    make_sim,
) -> None:
    """The simulator reads a synthetic log's types without making its events: a filtered
    page of 100,000 events made them all once (2 s in which it answered nothing else)."""
    server = make_sim(scenario="big", big_events=100_000)
    async with client_for(server) as client:
        sessions = (await client.list_sessions()).data
        big = next(s for s in sessions if "100,000" in (s.title or ""))
        thread = (await client.all_threads(big.id))[0]
        log = server.simulator.world.sessions[big.id].threads[thread.id].log
        made = log.made
        page = await client.list_events(
            big.id, thread.id, limit=100, order="asc", types=["agent.tool_use"]
        )
        assert [e.type for e in page.data] == ["agent.tool_use"] * 100
        assert [e.id for e in page.data] == [log.event_id(4 + 9 * i) for i in range(100)]
        assert log.made - made <= 100


async def test_the_100_event_benchmark_thread_shows_what_the_big_threads_newest_100_show(
    make_sim,
) -> None:
    """The bench compares opening the two: they differ in size, not in what is on screen."""
    from qoder_tui.api.models import event_fields

    server = make_sim(scenario="big", big_events=1000)
    async with client_for(server) as client:
        sessions = (await client.list_sessions()).data
        pages = []
        for title in ("1,000", "100 events"):
            session = next(s for s in sessions if title in (s.title or ""))
            thread = (await client.all_threads(session.id))[0]
            pages.append((await client.newest_events(session.id, thread.id)).data)
    own = {"id", "processed_at", "raw_json", "call_id", "start_id"}
    big, small = ([event_fields(e, exclude=own) for e in page] for page in pages)
    assert len(big) == len(small) == 100
    assert big == small


async def test_newest_page_then_older_pages_meet_without_gap(demo_sim: SimulatorServer) -> None:
    async with client_for(demo_sim) as client:
        sessions = (await client.list_sessions()).data
        long = next(s for s in sessions if s.title and "pydantic" in s.title)
        newest = await client.newest_events(long.id, limit=100)
        assert newest.has_more and len(newest.data) == 100
        older = await client.older_events(long.id, None, newest.data[0].id, limit=100)
        server_log = demo_sim.simulator.world.sessions[long.id].session_log
        ids = [e["id"] for e in server_log.items]
        assert [e.id for e in older.data + newest.data] == ids[-200:]


async def test_sessions_newest_first_with_page_tokens_and_filters(
    demo_sim: SimulatorServer,
) -> None:
    async with client_for(demo_sim) as client:
        everything = [s async for s in client.iter_sessions(limit=2)]
        created = [s.created_at for s in everything]
        assert created == sorted(created, reverse=True)
        assert len(everything) == 5 == len({s.id for s in everything})
        terminated = (await client.list_sessions(statuses=["terminated"])).data
        assert [s.display_status for s in terminated] == ["terminated"]
        one = await client.get_session(everything[0].id)
        assert one.id == everything[0].id


async def test_threads_coordinator_first_children_point_to_parent(
    demo_sim: SimulatorServer,
) -> None:
    async with client_for(demo_sim) as client:
        live = (await client.list_sessions(limit=1)).data[0]
        threads = await client.all_threads(live.id)
        assert threads[0].is_primary
        assert len(threads) >= 3
        assert all(t.parent_thread_id == threads[0].id for t in threads[1:])
        got = await client.get_thread(live.id, threads[1].id)
        assert got.display_name == threads[1].display_name != "coordinator"


async def test_unknown_session_names_the_id(demo_sim: SimulatorServer) -> None:
    async with client_for(demo_sim) as client:
        with pytest.raises(NotFoundError) as info:
            await client.get_session("sess_doesnotexist")
    assert "sess_doesnotexist" in str(info.value)
    assert info.value.exit_code == 4


async def test_rejected_token_names_the_variables(demo_sim: SimulatorServer) -> None:
    async with client_for(demo_sim, token="wrong-" + TOKEN[::-1]) as client:
        with pytest.raises(AuthError) as info:
            await client.list_sessions()
    message = str(info.value)
    assert "QODER_ACCESS_TOKEN" in message and "QODER_PAT" in message and "--token-file" in message
    assert TOKEN not in message and TOKEN[::-1] not in message
    assert info.value.exit_code == 3


async def test_unreachable_server_names_the_url(unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/api/v1/cloud/"
    async with QoderClient(
        Settings(base_url=url, token=Secret(TOKEN)), max_retries=1, sleep=_no_sleep
    ) as client:
        with pytest.raises(ConnectionFailedError) as info:
            await client.list_sessions()
    assert url in str(info.value) and info.value.exit_code == 5


async def _no_sleep(_: float) -> None:
    return None


async def test_retries_429_and_503_with_retry_after(make_sim) -> None:
    server = make_sim(error_rate=0.5, error_status=429, retry_after=0.001)
    delays: list[float] = []

    async def record(d: float) -> None:
        delays.append(d)

    async with QoderClient(
        Settings(base_url=server.base_url, token=Secret(TOKEN)), max_retries=8, sleep=record
    ) as c:
        for _ in range(10):
            await c.list_sessions()
    assert server.simulator.stats["errors_injected"] > 0
    assert delays and all(abs(d - 0.001) < 1e-9 for d in delays)


async def test_a_body_that_cannot_be_decoded_is_retried_then_named(make_sim) -> None:
    """A proxy that says gzip over a body that is not: the request is tried again, and when
    every answer is like that, the error says so (no httpx exception reaches the caller)."""
    server = make_sim(bad_encoding_every=2)
    async with client_for(server, max_retries=3) as client:
        for _ in range(6):
            assert (await client.list_sessions()).data  # every other answer is mangled
    assert server.simulator.stats["bad_encodings"] == 5  # the 2nd, 4th, ... of 11 requests
    broken = make_sim(bad_encoding_every=1)
    async with client_for(broken, max_retries=2) as client:
        with pytest.raises(ConnectionFailedError) as info:
            await client.list_sessions()
    assert "could not be decoded" in str(info.value) and broken.base_url in str(info.value)
    assert broken.simulator.stats["bad_encodings"] == 3  # the first try and two more
    assert TOKEN not in str(info.value)


async def test_server_validation_errors_surface_as_bad_request(demo_sim: SimulatorServer) -> None:
    async with client_for(demo_sim) as client:
        live = (await client.list_sessions(limit=1)).data[0]
        with pytest.raises(BadRequestError) as info:
            await client.older_events(live.id, None, "evt_not_in_this_session")
    assert "before_id" in str(info.value)


def test_client_repr_and_settings_repr_hide_the_token(demo_sim: SimulatorServer) -> None:
    settings = Settings(base_url=demo_sim.base_url, token=Secret(TOKEN))
    client = QoderClient(settings)
    assert (
        TOKEN not in repr(client)
        and TOKEN not in repr(settings)
        and TOKEN not in str(settings.token)
    )


def test_tls_context_is_the_ca_bundle_for_https_and_nothing_for_plain_http() -> None:
    import ssl

    from qoder_tui.api.client import tls_context

    bundle = tls_context("https://api.qoder.com/api/v1/cloud/")  # httpx's default bundle
    assert bundle.verify_mode == ssl.CERT_REQUIRED and bundle.check_hostname
    assert len(bundle.get_ca_certs()) > 10
    context = tls_context("http://127.0.0.1:8765/api/v1/cloud/")
    # Fails closed: certificates are required and none is trusted.
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs() == []


def test_tls_context_trusts_the_file_ssl_cert_file_names(tmp_path, monkeypatch) -> None:
    import certifi

    from qoder_tui.api.client import tls_context

    bundle = Path(certifi.where()).read_text(encoding="ascii")
    end = "-----END CERTIFICATE-----"
    one = tmp_path / "one.pem"
    one.write_text(
        bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)]
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(one))
    assert len(tls_context("https://api.qoder.com/api/v1/cloud/").get_ca_certs()) == 1
