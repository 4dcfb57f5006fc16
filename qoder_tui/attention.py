"""What needs attention, and why: pure functions over events (no UI, no I/O).

- `session_hint`: a session's real state from its newest events, before it is
  opened (waiting for approval, errored, running, idle, terminated) and when
  it last did anything.
- `diagnose`: per thread, what blocks it and since when.
- `handoff_ledger`: what the coordinator handed each child, and what came back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from .api.models import (
    Event,
    ModelRequestEnd,
    ModelRequestStart,
    SessionError,
    StatusChange,
    ThreadMessage,
    ToolResult,
    ToolUse,
    Usage,
    UserMessage,
)
from .render.summary import duration_text, first_line, one_line, summarize
from .store import status_word

NEEDS_ATTENTION = frozenset({"waiting", "errored"})


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class SessionHint:
    """A session's state as its newest events tell it."""

    status: str
    last_event_at: datetime | None = None
    since: datetime | None = None
    """When it entered `status`."""


def session_hint(events: Iterable[Event], fallback: str) -> SessionHint:
    """From the newest events of a session's stream (oldest first).

    A session whose stream says nothing about its state keeps `fallback` (the
    status the session list gave).  A child waiting for approval makes the
    session wait too: that is what the reader has to act on.
    """
    status, since, last = fallback, None, None
    children: dict[str, tuple[str, datetime | None]] = {}
    for event in events:
        when = event.time
        last = when or last
        if isinstance(event, StatusChange):
            word = status_word(event)
            if event.scope == "session":
                if word != status:
                    status, since = word, when
            elif event.thread_id:
                children[event.thread_id] = (word, when)
        elif isinstance(event, SessionError) and event.retry_status in ("terminal", "exhausted"):
            status, since = "errored", when
    if status not in NEEDS_ATTENTION:
        for word, when in children.values():
            if word in NEEDS_ATTENTION:
                status, since = word, when
                break
    return SessionHint(status, last, since)


# --------------------------------------------------------------------------- diagnosis


@dataclass(frozen=True)
class Finding:
    """One thing that holds a thread up, with when it started."""

    thread_id: str | None
    thread: str
    cause: str
    since: datetime | None = None
    event_id: str | None = None
    severity: str = "warning"
    """"error" for failures, "warning" for waits, "info" for what is merely going on."""


def age_text(since: datetime | None, now: datetime) -> str:
    """ "for 3m07s" (how long something has held), or "" when it is not known."""
    return f"for {duration_text((now - since).total_seconds())}" if since is not None else ""


def diagnose(
    threads: Mapping[str | None, tuple[str, list[Event]]],
    *,
    primary: str | None,
    now: datetime,
    status: Mapping[str | None, str] | None = None,
) -> list[Finding]:
    """Per thread, what blocks it: its newest events (oldest first) tell.

    `threads` maps a thread id to (its name, its newest events); `status` is
    what the tree knows of each thread now.  Findings, most pressing first:
    a requires_action idle and the calls it waits on, a tool call with no
    result, a model request not ended, user messages queued behind a turn, a
    coordinator waiting on a child that is still running, errors with their
    retry history.
    """
    findings: list[Finding] = []
    status = status or {}
    running_children: set[str] = {
        tid
        for tid, word in status.items()
        if tid is not None and tid != primary and word in ("running", "rescheduling")
    }
    calls = {e.id: e for _, events in threads.values() for e in events if isinstance(e, ToolUse)}
    for thread_id, (name, events) in threads.items():
        findings.extend(
            _thread_findings(thread_id, name, events, primary, running_children, status, calls)
        )
    order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (order.get(f.severity, 3), f.since or now))
    return findings


