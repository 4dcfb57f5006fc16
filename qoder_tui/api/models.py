"""Pydantic models for the Qoder Cloud Agents API, and the event parser.

Every event, whatever dialect it arrived in (the SDK's wire format or one of
the older documentation generations), is normalised into one internal shape
per event kind.  The parser never raises: unknown types become
:class:`GenericEvent`, unparseable payloads become :class:`MalformedEvent`, and
every event keeps its raw JSON for display.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

from .record import Record
from .sanitize import clean_label, clean_tree, escape_json, needs_cleaning

__all__ = [
    "AgentMessage",
    "AgentRef",
    "Event",
    "GenericEvent",
    "MalformedEvent",
    "ModelRequestEnd",
    "ModelRequestStart",
    "NoteEvent",
    "OutcomeSpan",
    "Page",
    "Session",
    "SessionError",
    "StatusChange",
    "StopReason",
    "SystemMessage",
    "Thinking",
    "Thread",
    "ThreadCreated",
    "ThreadMessage",
    "ToolConfirmation",
    "ToolResult",
    "ToolUse",
    "Usage",
    "UsageSnapshot",
    "UserMessage",
    "fast_dumps",
    "parse_event",
    "parse_ts",
]

# --------------------------------------------------------------------------- helpers

T = TypeVar("T")

_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


def _parse_ts(value: str | None) -> datetime | None:
    """Parse an RFC 3339 timestamp with 0 to 9 fractional digits; None if it isn't one."""
    if not value or not isinstance(value, str):
        return None
    if (
        20 <= len(value) <= 30
        and value[-1] == "Z"
        and value[10] == "T"
        and value[4] == value[7] == "-"
        and value[13] == value[16] == ":"
        and (len(value) == 20 or (value[19] == "." and len(value) >= 22))
    ):
        # The form nearly every server sends: the C parser, ten times the regex's speed.
        # It refuses a fraction that is not all ASCII digits; the length caps it at nine.
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    m = _TS_RE.match(value.strip())
    if not m:
        return None
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(int(year), int(month), int(day), int(hh), int(mm), int(ss), micro)
    except ValueError:
        return None
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        from datetime import timedelta, timezone

        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return dt.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)
    return dt.replace(tzinfo=UTC)


parse_ts = lru_cache(maxsize=4096)(_parse_ts)
"""`_parse_ts`, remembering the newest answers (a store's newest rows are asked often)."""


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return None


def _label(value: Any) -> str | None:
    """A name or title from the server: one line, nothing invisible or reordering."""
    text = _str(value)
    return clean_label(text) if text else text


def _interned(value: Any) -> str | None:
    """A string many events repeat (a thread id): one copy in memory, not one per event."""
    text = _str(value)
    return sys.intern(text) if text else text


