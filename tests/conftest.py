"""Shared fixtures: simulators on real loopback HTTP, and a recognisable token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from qoder_tui.api import QoderClient
from qoder_tui.api.settings import Secret, Settings
from qoder_tui.simulator import Faults, SimConfig, SimulatorServer, WorldConfig

TOKEN = "tok-Zq8vXr41-SECRET-do-not-print"
FIXED_START = datetime(2026, 11, 20, 9, 30, 0, tzinfo=UTC)


def sim_config(
    *,
    scenario: str = "demo",
    seed: int = 7,
    live: bool = False,
    speed: float = 1.0,
    big_events: int = 1000,
    history_events: int = 20_000,
    heartbeat: float = 15.0,
    heartbeat_style: str = "comment",
    **faults: object,
) -> SimConfig:
    return SimConfig(
        world=WorldConfig(
            scenario=scenario,
            seed=seed,
            big_events=big_events,
            start=FIXED_START,
            live=live,
            live_speed=speed,
            history_events=history_events,
        ),
        token=TOKEN,
        heartbeat=heartbeat,
        heartbeat_style=heartbeat_style,
        faults=Faults(**faults),  # type: ignore[arg-type]
    )


@contextmanager
def running_sim(config: SimConfig | None = None) -> Iterator[SimulatorServer]:
    server = SimulatorServer(config or sim_config()).start_in_thread()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _json_parser_as_at_launch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with the JSON parser a launch starts with (json's): the app loads the
    faster one after its first paint, tail and ls at once, and a test that loaded it must
    not hand it to the next (tests of parsing run with both)."""
    from qoder_tui.api import models

    monkeypatch.setattr(models, "_fast_json", json.loads)


@pytest.fixture(autouse=True)
def _collector_left_running() -> Iterator[None]:
    """The app holds the garbage collector while a key is answered, and sets its thresholds
    while it runs: no test may end with it held or them changed (the tests after it would run
    with a collector other than Python's)."""
    import gc

    thresholds = gc.get_threshold()
    yield
    if not gc.isenabled():
        gc.enable()
        pytest.fail("the test ended with the garbage collector disabled")
    if gc.get_threshold() != thresholds:
        gc.set_threshold(*thresholds)
        pytest.fail("the test ended with the collector's thresholds changed")


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimulatorServer]]:
    """Start simulators with the given options; all stop at the end of the test."""
    servers: list[SimulatorServer] = []

    def make(config: SimConfig | None = None, **kw: object) -> SimulatorServer:
        server = SimulatorServer(config or sim_config(**kw)).start_in_thread()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimulatorServer]:
    """A shared, history-only demo world (no live session), for read-only tests."""
    with running_sim(sim_config()) as server:
        yield server


def settings_for(server: SimulatorServer, token: str = TOKEN) -> Settings:
    return Settings(base_url=server.base_url, token=Secret(token))


async def no_wait(_: float) -> None:
    """Backoff sleeps in tests: the schedule is tested, not the wall clock."""
    await asyncio.sleep(0)


def client_for(server: SimulatorServer, token: str = TOKEN, **kw: object) -> QoderClient:
    return QoderClient(settings_for(server, token), sleep=no_wait, **kw)  # type: ignore[arg-type]
