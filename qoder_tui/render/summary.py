"""Plain-text summaries of events: the `tail` command's lines and the log's headers.

Pure functions, no Rich and no Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..api.models import (
    AgentMessage,
    Event,
    GenericEvent,
    MalformedEvent,
    ModelRequestEnd,
    ModelRequestStart,
    NoteEvent,
    OutcomeSpan,
    SessionError,
    StatusChange,
    SystemMessage,
    Thinking,
    ThreadCreated,
    ThreadMessage,
    ToolConfirmation,
    ToolResult,
    ToolUse,
    Usage,
    UsageSnapshot,
    UserMessage,
)
from ..api.sanitize import clean_label, escape_json

INPUT_KEYS = (
    "command",
    "file_path",
    "path",
    "pattern",
    "url",
    "query",
    "agent",
    "message",
    "notebook_path",
)


def one_line(text: str, limit: int = 120) -> str:
    """The text on one line, at most `limit` characters, nothing invisible or reordering in it.

    Reads only as much of the text as the line can show (a 10 MB output costs
    the same as a short one)."""
    head = text[: limit * 4 + 64]
    flat = " ".join(head.split())
    if len(flat) > limit or len(head) < len(text):
        flat = flat[: limit - 1] + "…" if len(flat) >= limit else flat + "…"
    return clean_label(flat)


def age_words(when: datetime | None, now: datetime) -> str:
    """How long ago, in one short word: 42s, 3m, 2h, 5d ("" when not known)."""
    if when is None:
        return ""
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def duration_text(seconds: float) -> str:
    """A wait as a person reads it: 42s, 3m07s, 2h05m."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{(whole % 3600) // 60:02d}m"


def first_line(text: str) -> str:
    """The first line with something on it (reading no further than it)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        line = text[start:end].strip()
        if line:
            return line
        start = end + 1
    return ""


def tool_input_summary(tool: ToolUse, limit: int = 100) -> str:
    """The tool's input the way a person reads it: the command, the path, the pattern."""
    data = tool.input
    name = tool.name
    if name == "Bash" and isinstance(data.get("command"), str):
        return one_line("$ " + data["command"], limit)
    if name in ("Read", "Write", "Edit", "MultiEdit", "NotebookEdit"):
        path = data.get("file_path") or data.get("path") or data.get("notebook_path")
        if isinstance(path, str):
            extra = ""
            if name == "Read" and isinstance(data.get("view_range"), list):
                extra = " lines " + "-".join(str(v) for v in data["view_range"])
            if name == "Edit" and data.get("replace_all"):
                extra = " (replace all)"
            return one_line(path + extra, limit)
    if name in ("Grep", "Glob") and isinstance(data.get("pattern"), str):
        where = data.get("path")
        return one_line(
            f"{data['pattern']!r}" + (f" in {where}" if isinstance(where, str) else ""), limit
        )
    if name in ("WebFetch",) and isinstance(data.get("url"), str):
        return one_line(data["url"], limit)
    if name in ("WebSearch",) and isinstance(data.get("query"), str):
        return one_line(repr(data["query"]), limit)
    for key in INPUT_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            if key == "agent" and isinstance(data.get("message"), str):
                return one_line(f"→ {value}: {data['message']}", limit)
            return one_line(value, limit)
    if not data:
        return ""
    parts = []
    for key, value in list(data.items())[:3]:
        shown = value if isinstance(value, (int, float, bool)) else one_line(str(value), 40)
        parts.append(f"{key}={shown}")
    return one_line(", ".join(parts), limit)


def usage_summary(usage: Usage | None) -> str:
    if usage is None:
        return ""
    parts: list[str] = []
    if usage.input_tokens is not None:
        parts.append(f"in {usage.input_tokens:,}")
    if usage.output_tokens is not None:
        parts.append(f"out {usage.output_tokens:,}")
    if usage.cache_read_input_tokens:
        parts.append(f"cache read {usage.cache_read_input_tokens:,}")
    if usage.cache_creation_input_tokens:
        parts.append(f"cache write {usage.cache_creation_input_tokens:,}")
    if usage.credits is not None:
        parts.append(f"{usage.credits:g} credits")
    return " · ".join(parts)


