"""A log whose events are computed from their index: O(1) memory for any size.

Used by the `big` scenario, so that a 100,000-event thread costs the
simulator nothing to start and every page is computed on demand.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from .content import AGENT_MESSAGES, THOUGHTS, make_tool_call
from .world import fmt_ts

CYCLE = 9
TYPES = (
    "user.message",
    "session.status_running",
    "span.model_request_start",
    "agent.thinking",
    "agent.tool_use",
    "span.model_request_end",
    "agent.tool_result",
    "agent.message",
    "session.status_idle",
)
"""Event i's type is TYPES[i % CYCLE]."""


class SyntheticLog:
    def __init__(
        self,
        session_id: str,
        thread_id: str,
        size: int,
        *,
        start: datetime,
        seed: int,
        first: int = 0,
    ) -> None:
        self.session_id = session_id
        self.thread_id = thread_id
        self.size = size
        self.start = start
        self.seed = seed
        if first % CYCLE:
            raise ValueError(f"first must be a multiple of {CYCLE}")
        self.first = first
        """Event i says what event first + i of a log with this seed says (its id and time are
        its own): a short log can show what a long one's newest events show."""
        self.prefix = "evt_" + hashlib.sha1(f"{session_id}:{seed}".encode()).hexdigest()[:10]
        self._cache: dict[int, dict[str, Any]] = {}
        self.made = 0
        """Events made so far (each is made from its index when asked for)."""

    def __len__(self) -> int:
        return self.size

    def grow(self, count: int) -> None:
        self.size += count

    def event_id(self, index: int) -> str:
        return f"{self.prefix}{index:012x}"

    def index_of(self, event_id: str) -> int | None:
        if not event_id.startswith(self.prefix) or len(event_id) != len(self.prefix) + 12:
            return None
        try:
            index = int(event_id[len(self.prefix) :], 16)
        except ValueError:
            return None
        return index if 0 <= index < self.size else None

    def type_at(self, index: int) -> str:
        """Event `index`'s type, without making the event: a type filter reads every one
        (making all of a 100,000-event log's took 2 s, and the server answered nothing
        else meanwhile)."""
        return TYPES[(self.first + index) % CYCLE]

    def get(self, index: int) -> dict[str, Any]:
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(index)
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        event = self._make(index)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[index] = event
        return event

    def _make(self, i: int) -> dict[str, Any]:
        self.made += 1
        k = self.first + i  # what it says is event k's
        rng = random.Random(self.seed * 1_000_003 + k)
        phase = k % CYCLE
        when = self.start + timedelta(milliseconds=1500 * i)
        ev: dict[str, Any] = {"id": self.event_id(i), "type": TYPES[phase]}
        if phase == 0:
            ev["content"] = [
                {
                    "type": "text",
                    "text": f"Step {k // CYCLE}: run the checks again and fix what fails.",
                }
            ]
        elif phase == 3:
            ev["thinking"] = rng.choice(THOUGHTS)
        elif phase == 4:
            call = make_tool_call(rng)
            ev["name"] = call.name
            ev["input"] = call.input
            ev["evaluated_permission"] = "allow"
        elif phase == 5:
            ev["model_request_start_id"] = self.event_id(i - 3)
            ev["is_error"] = False
            ev["model_usage"] = {
                "input_tokens": rng.randint(800, 9000),
                "output_tokens": rng.randint(40, 1400),
                "cache_read_input_tokens": rng.randint(0, 30000),
                "cache_creation_input_tokens": rng.randint(0, 3000),
                "speed": "standard",
            }
        elif phase == 6:
            # Recompute the call made at i-2 so that result and call agree.
            call = make_tool_call(random.Random(self.seed * 1_000_003 + k - 2))
            ev["tool_use_id"] = self.event_id(i - 2)
            ev["content"] = [{"type": "text", "text": call.output}]
            ev["is_error"] = call.is_error
        elif phase == 7:
            ev["content"] = [{"type": "text", "text": rng.choice(AGENT_MESSAGES)}]
        elif phase == 8:
            ev["stop_reason"] = {"type": "end_turn"}
            ev["usage"] = {
                "input_tokens": rng.randint(2000, 20000),
                "output_tokens": rng.randint(100, 3000),
            }
        ev["processed_at"] = fmt_ts(when)
        return ev
