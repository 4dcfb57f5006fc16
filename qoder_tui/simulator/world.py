"""The simulator's world: sessions, threads and their event logs.

Events are stored in the SDK's wire form (plain dicts); the server turns them
into other dialects on the way out.  Nothing here touches the network.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

TERMINAL_TYPES = frozenset({"session.status_terminated", "session.deleted"})


def fmt_ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Log(Protocol):
    """An ordered, append-only sequence of event dicts with an id index."""

    def __len__(self) -> int: ...

    def get(self, index: int) -> dict[str, Any]: ...

    def index_of(self, event_id: str) -> int | None: ...


class EventLog:
    """An in-memory log."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.items)

    def get(self, index: int) -> dict[str, Any]:
        return self.items[index]

    def index_of(self, event_id: str) -> int | None:
        return self._index.get(event_id)

    def append(self, event: dict[str, Any]) -> None:
        self._index[event["id"]] = len(self.items)
        self.items.append(event)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.items)


class IdMaker:
    """Deterministic, time-ordered-looking ids (`evt_019e…`), unique per world."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counter = 0

    def make(self, prefix: str, when: datetime) -> str:
        self.counter += 1
        ms = int(when.timestamp() * 1000) & 0xFFFFFFFFFFFF
        return f"{prefix}_{ms:012x}{self.counter:08x}{self.rng.getrandbits(48):012x}"


@dataclass
class SimThread:
    obj: dict[str, Any]
    log: Any  # a Log

    @property
    def id(self) -> str:
        return str(self.obj["id"])


@dataclass
class SimSession:
    obj: dict[str, Any]
    threads: dict[str, SimThread] = field(default_factory=dict)
    session_log: Any = field(default_factory=EventLog)
    primary_id: str = ""
    builder: Callable[[SimSession], None] | None = None
    live: bool = False
    _changed: asyncio.Event | None = None

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    def ensure_built(self) -> None:
        if self.builder is not None:
            builder, self.builder = self.builder, None
            builder(self)

    def changed_event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def notify(self) -> None:
        if self._changed is not None:
            ev, self._changed = self._changed, None
            ev.set()

    def ended(self) -> bool:
        log = self.session_log
        n = len(log)
        return n > 0 and log.get(n - 1).get("type") in TERMINAL_TYPES


class Writer:
    """Appends events to a session's logs, routing them as the SDK describes.

    Events of the primary thread go to the session log as well; child events
    stay on the child's log unless cross-posted (thread status changes,
    permission requests).
    """

    def __init__(
        self,
        session: SimSession,
        ids: IdMaker,
        start: datetime,
        *,
        time_source: Callable[[], datetime] | None = None,
    ) -> None:
        self.session = session
        self.ids = ids
        self.now = start
        self.time_source = time_source
        self.count = 0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=max(0.0, seconds))

    def emit(
        self,
        thread_id: str,
        type_: str,
        fields: dict[str, Any] | None = None,
        *,
        cross_post: bool = False,
        advance: float = 0.05,
    ) -> dict[str, Any]:
        if self.time_source is not None:
            self.now = max(self.now + timedelta(microseconds=1), self.time_source())
        else:
            self.advance(advance)
        when = self.now
        event: dict[str, Any] = {"id": self.ids.make("evt", when), "type": type_}
        if fields:
            event.update(fields)
        event["processed_at"] = fmt_ts(when)
        s = self.session
        thread = s.threads[thread_id]
        thread.log.append(event)
        if thread_id == s.primary_id or cross_post:
            s.session_log.append(event)
        thread.obj["updated_at"] = event["processed_at"]
        s.obj["updated_at"] = event["processed_at"]
        self.count += 1
        s.notify()
        return event

    def add_thread(
        self,
        *,
        name: str,
        parent_id: str | None,
        created_by_tool_use_id: str | None = None,
        model: str = "ultimate",
    ) -> SimThread:
        when = self.now
        tid = self.ids.make("sthr", when)
        agent_id = self.ids.make("agent", when)
        obj: dict[str, Any] = {
            "id": tid,
            "type": "session_thread",
            "session_id": self.session.id,
            "parent_thread_id": parent_id,
            "agent": {"id": agent_id, "type": "agent", "name": name, "model": model, "version": 1},
            "status": "idle",
            "stats": None,
            "archived_at": None,
            "created_at": fmt_ts(when),
            "updated_at": fmt_ts(when),
        }
        if created_by_tool_use_id:
            obj["created_by_tool_use_id"] = created_by_tool_use_id
        thread = SimThread(obj=obj, log=EventLog())
        self.session.threads[tid] = thread
        if parent_id is None:
            self.session.primary_id = tid
        return thread