def _name(value: Any) -> str | None:
    """A label many events repeat (a tool's or a model's name, a permission, a speed): one
    copy in memory.  (The JSON parser makes a new string for every value it reads.)"""
    text = _label(value)
    return sys.intern(text) if text else text


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return None
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def blocks_to_text(content: Any) -> str:
    """Flatten content (a string, or a list of content blocks) into display text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return str(content)
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
            continue
        if not isinstance(block, dict):
            continue
        btype = block.get("type")
        if btype == "text" or (btype is None and "text" in block):
            parts.append(str(block.get("text") or ""))
        elif btype == "redacted":
            parts.append("[redacted by model policy]")
        elif btype == "image":
            src = _dict(block.get("source"))
            where = src.get("url") or src.get("file_id") or src.get("media_type") or "inline"
            parts.append(f"[image: {where}]")
        elif btype == "document":
            src = _dict(block.get("source"))
            title = block.get("title") or src.get("url") or src.get("file_id") or "document"
            if src.get("type") == "text" and isinstance(src.get("data"), str):
                parts.append(f"[document: {title}]\n{src['data']}")
            else:
                parts.append(f"[document: {title}]")
        elif btype == "search_result":
            title = block.get("title") or ""
            source = block.get("source") or ""
            inner = blocks_to_text(block.get("content"))
            parts.append(f"[search result: {title} <{source}>]\n{inner}".rstrip())
        else:
            parts.append(f"[{btype} block]")
    return "\n".join(parts)


# --------------------------------------------------------------------------- resources


# Session, Thread and AgentRef are slotted dataclasses like the events: `parse`
# below coerces every field itself (and cleans it), so a validating model had
# nothing left to check, and importing and building pydantic's model machinery
# cost about 90 ms of every launch (measured on this 2-core machine).


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class AgentRef(Record):
    """The agent a session runs (its id, name, type, version)."""

    id: str | None = None
    type: str | None = None
    name: str | None = None
    version: int | None = None
    model: Any = None

    @property
    def model_id(self) -> str | None:
        if isinstance(self.model, str):
            return self.model
        if isinstance(self.model, dict):
            return _str(self.model.get("id"))
        return None


def _sum(a: Any, b: Any, sign: int) -> Any:
    return b if a is None and sign > 0 else a if b is None else a + sign * b


@dataclass(slots=True, repr=False, eq=False)
class Usage(Record):
    """Token and credit usage; every field optional (the API sends subsets)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    credits: float | None = None
    speed: str | None = None
    active_seconds: float | None = None

    @classmethod
    def from_raw(cls, raw: Any) -> Usage | None:
        if not isinstance(raw, dict):
            return None
        cache_creation = _int(raw.get("cache_creation_input_tokens"))
        cc = raw.get("cache_creation")
        if cache_creation is None and isinstance(cc, dict):
            parts = [_int(v) for v in cc.values()]
            nums = [p for p in parts if p is not None]
            cache_creation = sum(nums) if nums else None
        credits = _float(raw.get("credits"))
        if credits is None:
            credits = _float(raw.get("total_credits"))
        # In field order (a test checks it): a class called with keywords costs three times
        # as much, and each model request and idle status carries one of these.
        return cls(
            _int(raw.get("input_tokens")),
            _int(raw.get("output_tokens")),
            _int(raw.get("cache_read_input_tokens")),
            cache_creation,
            credits,
            _name(raw.get("speed")),
            _float(raw.get("active_seconds")),
        )

    @property
    def total_tokens(self) -> int:
        return sum(
            v or 0
            for v in (
                self.input_tokens,
                self.output_tokens,
                self.cache_read_input_tokens,
                self.cache_creation_input_tokens,
            )
        )

    _SUMMED = (
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "credits",
    )

    def _combine(self, other: Usage, sign: int) -> Usage:
        """Field by field (those in _SUMMED); a field missing on one side keeps the other's
        value.  Spelled out: a store sums one of these per model request that arrives."""
        return Usage(
            _sum(self.input_tokens, other.input_tokens, sign),
            _sum(self.output_tokens, other.output_tokens, sign),
            _sum(self.cache_read_input_tokens, other.cache_read_input_tokens, sign),
            _sum(self.cache_creation_input_tokens, other.cache_creation_input_tokens, sign),
            _sum(self.credits, other.credits, sign),
        )

    def __add__(self, other: Usage) -> Usage:
        return self._combine(other, 1)

    def __sub__(self, other: Usage) -> Usage:
        return self._combine(other, -1)


@dataclass(slots=True, repr=False, eq=False)
class StopReason(Record):
    """Why a thread or session stopped, and the events it waits on (approvals)."""

    type: str | None = None
    event_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_raw(cls, raw: Any) -> StopReason | None:
        if isinstance(raw, str):
            return cls(type=raw) if raw else None
        if not isinstance(raw, dict) or not raw:
            return None  # `{}` on a running child thread means "none"
        ids = raw.get("event_ids")
        kind = _label(raw.get("type"))
        if not ids and kind in _PLAIN_STOPS:
            return _PLAIN_STOPS[kind]  # one object for every `end_turn`: none per event
        return cls(
            type=kind,
            event_ids=[clean_label(str(i)) for i in ids] if isinstance(ids, list) else [],
        )


_PLAIN_STOPS = {
    kind: StopReason(type=kind)
    for kind in ("end_turn", "requires_action", "retries_exhausted", "budget_reached")
}
"""Shared, never changed: a stop reason that names no events."""


def plain_stop_reason(kind: str | None) -> StopReason:
    """A stop reason naming no events (shared for the usual kinds)."""
    shared = _PLAIN_STOPS.get(kind) if kind is not None else None
    return shared if shared is not None else StopReason(type=kind)


_SESSION_STATUS_MAP = {
    "processing": "running",
    "cancelled": "terminated",
    "canceled": "terminated",
    "canceling": "running",
    "rescheduled": "rescheduling",
}


