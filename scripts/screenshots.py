"""Write SVG screenshots of the key views into screenshots/ (run by `make screenshots`).

The views are the same fixed-state apps the snapshot tests pin: a fixed seed,
a fixed start time and clock, no live session.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import running_sim, sim_config  # noqa: E402
from tests.snapshot_apps import (  # noqa: E402
    SIZE,
    diagnosis_before,
    handoff_before,
    help_before,
    ledger_before,
    main_screen_before,
    make_app,
    merged_before,
    raw_before,
    session_id,
    tool_block_before,
)

OUT = ROOT / "screenshots"


def shoot(
    name: str, app_kw: dict[str, object], before: Callable[[Pilot], Awaitable[None]], server
) -> None:
    app = make_app(server, **app_kw)

    async def auto_pilot(pilot: Pilot) -> None:
        await before(pilot)
        await pilot.pause()
        pilot.app.exit(pilot.app.export_screenshot(title=f"qoder-tui — {name.replace('-', ' ')}"))

    svg = app.run(headless=True, auto_pilot=auto_pilot, size=SIZE)
    assert isinstance(svg, str)
    (OUT / f"{name}.svg").write_text(svg, encoding="utf-8")
    print(f"wrote screenshots/{name}.svg")


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with running_sim(sim_config()) as server:
        long = session_id(server, "pydantic")
        shoot("main", {"open_live_session": True}, main_screen_before(), server)
        shoot("merged", {"session_id": long}, merged_before(), server)
        shoot("tool-folded", {"session_id": long}, tool_block_before(unfold=False), server)
        shoot("tool-unfolded", {"session_id": long}, tool_block_before(unfold=True), server)
        shoot("handoff-jump", {"session_id": long}, handoff_before(), server)
        shoot("raw-json", {"session_id": long}, raw_before(), server)
        shoot("help", {}, help_before(), server)
        shoot("diagnosis", {}, diagnosis_before(), server)
        shoot("handoff-ledger", {"open_live_session": True}, ledger_before(), server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