@dataclass
class _Scan:
    """What one thread's own events show, read in order (see _SCANS)."""

    uses: dict[str, ToolUse] = field(default_factory=dict)
    results: set[str] = field(default_factory=set)
    starts: dict[str, ModelRequestStart] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)
    last_status: StatusChange | None = None
    last_running: datetime | None = None
    queued: list[UserMessage] = field(default_factory=list)
    errors: list[SessionError] = field(default_factory=list)
    sent: dict[str, ThreadMessage] = field(default_factory=dict)
    """Handoffs to each child not answered yet, by the child's thread id."""

    def tool_use(self, event: ToolUse) -> None:
        self.uses[event.call_id] = event

    def tool_result(self, event: ToolResult) -> None:
        self.results.add(event.call_id)

    def span_start(self, event: ModelRequestStart) -> None:
        self.starts[event.id] = event

    def span_end(self, event: ModelRequestEnd) -> None:
        if event.start_id:
            self.ended.add(event.start_id)

    def status(self, event: StatusChange) -> None:
        self.last_status = event
        if event.status == "running":
            self.last_running = event.time
            self.queued = []

    def user_message(self, event: UserMessage) -> None:
        self.queued.append(event)

    def error(self, event: SessionError) -> None:
        self.errors.append(event)

    def handoff(self, event: ThreadMessage) -> None:
        if event.to_thread_id and event.direction == "sent":
            self.sent[event.to_thread_id] = event


_SCANS: dict[type[Event], Callable[[_Scan, Any], None]] = {
    ToolUse: _Scan.tool_use,
    ToolResult: _Scan.tool_result,
    ModelRequestStart: _Scan.span_start,
    ModelRequestEnd: _Scan.span_end,
    StatusChange: _Scan.status,
    UserMessage: _Scan.user_message,
    SessionError: _Scan.error,
    ThreadMessage: _Scan.handoff,
}
"""What each kind of event tells about its thread being stuck (other kinds tell nothing)."""


def _thread_findings(
    thread_id: str | None,
    name: str,
    events: list[Event],
    primary: str | None,
    running_children: set[str],
    status: Mapping[str | None, str],
    calls: Mapping[str, ToolUse],
) -> list[Finding]:
    out: list[Finding] = []
    scan = _Scan()
    for event in events:
        if _belongs(event, thread_id, primary):
            step = _SCANS.get(type(event))
            if step is not None:
                step(scan, event)
    last_status, queued, sent = scan.last_status, scan.queued, scan.sent
    for event in events:  # replies: the child's answer reaches the coordinator's stream
        if (
            isinstance(event, ThreadMessage)
            and event.direction == "received"
            and event.from_thread_id in sent
        ):
            del sent[event.from_thread_id]
    word = status_word(last_status) if last_status is not None else status.get(thread_id, "")
    settled = last_status is not None and last_status.status in ("idle", "terminated")
    if last_status is not None and word == "waiting":
        ids = last_status.stop_reason.event_ids if last_status.stop_reason else []
        # The calls may be a child's (a coordinator waits on what its child waits on).
        named = [summarize(calls[i], limit=90) if i in calls else i for i in ids]
        what = "; ".join(named) or "a tool call"
        out.append(
            Finding(
                thread_id,
                name,
                f"waiting for approval of {what}",
                last_status.time,
                last_status.id,
            )
        )
    if word == "errored" and last_status is not None:
        reason = last_status.stop_reason.type if last_status.stop_reason else None
        out.append(
            Finding(
                thread_id,
                name,
                f"stopped: {(reason or 'error').replace('_', ' ')}",
                last_status.time,
                last_status.id,
                "error",
            )
        )
    if scan.errors:
        out.append(_error_finding(thread_id, name, scan.errors))
    if not settled:
        for call_id, use in scan.uses.items():
            if call_id not in scan.results:
                out.append(
                    Finding(
                        thread_id,
                        name,
                        f"tool call with no result yet: {summarize(use, limit=90)}",
                        use.time,
                        use.id,
                    )
                )
        for start_id, start in scan.starts.items():
            if start_id not in scan.ended:
                model = f" ({start.model})" if start.model else ""
                out.append(
                    Finding(
                        thread_id,
                        name,
                        f"model request started, not ended{model}",
                        start.time,
                        start.id,
                        "info",
                    )
                )
    if queued and (settled or scan.last_running is None):
        first = queued[0]
        n = len(queued)
        out.append(
            Finding(
                thread_id,
                name,
                f"{n} user message{'s' if n != 1 else ''} waiting for a turn: "
                f"{one_line(first.text, 70)}",
                first.time,
                first.id,
            )
        )
    for child_id, message in sent.items():
        if child_id in running_children:
            out.append(
                Finding(
                    thread_id,
                    name,
                    f"waiting on {message.peer_agent_name or child_id}, still running: "
                    f"{one_line(first_line(message.text), 60)}",
                    message.time,
                    message.id,
                    "info",
                )
            )
    return out


