"""Snapshot tests pin the key screens (fixed seed, fixed clock, no live session)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qoder_tui.simulator import SimulatorServer

from .conftest import running_sim, sim_config
from .snapshot_apps import (
    SIZE,
    diagnosis_before,
    help_before,
    ledger_before,
    main_screen_before,
    make_app,
    session_id,
    tool_block_before,
)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with running_sim(sim_config()) as server:
        yield server


def test_main_screen(snap_compare, sim: SimulatorServer) -> None:
    app = make_app(sim, open_live_session=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=main_screen_before())


def test_tool_block_folded(snap_compare, sim: SimulatorServer) -> None:
    app = make_app(sim, session_id=session_id(sim, "pydantic"))
    assert snap_compare(app, terminal_size=SIZE, run_before=tool_block_before(unfold=False))


def test_tool_block_unfolded(snap_compare, sim: SimulatorServer) -> None:
    app = make_app(sim, session_id=session_id(sim, "pydantic"))
    assert snap_compare(app, terminal_size=SIZE, run_before=tool_block_before(unfold=True))


def test_help_screen(snap_compare, sim: SimulatorServer) -> None:
    app = make_app(sim)
    assert snap_compare(app, terminal_size=SIZE, run_before=help_before())


def test_diagnosis_panel(snap_compare, sim: SimulatorServer) -> None:
    app = make_app(sim)
    assert snap_compare(app, terminal_size=SIZE, run_before=diagnosis_before())


def test_handoff_ledger(snap_compare, sim: SimulatorServer) -> None:
    app = make_app(sim, open_live_session=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=ledger_before())