def stop_reason_summary(event: StatusChange) -> str:
    sr = event.stop_reason
    if sr is None or not sr.type:
        return ""
    if sr.type == "requires_action":
        n = len(sr.event_ids)
        return f"requires action: waiting on {n} call{'s' if n != 1 else ''}"
    return sr.type.replace("_", " ")


STATUS_WORDS = {
    "running": "running",
    "idle": "idle",
    "rescheduled": "rescheduled (retrying)",
    "terminated": "terminated",
    "deleted": "deleted",
}


def _status_label(event: StatusChange) -> str:
    return "status" if event.scope == "session" else "thread"


def _tool_label(event: ToolUse) -> str:
    return {"mcp": "mcp tool", "custom": "custom tool"}.get(event.family, "tool")


LABELS: dict[type[Event], str | Callable[[Any], str]] = {
    UserMessage: "user",
    SystemMessage: "system",
    AgentMessage: "agent",
    Thinking: "thinking",
    ToolUse: _tool_label,
    ToolResult: "result",
    ToolConfirmation: "confirm",
    ModelRequestStart: "model ▸",
    ModelRequestEnd: "model",
    StatusChange: _status_label,
    ThreadCreated: "spawn",
    SessionError: "error",
    ThreadMessage: "handoff",
    UsageSnapshot: "usage",
    OutcomeSpan: "outcome",
    NoteEvent: "note",
    MalformedEvent: "malformed",
    GenericEvent: "event",
}
"""Each event kind's label: a word, or how to choose one (the parser makes exactly these
classes, so the table is looked up by the event's own class)."""


def type_label(event: Event) -> str:
    """A short, stable label of the event's kind."""
    label = LABELS.get(type(event), "event")
    return label if isinstance(label, str) else label(event)


# One line per kind: (event, the peer's name for a handoff, the length limit) -> text.


def _message_summary(event: UserMessage | SystemMessage, peer: str | None, limit: int) -> str:
    return one_line(event.text, limit)


def _agent_summary(event: AgentMessage, peer: str | None, limit: int) -> str:
    return one_line(event.text, limit) + (" (partial)" if event.partial else "")


def _thinking_summary(event: Thinking, peer: str | None, limit: int) -> str:
    return one_line(event.text, limit) if event.text else "thinking…"


def _tool_summary(event: ToolUse, peer: str | None, limit: int) -> str:
    head = event.name if event.family != "mcp" else f"{event.mcp_server or 'mcp'}/{event.name}"
    detail = tool_input_summary(event, limit - len(head) - 2)
    ask = " [needs approval]" if event.requires_confirmation else ""
    return f"{head} {detail}{ask}".rstrip()


def _result_summary(event: ToolResult, peer: str | None, limit: int) -> str:
    mark = "error: " if event.is_error else ""
    first = first_line(event.text) or "(no output)"
    return one_line(f"{mark}{first}", limit)


def _confirmation_summary(event: ToolConfirmation, peer: str | None, limit: int) -> str:
    text = f"{event.result or '?'} {event.call_id}"
    return text + (f": {event.deny_message}" if event.deny_message else "")


def _span_start_summary(event: ModelRequestStart, peer: str | None, limit: int) -> str:
    return f"request started{' · ' + event.model if event.model else ''}"


def _span_end_summary(event: ModelRequestEnd, peer: str | None, limit: int) -> str:
    bits = [b for b in (event.model, usage_summary(event.usage)) if b]
    err = "failed · " if event.is_error else ""
    return err + (" · ".join(bits) if bits else "request finished")


def _status_summary(event: StatusChange, peer: str | None, limit: int) -> str:
    word = STATUS_WORDS.get(event.status, event.status)
    who = f"{event.agent_name} " if event.scope == "thread" and event.agent_name else ""
    bits = [f"{who}{word}"]
    stop = stop_reason_summary(event)
    if stop:
        bits.append(stop)
    if event.usage is not None:
        us = usage_summary(event.usage)
        if us:
            bits.append(us)
    if event.reason:
        bits.append(event.reason)
    return " · ".join(bits)


def _spawn_summary(event: ThreadCreated, peer: str | None, limit: int) -> str:
    return f"started {event.agent_name or 'a child agent'} ({event.child_thread_id or '?'})"


def _error_summary(event: SessionError, peer: str | None, limit: int) -> str:
    kind = event.error_type or event.code or "error"
    retry = f" [{event.retry_status}]" if event.retry_status else ""
    return one_line(f"{kind}{retry}: {event.message}", limit)