def normalise_status(status: str | None) -> str:
    """Map every documented status spelling onto the SDK's set (open enum)."""
    if not status:
        return "unknown"
    return _SESSION_STATUS_MAP.get(status, status)


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Session(Record):
    """A session as the list and get endpoints describe it."""

    id: str
    type: str | None = None
    title: str | None = None
    status: str | None = None
    agent: AgentRef | None = None
    agent_id: str | None = None
    environment_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    archived_at: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None

    @property
    def display_status(self) -> str:
        return normalise_status(self.status)

    @property
    def display_title(self) -> str:
        return self.title or (self.agent.name if self.agent and self.agent.name else "") or self.id

    @property
    def usage_model(self) -> Usage | None:
        return Usage.from_raw(self.usage)

    @classmethod
    def parse(cls, raw: Any) -> Session:
        data = clean_tree(raw) if isinstance(raw, dict) else {}
        data["agent"] = _agent(data.get("agent"))
        for key in ("metadata",):
            if not isinstance(data.get(key), dict):
                data[key] = {}
        for key in ("usage", "stats"):
            if not isinstance(data.get(key), dict):
                data[key] = None
        for key in ("title", "status", "created_at", "updated_at", "archived_at"):
            if key in data and not isinstance(data[key], (str, type(None))):
                data[key] = str(data[key])
        data["title"] = _label(data.get("title"))
        data["id"] = clean_label(str(data.get("id") or ""))
        for key in ("type", "agent_id", "environment_id"):
            data[key] = _opt_str(data.get(key))
        return cls(**_known(cls, data))


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Thread(Record):
    """A thread of a session: the coordinator (no parent) or a child."""

    id: str
    type: str | None = None
    session_id: str | None = None
    parent_thread_id: str | None = None
    agent: AgentRef | None = None
    agent_id: str | None = None
    name: str | None = None
    role: str | None = None
    status: str | None = None
    stop_reason: StopReason | None = None
    created_by_tool_use_id: str | None = None
    usage: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None
    archived_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def is_primary(self) -> bool:
        return self.parent_thread_id is None

    @property
    def display_name(self) -> str:
        if self.agent and self.agent.name:
            return self.agent.name
        if self.name:
            return self.name
        if self.is_primary:
            return "coordinator"
        if self.agent and self.agent.id:
            return self.agent.id
        return self.id

    @property
    def display_status(self) -> str:
        return normalise_status(self.status)

    @classmethod
    def parse(cls, raw: Any) -> Thread:
        data = clean_tree(raw) if isinstance(raw, dict) else {}
        data["agent"] = _agent(data.get("agent"))
        data["stop_reason"] = StopReason.from_raw(data.get("stop_reason"))
        for key in ("usage", "stats"):
            if not isinstance(data.get(key), dict):
                data[key] = None
        data["id"] = clean_label(str(data.get("id") or ""))
        for key in ("parent_thread_id", "name", "role", "status", "session_id"):
            if key in data and not isinstance(data[key], (str, type(None))):
                data[key] = str(data[key])
        data["name"] = _label(data.get("name"))
        for key in (
            "type",
            "agent_id",
            "created_by_tool_use_id",
            "archived_at",
            "created_at",
            "updated_at",
        ):
            data[key] = _opt_str(data.get(key))
        return cls(**_known(cls, data))


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The keys of `data` that are fields of the dataclass `cls` (the rest is not kept)."""
    names = cls.__dataclass_fields__  # type: ignore[attr-defined]
    return {k: v for k, v in data.items() if k in names}


def _opt_str(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def _agent(value: Any) -> AgentRef | None:
    """An agent object (or a bare agent id) with its name made safe to show."""
    if isinstance(value, str):
        return AgentRef(id=value)
    if not isinstance(value, dict):
        return None
    agent = dict(value)
    for key in ("id", "name", "type"):
        if key in agent and not isinstance(agent[key], (str, type(None))):
            agent[key] = str(agent[key])
    agent["name"] = _label(agent.get("name"))
    if not isinstance(agent.get("version"), (int, type(None))) or isinstance(
        agent.get("version"), bool
    ):
        agent["version"] = None
    return AgentRef(**_known(AgentRef, agent))


@dataclass
class Page(Generic[T]):
    """One page of a list endpoint (the §2.2 envelope)."""

    data: list[T]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False
    next_page: str | None = None


# --------------------------------------------------------------------------- events


class _Timed(Record):
    """Where an event keeps its parsed time: not a field (not in rows, exports or equality).

    The follower, then each store the event goes into, asks for it: parsed once, at
    parse_event, instead of once per ask (an LRU of times misses in a burst of thousands).
    """

    __slots__ = ("_at",)
    _at: datetime | None

    def _keep_time(self, at: datetime | None) -> datetime | None:
        self._at = at
        return at


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Event(_Timed):
    """The fields every event kind shares.

    Slotted dataclasses, not pydantic models: an event is one small object
    with no per-instance dict or field set (the parser has already coerced
    every value), which halves what a loaded event costs.
    """

    kind: ClassVar[str] = "event"

    id: str
    type: str
    processed_at: str | None = None
    thread_id: str | None = None
    """`session_thread_id`: the owning thread, or the child a cross-posted event came from."""
    raw_json: str = ""
    """The event exactly as received (compact JSON), for the raw view, copy and export."""

    @property
    def time(self) -> datetime | None:
        try:
            return self._at
        except AttributeError:  # built from a row, or by hand: parsed on first ask
            return self._keep_time(parse_ts(self.processed_at))

    @property
    def hhmmss(self) -> str:
        ts = self.processed_at
        if ts and len(ts) >= 19 and ts[10] in "Tt ":
            return ts[11:19]
        return "--:--:--"

    @property
    def raw(self) -> Any:
        try:
            return json.loads(self.raw_json)
        except (ValueError, RecursionError):
            return self.raw_json


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class UserMessage(Event):
    """`user.message`: what a person (or a client) sent."""

    kind: ClassVar[str] = "user_message"
    text: str = ""


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class SystemMessage(Event):
    """`system.message`: an instruction from the system."""

    kind: ClassVar[str] = "system_message"
    text: str = ""


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class AgentMessage(Event):
    """`agent.message`: what the agent said (markdown)."""

    kind: ClassVar[str] = "agent_message"
    text: str = ""
    partial: bool = False
    """True for the G1 `delta: true` chunk form."""


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Thinking(Event):
    """`agent.thinking`: the agent's reasoning, or a sign of it."""

    kind: ClassVar[str] = "thinking"
    text: str | None = None
    """None when the server sends thinking as a progress signal with no content."""


