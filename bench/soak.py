"""`make soak`: the follower through at least 1,000 faults, and the figures.

Drops (every other one in the middle of a frame), 429 with Retry-After, 429 with
retry-after-ms and 503, against the simulator on loopback.  Waits are taken at
1/20 of their length (the schedule is printed as asked for, in full), so the run
ends in well under a minute.  Exits 1 if any event was lost, doubled or reordered.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qoder_tui.api import QoderClient
from qoder_tui.api.follower import Follower, StreamState
from qoder_tui.api.settings import Secret, Settings
from qoder_tui.simulator import Faults, SimConfig, SimulatorServer, WorldConfig

EVENTS = 20_000
DROP_EVERY = 20
TIME_SCALE = 20.0
DEADLINE = 300.0


async def main() -> int:
    token = "soak-token"
    config = SimConfig(
        world=WorldConfig(scenario="big", big_events=EVENTS, live=False),
        token=token,
        faults=Faults(
            drop_every=DROP_EVERY,
            drop_mid_frame=True,
            error_rate=0.3,
            error_mix=True,
            retry_after=0.2,
        ),
    )
    server = SimulatorServer(config).start_in_thread()
    try:
        sess = max(server.simulator.world.sessions.values(), key=lambda s: len(s.session_log))
        log = sess.session_log
        expected = [log.get(i)["id"] for i in range(len(log))]
        asked: list[float] = []

        async def scaled_sleep(seconds: float) -> None:
            asked.append(seconds)
            await asyncio.sleep(seconds / TIME_SCALE)

        states: list[StreamState] = []
        settings = Settings(base_url=server.base_url, token=Secret(token))
        got: list[str] = []
        started = time.perf_counter()
        async with QoderClient(settings, max_retries=10, sleep=scaled_sleep) as client:
            follower = Follower(
                client, sess.id, sess.primary_id, on_state=states.append, sleep=scaled_sleep
            )

            async def run() -> None:
                async for event in follower.events():
                    got.append(event.id)
                    if len(got) >= len(expected):
                        return

            await asyncio.wait_for(run(), DEADLINE)
        took = time.perf_counter() - started
    finally:
        server.stop()
    stats = server.simulator.stats
    faults = stats["drops"] + stats["errors_injected"]
    exact = got == expected
    waits = sorted(asked)
    print(
        f"events delivered      {len(got):,} of {len(expected):,}: {'exactly once, in order' if exact else 'WRONG'}"
    )
    print(f"faults                {faults:,}")
    print(f"  stream drops        {stats['drops']:,} (every other one mid-frame)")
    print(f"  429 Retry-After     {stats.get('status_429', 0) - stats.get('retry_after_ms', 0):,}")
    print(f"  429 retry-after-ms  {stats.get('retry_after_ms', 0):,}")
    print(f"  503                 {stats.get('status_503', 0):,}")
    print(f"connections           {follower.connections:,}")
    print(
        f"waits asked           {len(waits):,}: median {statistics.median(waits):.3f} s, "
        f"90th {waits[int(len(waits) * 0.9)]:.3f} s, max {waits[-1]:.3f} s"
    )
    print(f"wall time             {took:.1f} s (waits taken at 1/{TIME_SCALE:g})")
    ok = exact and faults >= 1000
    print("soak: " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
