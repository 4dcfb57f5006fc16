"""Packed rows: every kind of event comes back equal, and the collector stops tracking rows."""

from __future__ import annotations

import gc

from qoder_tui.api.models import EVENT_CLASSES, Event, parse_event
from qoder_tui.rows import pack, unpack
from qoder_tui.store import EventStore

AT = "2026-01-01T00:00:01Z"
USAGE = {"input_tokens": 10, "output_tokens": 5, "credits": 0.25, "speed": "fast"}

ONE_OF_EACH: list[object] = [
    {"type": "user.message", "content": [{"type": "text", "text": "hello"}]},
    {"type": "system.message", "content": "be brief"},
    {"type": "agent.message", "content": [{"type": "text", "text": "**done**"}], "delta": True},
    {"type": "agent.thinking", "thinking": "hmm"},
    {
        "type": "agent.tool_use",
        "name": "bash",
        "input": {"command": "ls", "env": {"A": ["1", 2, None]}, "n": 3.5},
        "tool_use_id": "call_1",
        "evaluated_permission": "ask",
    },
    {"type": "agent.mcp_tool_use", "name": "q", "mcp_server_name": "db", "input": "not json {"},
    {"type": "agent.tool_result", "tool_use_id": "call_1", "content": "out", "is_error": True},
    {"type": "user.tool_confirmation", "tool_use_id": "call_1", "result": "deny"},
    {"type": "span.model_request_start", "model": {"id": "qwen"}},
    {
        "type": "span.model_request_end",
        "model_request_start_id": "e8",
        "model_usage": USAGE,
        "is_error": False,
    },
    {"type": "session.thread_status_idle", "stop_reason": {"type": "end_turn"}, "usage": USAGE},
    {
        "type": "session.status_idle",
        "stop_reason": {"type": "requires_action", "event_ids": ["e4", "e5"]},
    },
    {"type": "session.status_running"},
    {"type": "session.thread_created", "session_thread_id": "th_2", "agent_name": "Reviewer"},
    {
        "type": "session.error",
        "error": {"type": "overloaded", "message": "busy", "retry_status": {"type": "retrying"}},
    },
    {"type": "agent.thread_message_sent", "to_session_thread_id": "th_2", "content": "go"},
    {"type": "session.usage", "usage": USAGE, "total_credits": 1.5},
    {"type": "span.outcome_evaluation_end", "outcome_id": "o1", "iteration": 2, "result": "pass"},
    {"type": "session.updated", "title": "new title"},
    {"type": "vendor.something_new", "x": [1, 2]},
    '{"id": "e99", "type": "agent.message", "content": ',  # cut off: malformed
]


def events() -> list[Event]:
    made = []
    for i, raw in enumerate(ONE_OF_EACH):
        if isinstance(raw, dict):
            raw = {"id": f"e{i}", "processed_at": AT, "session_thread_id": "th_1", **raw}
        made.append(parse_event(raw))
    return made


def test_every_kind_comes_back_from_its_row_equal() -> None:
    made = events()
    assert {type(e) for e in made} == set(EVENT_CLASSES)  # the sample covers every kind
    for event in made:
        back = unpack(pack(event))
        assert type(back) is type(event) and back == event, event


def test_the_collector_stops_tracking_a_stores_rows() -> None:
    store = EventStore("s")
    store.start(events()[:-1], has_older=False)
    rows = store.events.rows
    # What young collections do to rows they meet (a full one does it too): a row holding
    # a tuple (usage, a stop reason) goes at the latest at the second, with that tuple gone.
    gc.collect()
    gc.collect()
    tracked = [row for row in rows if gc.is_tracked(row)]
    assert rows and not tracked, tracked[:1]
    # ...and reading them builds the same events as were stored.
    assert [e.id for e in store.events] == [e.id for e in events()[:-1]]


def test_tool_inputs_come_back_from_rows_the_same_with_either_json_writer() -> None:
    # A row keeps a tool's input as JSON text: json's writer until the app has drawn its
    # first screen, pydantic-core's after (which cannot write a lone surrogate, and whose
    # older releases write NaN and Infinity as null unless told otherwise).
    from qoder_tui.api.models import ToolUse, load_fast_json

    inputs: list[dict[str, object]] = [
        {"big": 10**30, "negative": -(2**70), "sum": 0.1 + 0.2, "tiny": 1e-320, "zero": -0.0},
        {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")},
        {"lone": "\ud800 surrogate"},
        {"text": "é😀\u2028", "none": None, "nested": [1, [2, {"x": True}]]},
    ]
    for writer in ("json", "pydantic-core"):
        if writer == "pydantic-core":
            load_fast_json()
        for value in inputs:
            event = parse_event({"id": "e1", "type": "agent.tool_use", "name": "t", "input": value})
            assert isinstance(event, ToolUse)
            back = unpack(pack(event))
            assert isinstance(back, ToolUse)
            assert repr(back.input) == repr(value), (writer, value)  # (repr: NaN != NaN)