ToolFamily = Literal["builtin", "mcp", "custom"]


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ToolUse(Event):
    """A tool call (built-in, MCP or custom), with its input."""

    kind: ClassVar[str] = "tool_use"
    name: str = "?"
    input: dict[str, Any] = field(default_factory=dict)
    call_id: str = ""
    """The key its result points at (`tool_use_id` when present, else the event id)."""
    family: ToolFamily = "builtin"
    mcp_server: str | None = None
    permission: str | None = None
    requires_confirmation: bool = False


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ToolResult(Event):
    """A tool call's result, paired with the call by `call_id`."""

    kind: ClassVar[str] = "tool_result"
    call_id: str = ""
    text: str = ""
    is_error: bool = False
    family: ToolFamily = "builtin"
    from_user: bool = False


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ToolConfirmation(Event):
    """`user.tool_confirmation`: an approval or denial of a call."""

    kind: ClassVar[str] = "tool_confirmation"
    call_id: str = ""
    result: str | None = None
    deny_message: str | None = None


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ModelRequestStart(Event):
    """`span.model_request_start`: a request to the model began."""

    kind: ClassVar[str] = "span_start"
    model: str | None = None


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ModelRequestEnd(Event):
    """`span.model_request_end`: it ended, with its usage."""

    kind: ClassVar[str] = "span_end"
    start_id: str | None = None
    is_error: bool = False
    usage: Usage | None = None
    model: str | None = None


StatusScope = Literal["session", "thread"]


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class StatusChange(Event):
    """A session or thread went running, idle, rescheduled or terminated."""

    kind: ClassVar[str] = "status"
    scope: StatusScope = "session"
    status: str = "unknown"
    """running | idle | rescheduled | terminated | deleted"""
    stop_reason: StopReason | None = None
    usage: Usage | None = None
    agent_name: str | None = None
    reason: str | None = None


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ThreadCreated(Event):
    """`session.thread_created`: a child thread began."""

    kind: ClassVar[str] = "thread_created"
    child_thread_id: str | None = None
    parent_thread_id: str | None = None
    agent_name: str | None = None
    created_by_tool_use_id: str | None = None


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class SessionError(Event):
    """`session.error`: an error, with its retry state."""

    kind: ClassVar[str] = "error"
    error_type: str | None = None
    message: str = ""
    retry_status: str | None = None
    code: str | None = None
    mcp_server: str | None = None


Direction = Literal["sent", "received"]


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ThreadMessage(Event):
    """A handoff between threads, as the sender or the receiver sees it."""

    kind: ClassVar[str] = "handoff"
    direction: Direction = "sent"
    from_thread_id: str | None = None
    to_thread_id: str | None = None
    peer_agent_name: str | None = None
    text: str = ""
    is_error: bool = False
    declared_direction: str | None = None
    """The G2 `direction` field (`coordinator_to_child`, ...) when the server sent one."""

    @property
    def peer_thread_id(self) -> str | None:
        return self.to_thread_id if self.direction == "sent" else self.from_thread_id


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class UsageSnapshot(Event):
    """`session.usage`: the session's cumulative usage so far."""

    kind: ClassVar[str] = "usage"
    usage: Usage | None = None


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class OutcomeSpan(Event):
    """`span.outcome_evaluation_*`: an outcome's evaluation began or ended."""

    kind: ClassVar[str] = "outcome"
    phase: str = "start"
    outcome_id: str | None = None
    iteration: int | None = None
    result: str | None = None
    explanation: str | None = None


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class NoteEvent(Event):
    """A known event type with nothing to show beyond a one-line summary."""

    kind: ClassVar[str] = "note"
    summary: str = ""


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class GenericEvent(Event):
    """An event type this client does not know; shown with its JSON."""

    kind: ClassVar[str] = "generic"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class MalformedEvent(Event):
    """A frame or list item that could not be read as an event at all."""

    kind: ClassVar[str] = "malformed"
    problem: str = ""


EVENT_CLASSES: tuple[type[Event], ...] = (
    UserMessage,
    SystemMessage,
    AgentMessage,
    Thinking,
    ToolUse,
    ToolResult,
    ToolConfirmation,
    ModelRequestStart,
    ModelRequestEnd,
    StatusChange,
    ThreadCreated,
    SessionError,
    ThreadMessage,
    UsageSnapshot,
    OutcomeSpan,
    NoteEvent,
    GenericEvent,
    MalformedEvent,
)
"""Every kind the parser makes (the stores pack each of them into rows)."""


_COMMON_FIELDS = ("id", "type", "processed_at", "thread_id", "raw_json")