def _handoff_summary(event: ThreadMessage, peer: str | None, limit: int) -> str:
    peer = peer or event.peer_agent_name or event.peer_thread_id or "coordinator"
    arrow = f"→ {peer}" if event.direction == "sent" else f"← {peer}"
    return one_line(f"{arrow}: {event.text}", limit)


def _usage_snapshot_summary(event: UsageSnapshot, peer: str | None, limit: int) -> str:
    return usage_summary(event.usage) or "usage snapshot"


def _outcome_summary(event: OutcomeSpan, peer: str | None, limit: int) -> str:
    bits = [f"evaluation {event.phase}"]
    if event.iteration is not None:
        bits.append(f"iteration {event.iteration}")
    if event.result:
        bits.append(event.result)
    return " · ".join(bits)


def _note_summary(event: NoteEvent, peer: str | None, limit: int) -> str:
    return event.summary


def _malformed_summary(event: MalformedEvent, peer: str | None, limit: int) -> str:
    return f"unreadable event: {event.problem}"


def _generic_summary(event: GenericEvent, peer: str | None, limit: int) -> str:
    return f"{event.type} (unknown type)"


SUMMARIES: dict[type[Event], Callable[[Any, str | None, int], str]] = {
    UserMessage: _message_summary,
    SystemMessage: _message_summary,
    AgentMessage: _agent_summary,
    Thinking: _thinking_summary,
    ToolUse: _tool_summary,
    ToolResult: _result_summary,
    ToolConfirmation: _confirmation_summary,
    ModelRequestStart: _span_start_summary,
    ModelRequestEnd: _span_end_summary,
    StatusChange: _status_summary,
    ThreadCreated: _spawn_summary,
    SessionError: _error_summary,
    ThreadMessage: _handoff_summary,
    UsageSnapshot: _usage_snapshot_summary,
    OutcomeSpan: _outcome_summary,
    NoteEvent: _note_summary,
    MalformedEvent: _malformed_summary,
    GenericEvent: _generic_summary,
}
"""Each event kind's one-line summary (looked up by the event's own class, as LABELS)."""


def summarize(event: Event, *, peer_name: str | None = None, limit: int = 140) -> str:
    """One line saying what happened."""
    summary = SUMMARIES.get(type(event))
    return summary(event, peer_name, limit) if summary is not None else event.type


def text_line(event: Event, agent: str) -> str:
    """The `tail` command's line: time, agent, type, summary."""
    return f"{event.hhmmss}  {agent[:18]:<18}  {type_label(event):<9}  {summarize(event)}"


def agent_for(event: Event, names: dict[str, str], default: str) -> str:
    if event.thread_id and event.thread_id in names:
        return names[event.thread_id]
    if event.thread_id:
        return event.thread_id[:18]
    return default


def json_line(event: Event, *, with_thread: bool = False) -> str:
    """The event's JSON as one line.  `with_thread`: a child's own events (which do not name
    their thread) get `session_thread_id`, so that merged output says whose each one is."""
    if with_thread and event.thread_id and not isinstance(event, MalformedEvent):
        import json

        data = json.loads(event.raw_json)
        if (
            isinstance(data, dict)
            and not data.get("session_thread_id")
            and not data.get("thread_id")
        ):
            data["session_thread_id"] = event.thread_id
            return escape_json(json.dumps(data, ensure_ascii=False))
        return event.raw_json
    if isinstance(event, MalformedEvent):
        import json

        obj: dict[str, Any] = {
            "id": event.id,
            "type": "malformed",
            "problem": event.problem,
            "raw": event.raw_json,
        }
        return json.dumps(obj, ensure_ascii=False)
    return event.raw_json


def search_text(event: Event) -> str:
    """Everything a search looks in, folded for case: type, summary, whole bodies, inputs."""
    parts = [event.type, summarize(event, limit=400)]
    for name in ("text", "message", "name", "agent_name", "peer_agent_name", "error_type"):
        value = getattr(event, name, None)
        if isinstance(value, str) and value:
            parts.append(value)
    if isinstance(event, ToolUse) and event.input:
        parts.extend(str(v) for v in event.input.values())
    return "\n".join(parts).casefold()


def compact_count(n: int) -> str:
    """12345 -> 12.3k: a count that fits a tree row or the status bar."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"