def _belongs(event: Event, thread_id: str | None, primary: str | None) -> bool:
    """Whether an event of a thread's stream is the thread's own (not a cross-posted child's)."""
    if thread_id is None or thread_id == primary:
        return event.thread_id is None or event.thread_id == primary
    return event.thread_id is None or event.thread_id == thread_id


def _error_finding(thread_id: str | None, name: str, errors: list[SessionError]) -> Finding:
    last = errors[-1]
    attempts = len(errors)
    waits = [
        (b.time - a.time).total_seconds()
        for a, b in pairwise(errors)
        if a.time is not None and b.time is not None
    ]
    bits = [f"{last.error_type or last.code or 'error'}: {one_line(last.message, 80)}"]
    state = last.retry_status or "no retry status"
    # The server says when retries are used up, not how many there may be: "of" only then.
    of = f" of {attempts}" if last.retry_status == "exhausted" else ""
    bits.append(f"attempt {attempts}{of} ({state})")
    if waits:
        bits.append("waits " + ", ".join(f"{w:.0f}s" for w in waits))
    request = _request_id(last)
    if request:
        bits.append(f"request {request}")
    severity = "error" if last.retry_status in ("terminal", "exhausted", None) else "warning"
    return Finding(thread_id, name, " · ".join(bits), errors[0].time, last.id, severity)


def _request_id(error: SessionError) -> str | None:
    raw = error.raw
    if isinstance(raw, dict):
        err = raw.get("error")
        for source in (err if isinstance(err, dict) else {}, raw):
            value = source.get("request_id")
            if isinstance(value, str):
                return value
    return None


# --------------------------------------------------------------------------- handoffs


@dataclass
class LedgerRow:
    """One coordinator→child handoff, and the child's answer if it came."""

    child_id: str
    child: str
    task: str
    sent_at: datetime | None
    sent_id: str
    picked_up_at: datetime | None = None
    answered_at: datetime | None = None
    reply: str = ""
    reply_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    state: str = ""

    @property
    def wait(self) -> float | None:
        return _seconds(self.sent_at, self.picked_up_at)

    @property
    def work(self) -> float | None:
        return _seconds(self.picked_up_at, self.answered_at)

    @property
    def total(self) -> float | None:
        return _seconds(self.sent_at, self.answered_at)


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return max(0.0, (b - a).total_seconds())


def handoff_ledger(
    events: Iterable[Event], *, names: Mapping[str, str], states: Mapping[str, str]
) -> list[LedgerRow]:
    """From the coordinator's stream (oldest first): one row per handoff to a child.

    A handoff is the coordinator's `agent.thread_message_sent`; it was picked
    up when the child next started running (its status is cross-posted to the
    session stream), and answered by the child's next message back.  The
    child's usage is what its idles reported in between.
    """
    rows: list[LedgerRow] = []
    open_rows: dict[str, LedgerRow] = {}
    last_row: dict[str, LedgerRow] = {}
    for event in events:
        if isinstance(event, ThreadMessage) and event.direction == "sent" and event.to_thread_id:
            child = event.to_thread_id
            row: LedgerRow | None = LedgerRow(
                child_id=child,
                child=names.get(child) or event.peer_agent_name or child,
                task=first_line(event.text),
                sent_at=event.time,
                sent_id=event.id,
                state=states.get(child, ""),
            )
            assert row is not None
            rows.append(row)
            open_rows[child] = last_row[child] = row
        elif isinstance(event, StatusChange) and event.scope == "thread" and event.thread_id:
            # The child's turn for the latest handoff: its idle (with usage) may come
            # just after its answer.
            row = last_row.get(event.thread_id)
            if row is None:
                continue
            if event.status == "running" and row.picked_up_at is None:
                row.picked_up_at = event.time
            elif event.status == "idle" and event.usage is not None:
                row.usage = row.usage + event.usage
        elif isinstance(event, ThreadMessage) and event.direction == "received":
            row = open_rows.pop(event.from_thread_id, None) if event.from_thread_id else None
            if row is not None:
                row.answered_at = event.time
                row.reply = first_line(event.text)
                row.reply_id = event.id
    return rows