def _maker(cls: type[Event]) -> Callable[..., Any]:
    """How the parser makes a `cls`: the fields every event shares positionally (in
    _COMMON_FIELDS order), the kind's own by keyword, with the class's defaults.

    Generated from the fields, as dataclasses make ``__init__``; the same stores, but a
    plain function call: calling the class goes through type.__call__ and a keyword
    dict (1.1 against 0.3 us for a status event, and every live event is made once).
    """
    own = [f for f in fields(cls) if f.name not in _COMMON_FIELDS]
    assert [f.name for f in fields(cls)][: len(_COMMON_FIELDS)] == list(_COMMON_FIELDS)
    assert not hasattr(cls, "__post_init__"), "a maker does not run __post_init__"
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls, "unset": _UNSET}
    params, stores = [], []
    for f in own:
        if f.default_factory is not MISSING:
            scope[f"factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=unset")
            value = f"factory_{f.name}() if {f.name} is unset else {f.name}"
        else:
            assert f.default is not MISSING, f"{cls.__name__}.{f.name} needs a default"
            scope[f"default_{f.name}"] = f.default
            params.append(f"{f.name}=default_{f.name}")
            value = f.name
        stores.append(f"    e.{f.name} = {value}\n")
    signature = ", ".join([*_COMMON_FIELDS, *(["*", *params] if params else [])])
    common = "".join(f"    e.{n} = {n}\n" for n in _COMMON_FIELDS)
    source = f"def make({signature}):\n    e = new(cls)\n{common}{''.join(stores)}    return e\n"
    exec(compile(source, f"<make {cls.__name__}>", "exec"), scope)
    return cast(Callable[..., Any], scope["make"])


class _Makers(dict[type[Event], Callable[..., Any]]):
    """Each kind's maker, made on first use: compiling all of them at import would cost a
    launch 2-4 ms before its first paint."""

    def __missing__(self, cls: type[Event]) -> Callable[..., Any]:
        made = self[cls] = _maker(cls)
        return made


_UNSET: Any = object()
_MAKE = _Makers()


# --------------------------------------------------------------------------- parser

_STATUS_TYPES: dict[str, tuple[StatusScope, str]] = {
    "session.status_running": ("session", "running"),
    "session.status_idle": ("session", "idle"),
    "session.status_rescheduled": ("session", "rescheduled"),
    "session.status_terminated": ("session", "terminated"),
    "session.deleted": ("session", "deleted"),
    "terminated": ("session", "terminated"),
    "session.thread_status_running": ("thread", "running"),
    "session.thread_status_idle": ("thread", "idle"),
    "session.thread_status_rescheduled": ("thread", "rescheduled"),
    "session.thread_status_terminated": ("thread", "terminated"),
}

_NOTE_SUMMARIES = {
    "user.interrupt": "interrupt requested",
    "agent.thread_context_compacted": "context compacted",
    "session.updated": "session updated",
    "user.define_outcome": "outcome defined",
    "agent.artifact_delivered": "artifact delivered",
}

TOOL_USE_TYPES = ("agent.tool_use", "agent.mcp_tool_use", "agent.custom_tool_use")
TOOL_RESULT_TYPES = (
    "agent.tool_result",
    "agent.mcp_tool_result",
    "user.custom_tool_result",
    "user.tool_result",
)
STATUS_TYPES = tuple(_STATUS_TYPES)
HANDOFF_TYPES = ("agent.thread_message_sent", "agent.thread_message_received")
MODEL_REQUEST_TYPES = ("span.model_request_start", "span.model_request_end")
REORDER_SLACK = timedelta(seconds=5)
"""Events may arrive a little out of time order (a child's event cross-posted to the session
stream); within this slack, duplicates are caught by id, and nothing is dropped for its time.
An event older than the newest delivered by more than this is history replayed, and dropped."""

TERMINAL_TYPES = frozenset({"session.status_terminated", "session.deleted", "terminated"})


_Common = tuple[str, str, str | None, str | None, str]
"""The fields every event shares, in _COMMON_FIELDS order."""


def _common(raw: dict[str, Any], ev_id: str, ev_type: str, raw_json: str) -> _Common:
    return (
        ev_id,
        ev_type,
        _str(raw.get("processed_at")) or _str(raw.get("created_at")),
        _interned(raw.get("session_thread_id")),
        raw_json,
    )


def _note_summary(ev_type: str, raw: dict[str, Any]) -> str:
    base = _NOTE_SUMMARIES.get(ev_type, ev_type)
    if ev_type == "session.updated":
        changed = [k for k in ("title", "agent", "metadata", "budget") if k in raw]
        if raw.get("title"):
            return f"{base}: title → {raw['title']!r}"
        return f"{base}: {', '.join(changed)}" if changed else base
    if ev_type == "user.define_outcome":
        desc = raw.get("description") or raw.get("outcome") or ""
        return f"{base}: {desc}" if desc else base
    if ev_type == "agent.artifact_delivered":
        name = raw.get("original_filename") or raw.get("file_id") or ""
        size = _int(raw.get("size"))
        extra = f" ({size:,} bytes)" if size is not None else ""
        return f"{base}: {name}{extra}" if name else base
    if ev_type == "user.interrupt" and raw.get("session_thread_id"):
        return f"{base} for one thread"
    return base


# Each kind's builder: (the raw object, the fields every event shares, the type) to its event.
# Every value is already coerced to its field's type by the helpers: no validation pass.
_Builder = Callable[[dict[str, Any], _Common, str], Event]


def _user_message(raw: dict[str, Any], c: _Common, t: str) -> Event:
    return _MAKE[UserMessage](*c, text=blocks_to_text(raw.get("content")))


def _system_message(raw: dict[str, Any], c: _Common, t: str) -> Event:
    return _MAKE[SystemMessage](*c, text=blocks_to_text(raw.get("content")))


def _agent_message(raw: dict[str, Any], c: _Common, t: str) -> Event:
    return _MAKE[AgentMessage](
        *c, text=blocks_to_text(raw.get("content")), partial=raw.get("delta") is True
    )


def _thinking(raw: dict[str, Any], c: _Common, t: str) -> Event:
    text = raw.get("thinking")
    if not isinstance(text, str):
        text = raw.get("content")
        text = blocks_to_text(text) if text is not None else None
    return _MAKE[Thinking](*c, text=text or None)


def _tool_use(raw: dict[str, Any], c: _Common, t: str) -> Event:
    family: ToolFamily = (
        "mcp"
        if t == "agent.mcp_tool_use"
        else "custom"
        if t == "agent.custom_tool_use"
        else "builtin"
    )
    tool_input = raw.get("input")
    if tool_input is None:
        tool_input = raw.get("tool_input")
    if isinstance(tool_input, str):
        try:
            parsed = json.loads(tool_input)
            tool_input = parsed if isinstance(parsed, dict) else {"value": parsed}
        except ValueError:
            tool_input = {"value": tool_input}
    elif not isinstance(tool_input, dict):
        tool_input = {} if tool_input is None else {"value": tool_input}
    return _MAKE[ToolUse](
        *c,
        name=_name(raw.get("name")) or _name(raw.get("tool_name")) or "?",
        input=tool_input,
        call_id=_str(raw.get("tool_use_id")) or c[0],
        family=family,
        mcp_server=_label(raw.get("mcp_server_name")),
        permission=_interned(raw.get("evaluated_permission")),
        requires_confirmation=raw.get("requires_confirmation") is True
        or raw.get("evaluated_permission") == "ask",
    )


def _tool_result(raw: dict[str, Any], c: _Common, t: str) -> Event:
    call_id = (
        _str(raw.get("tool_use_id"))
        or _str(raw.get("mcp_tool_use_id"))
        or _str(raw.get("custom_tool_use_id"))
        or ""
    )
    body = raw.get("content")
    if body is None:
        body = raw.get("output")
    family: ToolFamily = (
        "mcp"
        if t == "agent.mcp_tool_result"
        else "custom"
        if t == "user.custom_tool_result"
        else "builtin"
    )
    return _MAKE[ToolResult](
        *c,
        call_id=call_id,
        text=blocks_to_text(body),
        is_error=raw.get("is_error") is True,
        family=family,
        from_user=t.startswith("user."),
    )


def _tool_confirmation(raw: dict[str, Any], c: _Common, t: str) -> Event:
    return _MAKE[ToolConfirmation](
        *c,
        call_id=_str(raw.get("tool_use_id")) or "",
        result=_str(raw.get("result")),
        deny_message=_str(raw.get("deny_message")),
    )


def _request_start(raw: dict[str, Any], c: _Common, t: str) -> Event:
    return _MAKE[ModelRequestStart](*c, model=_model_name(raw.get("model")))


def _request_end(raw: dict[str, Any], c: _Common, t: str) -> Event:
    usage_raw = raw.get("model_usage")
    if usage_raw is None:
        usage_raw = raw.get("usage")
    return _MAKE[ModelRequestEnd](
        *c,
        start_id=_str(raw.get("model_request_start_id")) or _str(raw.get("span_id")),
        is_error=raw.get("is_error") is True,
        usage=Usage.from_raw(usage_raw),
        model=_model_name(raw.get("model")),
    )


def _status_change(raw: dict[str, Any], c: _Common, t: str) -> Event:
    scope, status = _STATUS_TYPES[t]
    return _MAKE[StatusChange](
        *c,
        scope=scope,
        status=status,
        stop_reason=StopReason.from_raw(raw.get("stop_reason")),
        usage=Usage.from_raw(raw.get("usage")),
        agent_name=_label(raw.get("agent_name")),
        reason=_str(raw.get("reason")),
    )


def _thread_created(raw: dict[str, Any], c: _Common, t: str) -> Event:
    # Written to the parent's stream; its `session_thread_id` names the new child.
    c = (c[0], c[1], c[2], None, c[4])
    return _MAKE[ThreadCreated](
        *c,
        child_thread_id=_str(raw.get("session_thread_id")),
        parent_thread_id=_str(raw.get("parent_thread_id")),
        agent_name=_label(raw.get("agent_name")) or _label(raw.get("name")),
        created_by_tool_use_id=_str(raw.get("created_by_tool_use_id")),
    )


def _session_error(raw: dict[str, Any], c: _Common, t: str) -> Event:
    err = raw.get("error")
    if isinstance(err, dict):
        retry = err.get("retry_status")
        retry_type = _str(retry.get("type")) if isinstance(retry, dict) else _str(retry)
        return _MAKE[SessionError](
            *c,
            error_type=_label(err.get("type")),
            message=_str(err.get("message")) or "",
            retry_status=retry_type,
            code=_label(err.get("qoder_error_code"))
            or _label(err.get("code"))
            or _label(raw.get("code")),
            mcp_server=_label(err.get("mcp_server_name")),
        )
    return _MAKE[SessionError](
        *c,
        error_type=None,
        message=_str(err) or _str(raw.get("message")) or "",
        code=_label(raw.get("code")),
    )


def _handoff(raw: dict[str, Any], c: _Common, t: str) -> Event:
    direction: Direction = "sent" if t.endswith("_sent") else "received"
    agent = (
        _label(raw.get("to_agent_name"))
        if direction == "sent"
        else _label(raw.get("from_agent_name"))
    )
    return _MAKE[ThreadMessage](
        *c,
        direction=direction,
        from_thread_id=_str(raw.get("from_session_thread_id")),
        to_thread_id=_str(raw.get("to_session_thread_id")),
        peer_agent_name=agent,
        text=blocks_to_text(raw.get("content")),
        is_error=raw.get("is_error") is True,
        declared_direction=_str(raw.get("direction")),
    )


def _usage_snapshot(raw: dict[str, Any], c: _Common, t: str) -> Event:
    usage_raw = dict(_dict(raw.get("usage")))
    for key in ("total_credits", "model_credits", "sandbox_runtime_credits"):
        if key in raw and key not in usage_raw:
            usage_raw[key] = raw[key]
    return _MAKE[UsageSnapshot](*c, usage=Usage.from_raw(usage_raw))


def _outcome_span(raw: dict[str, Any], c: _Common, t: str) -> Event:
    return _MAKE[OutcomeSpan](
        *c,
        phase=t.rsplit("_", 1)[-1],
        outcome_id=_str(raw.get("outcome_id")),
        iteration=_int(raw.get("iteration")),
        result=_str(raw.get("result")),
        explanation=_str(raw.get("explanation")),
    )


def _note(raw: dict[str, Any], c: _Common, t: str) -> Event:
    return _MAKE[NoteEvent](*c, summary=_note_summary(t, raw))


def _generic(raw: dict[str, Any], c: _Common, t: str) -> Event:
    return _MAKE[GenericEvent](*c)


_BUILDERS: dict[str, _Builder] = {
    "user.message": _user_message,
    "system.message": _system_message,
    "agent.message": _agent_message,
    "agent.thinking": _thinking,
    **dict.fromkeys(TOOL_USE_TYPES, _tool_use),
    **dict.fromkeys(TOOL_RESULT_TYPES, _tool_result),
    "user.tool_confirmation": _tool_confirmation,
    "span.model_request_start": _request_start,
    "span.model_request_end": _request_end,
    **dict.fromkeys(STATUS_TYPES, _status_change),
    "session.thread_created": _thread_created,
    "session.error": _session_error,
    **dict.fromkeys(HANDOFF_TYPES, _handoff),
    "session.usage": _usage_snapshot,
    **dict.fromkeys(_NOTE_SUMMARIES, _note),
}
"""Each event type parsed into its own model, and how (span.outcome_evaluation_* aside:
those are recognised by prefix, and any other type is a GenericEvent)."""

KNOWN_TYPES = frozenset(_BUILDERS)
"""Every event type parsed into its own model, by exact name.  Server-side type filters are
built from these."""

_KNOWN_NAMES = {name: name for name in map(sys.intern, KNOWN_TYPES)}


def _build(raw: dict[str, Any], ev_id: str, ev_type: str, raw_json: str) -> Event:
    builder = _BUILDERS.get(ev_type)
    if builder is None:
        builder = _outcome_span if ev_type.startswith("span.outcome_evaluation_") else _generic
    event = builder(raw, _common(raw, ev_id, ev_type, raw_json), ev_type)
    event._keep_time(_parse_ts(event.processed_at))
    return event


def _model_name(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return _name(value) if isinstance(value, str) else None


MAX_RAW_CHARS = 1_000_000
"""The most of an unreadable payload kept for display: enough to see what went wrong."""


def _digest_id(text: str) -> str:
    """A stable id for something without one: the same bytes get the same id on a replay."""
    return "malformed:" + hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:16]


def _malformed(text: str, problem: str, ev_id: str | None, ev_type: str | None) -> MalformedEvent:
    shown = text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + "…"
    return MalformedEvent(
        id=clean_label(ev_id) if ev_id else _digest_id(text),
        type=clean_label(ev_type) if ev_type else "malformed",
        raw_json=escape_json(shown),
        problem=clean_label(problem)[:500],
    )


_fast_json: Callable[[str], Any] = json.loads
"""The JSON parser for events and pages: json's, until load_fast_json."""


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_fast_dumps: Callable[[Any], str] = _json_dumps
"""Compact JSON text of a decoded value: json's, until load_fast_json."""


def load_fast_json() -> None:
    """From now on, parse with pydantic-core's parser (2.7 times json's speed on events),
    and write compact JSON with its writer (4 times json's on tool inputs).

    Its import costs 15-40 ms (its schema module and typing_extensions come with it), so
    the app loads it once its first screen is drawn, not before.
    """
    global _fast_json, _fast_dumps
    from pydantic_core import from_json, to_json

    def dumps(value: Any) -> str:
        try:
            # NaN and Infinity as json writes them, so that json reads the text back (the
            # default in 2.50; said, for older pydantic-core releases).
            return to_json(value, inf_nan_mode="constants").decode()
        except (ValueError, TypeError):  # a lone surrogate, which only json's writer writes
            return _json_dumps(value)

    def loads(text: str) -> Any:
        # Keys are cached (a few dozen names, in every event), values not: ids and times
        # are new in each event, and caching them cost a quarter of the parse here
        # (1.8 against 2.5 us an event).
        return from_json(text, cache_strings="keys")

    _fast_json, _fast_dumps = loads, dumps


def fast_dumps(value: Any) -> str:
    """A decoded JSON value as compact JSON text (non-ASCII kept), which json.loads reads
    back equal: pydantic-core's writer once loaded, json's before."""
    return _fast_dumps(value)


def fast_json(text: str) -> Any:
    """JSON text to Python with the faster parser loaded (raises ValueError, RecursionError)."""
    return _fast_json(text)


def _loads(text: str) -> Any:
    """JSON text to Python: the fast parser, and json's own when that one refuses, for its
    exact error (or its RecursionError)."""
    try:
        return _fast_json(text)
    except ValueError:
        return json.loads(text)


def _compact(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def parse_event(
    payload: Any,
    *,
    sse_id: str | None = None,
    sse_event: str | None = None,
    raw_json: str | None = None,
) -> Event:
    """Parse one event from a list item or an SSE frame.  Never raises.

    `payload` is either the decoded JSON object or the raw `data:` text.  The
    SSE `id:` and `event:` fields fill in `id` / `type` when the JSON lacks
    them (G1 catalog frames carry only the payload, D25), and the event's
    JSON text (`raw_json`, what the raw view, copy and `tail --json` show) is
    the merged object: one JSON text per event, used everywhere.  Every string
    is sanitised here (:mod:`.sanitize`), so nothing downstream can reach a
    terminal raw.
    """
    text: str | None = raw_json
    try:
        if isinstance(payload, (str, bytes)):
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
            try:
                payload = _loads(text)
            except json.JSONDecodeError as exc:
                return _malformed(
                    text, f"not valid JSON ({exc.msg} at char {exc.pos})", sse_id, sse_event
                )
            except RecursionError:
                return _malformed(text, "nested too deeply to read", sse_id, sse_event)
        if not isinstance(payload, dict):
            shown = text if text is not None else json.dumps(payload)
            return _malformed(
                shown, f"expected a JSON object, got {type(payload).__name__}", sse_id, sse_event
            )
        merged = False
        ev_id = _str(payload.get("id"))
        if ev_id is None and sse_id:
            payload["id"] = ev_id = sse_id
            merged = True
        ev_type = _str(payload.get("type"))
        if ev_type is None and sse_event:
            payload["type"] = ev_type = sse_event
            merged = True
        if text is None or merged or "\n" in text or "\r" in text:
            text = _compact(payload)
        if needs_cleaning(text):
            payload = clean_tree(payload)
            text = escape_json(text)
            ev_id = _str(payload.get("id"))
            ev_type = _str(payload.get("type"))
        if not ev_id or not ev_type:
            missing = " and ".join(n for n, v in (("id", ev_id), ("type", ev_type)) if not v)
            return _malformed(text, f"the event has no {missing}", ev_id, ev_type)
        known = _KNOWN_NAMES.get(ev_type)  # (clean already, and one copy in memory)
        return _build(payload, clean_label(ev_id), known or sys.intern(clean_label(ev_type)), text)
    except Exception as exc:  # the parser must never raise, whatever arrives
        shown = text if isinstance(text, str) else repr(payload)[:10000]
        return _malformed(
            shown, f"could not be read: {type(exc).__name__}: {exc}", sse_id, sse_event
        )


def event_fields(
    event: Event, *, exclude: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """An event's fields as plain data (nested usage and stop reasons as dicts)."""
    return {k: v for k, v in asdict(event).items() if k not in exclude}


def is_terminal(event: Event) -> bool:
    return event.type in TERMINAL_TYPES
