"""The parser: every documented spelling, and anything else a server might send."""

from __future__ import annotations

import json
import random
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pytest

from qoder_tui.api import models
from qoder_tui.api.models import (
    AgentMessage,
    AgentRef,
    Event,
    GenericEvent,
    MalformedEvent,
    ModelRequestEnd,
    SessionError,
    StatusChange,
    Thinking,
    Thread,
    ThreadCreated,
    ThreadMessage,
    ToolResult,
    ToolUse,
    Usage,
    UserMessage,
    event_fields,
    parse_event,
    parse_ts,
)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-05-18T03:40:48Z",
        "2026-05-18T03:40:48.8Z",
        "2026-05-18T03:40:48.888Z",
        "2026-05-18T03:40:48.888851Z",
        "2026-05-18T03:40:48.888851795Z",
        "2026-05-18T05:40:48.888851+02:00",
    ],
)
def test_timestamps_with_0_to_9_fractional_digits(raw: str) -> None:
    ts = parse_ts(raw)
    assert ts is not None
    assert ts.replace(microsecond=0) == datetime(2026, 5, 18, 3, 40, 48, tzinfo=UTC)


def test_bad_timestamps_are_none() -> None:
    assert parse_ts("yesterday") is None
    assert parse_ts("2026-13-45T99:00:00Z") is None
    assert parse_ts(None) is None
    # The fast path for the common "…Z" form refuses what the full grammar refuses.
    assert parse_ts("2026-05-18T03:40:48.Z") is None
    assert parse_ts("2026-05-18T03:40:48.1a3Z") is None
    assert parse_ts("2026-05-18T03:40:48.1234567890Z") is None  # ten fractional digits
    assert parse_ts("2026-05-18T03:40:48.\u0661\u0662\u0663Z") is None  # not ASCII digits
    assert parse_ts("2026-05-18T03:40:48.12-3Z") is None


def test_fast_and_full_timestamp_parsers_agree() -> None:
    for raw in ("2026-05-18T03:40:48Z", "2026-05-18T03:40:48.000123Z", "2026-05-18T03:40:48.5Z"):
        fast = parse_ts(raw)
        full = parse_ts(raw.replace("Z", "+00:00"))  # not the fast path's form
        assert fast is not None and fast == full and fast.tzinfo == UTC


def test_user_content_string_or_blocks() -> None:
    a = parse_event({"id": "e1", "type": "user.message", "content": "hello"})
    b = parse_event(
        {"id": "e1", "type": "user.message", "content": [{"type": "text", "text": "hello"}]}
    )
    assert isinstance(a, UserMessage) and isinstance(b, UserMessage)
    assert a.text == b.text == "hello"


def test_tool_use_both_spellings() -> None:
    sdk = parse_event(
        {"id": "evt_5", "type": "agent.tool_use", "name": "Bash", "input": {"command": "ls"}}
    )
    g2 = parse_event(
        {
            "id": "evt_5",
            "type": "agent.tool_use",
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
            "tool_use_id": "toolu_5",
            "requires_confirmation": True,
        }
    )
    assert isinstance(sdk, ToolUse) and isinstance(g2, ToolUse)
    assert (sdk.name, sdk.input) == (g2.name, g2.input) == ("Bash", {"command": "ls"})
    assert sdk.call_id == "evt_5" and g2.call_id == "toolu_5"
    assert g2.requires_confirmation and not sdk.requires_confirmation


def test_tool_result_content_or_output() -> None:
    blocks = parse_event(
        {
            "id": "r",
            "type": "agent.tool_result",
            "tool_use_id": "u",
            "content": [{"type": "text", "text": "ok"}],
        }
    )
    output = parse_event(
        {"id": "r", "type": "agent.tool_result", "tool_use_id": "u", "output": "ok"}
    )
    assert isinstance(blocks, ToolResult) and isinstance(output, ToolResult)
    assert blocks.text == output.text == "ok"
    assert blocks.call_id == output.call_id == "u"


def test_mcp_and_custom_results_pair_by_their_own_keys() -> None:
    mcp = parse_event(
        {"id": "r1", "type": "agent.mcp_tool_result", "mcp_tool_use_id": "m1", "content": []}
    )
    custom = parse_event(
        {"id": "r2", "type": "user.custom_tool_result", "custom_tool_use_id": "c1"}
    )
    assert isinstance(mcp, ToolResult) and mcp.call_id == "m1" and mcp.family == "mcp"
    assert isinstance(custom, ToolResult) and custom.call_id == "c1" and custom.family == "custom"


@pytest.mark.parametrize(
    "payload,expected",
    [
        ({"thinking": "hmm"}, "hmm"),
        ({"content": "hmm"}, "hmm"),
        ({}, None),
    ],
)
def test_thinking_from_thinking_or_content_or_none(payload: dict, expected: str | None) -> None:
    ev = parse_event({"id": "t", "type": "agent.thinking", **payload})
    assert isinstance(ev, Thinking) and ev.text == expected


def test_session_error_string_or_object() -> None:
    old = parse_event(
        {
            "id": "x",
            "type": "session.error",
            "error": "overloaded",
            "code": "model_overloaded_error",
        }
    )
    new = parse_event(
        {
            "id": "x",
            "type": "session.error",
            "error": {
                "type": "model_overloaded_error",
                "message": "overloaded",
                "retry_status": {"type": "exhausted"},
            },
        }
    )
    assert isinstance(old, SessionError) and isinstance(new, SessionError)
    assert old.message == new.message == "overloaded"
    assert new.retry_status == "exhausted" and new.error_type == "model_overloaded_error"
    assert old.code == "model_overloaded_error"


def test_span_usage_or_model_usage_and_cache_creation_object() -> None:
    a = parse_event(
        {
            "id": "s",
            "type": "span.model_request_end",
            "model_usage": {"input_tokens": 5, "credits": 1.5},
        }
    )
    b = parse_event(
        {"id": "s", "type": "span.model_request_end", "usage": {"input_tokens": 5, "credits": 1.5}}
    )
    assert isinstance(a, ModelRequestEnd) and isinstance(b, ModelRequestEnd)
    assert a.usage == b.usage and a.usage is not None and a.usage.input_tokens == 5
    idle = parse_event(
        {
            "id": "i",
            "type": "session.status_idle",
            "stop_reason": {"type": "end_turn"},
            "usage": {
                "input_tokens": 1,
                "cache_creation": {"ephemeral_5m_input_tokens": 3, "ephemeral_1h_input_tokens": 4},
            },
        }
    )
    assert isinstance(idle, StatusChange) and idle.usage is not None
    assert idle.usage.cache_creation_input_tokens == 7


@pytest.mark.parametrize("cls", models.EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_the_parsers_makers_make_what_the_class_makes(cls: type[Event]) -> None:
    # The parser builds events through generated makers, not the dataclass constructor.
    common = ("e1", "x.y", "2026-05-18T03:40:48Z", "t1", "{}")
    made = models._MAKE[cls](*common)
    built = cls(**dict(zip(models._COMMON_FIELDS, common, strict=True)))
    assert event_fields(made) == event_fields(built)  # every field set, each default as the class's
    assert type(made) is cls
    other = models._MAKE[cls](*common)
    for f in fields(cls):  # a default made by a factory is a new object each time
        if isinstance(getattr(made, f.name), (dict, list)):
            assert getattr(made, f.name) is not getattr(other, f.name)
    own = {f.name: f"v-{f.name}" for f in fields(cls) if f.name not in models._COMMON_FIELDS}
    assert event_fields(models._MAKE[cls](*common, **own)) == event_fields(
        cls(**dict(zip(models._COMMON_FIELDS, common, strict=True)), **own)
    )


def test_usage_sums_each_summed_field_and_keeps_what_one_side_lacks() -> None:
    a = Usage(input_tokens=5, output_tokens=None, credits=1.5, speed="fast")
    b = Usage(input_tokens=2, output_tokens=3, cache_read_input_tokens=None, credits=0.25)
    total = a + b
    assert [getattr(total, name) for name in Usage._SUMMED] == [7, 3, None, None, 1.75]
    assert total.speed is None and total.active_seconds is None  # not sums: not carried
    back = total - b
    assert [getattr(back, name) for name in Usage._SUMMED] == [5, 0, None, None, 1.5]
    assert [f.name for f in fields(Usage)][: len(Usage._SUMMED)] == list(Usage._SUMMED)
    # from_raw fills the fields positionally: each value lands in its own field.
    raw = {
        "input_tokens": 1,
        "output_tokens": 2,
        "cache_read_input_tokens": 3,
        "cache_creation_input_tokens": 4,
        "credits": 5.5,
        "speed": "fast",
        "active_seconds": 6.5,
    }
    parsed = Usage.from_raw(raw)
    assert parsed is not None
    assert {f.name: getattr(parsed, f.name) for f in fields(Usage)} == raw


def test_thread_messages_g2_and_sdk_forms() -> None:
    g2 = parse_event(
        {
            "id": "m",
            "type": "agent.thread_message_sent",
            "direction": "coordinator_to_child",
            "content": "go",
            "from_session_thread_id": "P",
            "to_session_thread_id": "C",
        }
    )
    sdk = parse_event(
        {
            "id": "m",
            "type": "agent.thread_message_sent",
            "to_session_thread_id": "C",
            "content": [{"type": "text", "text": "go"}],
        }
    )
    assert isinstance(g2, ThreadMessage) and isinstance(sdk, ThreadMessage)
    assert g2.text == sdk.text == "go" and g2.peer_thread_id == sdk.peer_thread_id == "C"


def test_model_as_string_or_object() -> None:
    assert AgentRef(model="ultimate").model_id == "ultimate"
    assert AgentRef(model={"id": "ultimate", "speed": "fast"}).model_id == "ultimate"


def test_thread_created_is_not_owned_by_the_child() -> None:
    ev = parse_event(
        {"id": "c", "type": "session.thread_created", "session_thread_id": "C", "agent_name": "R"}
    )
    assert isinstance(ev, ThreadCreated) and ev.child_thread_id == "C" and ev.thread_id is None


def test_unknown_type_keeps_json_and_unknown_fields() -> None:
    raw = {"id": "u", "type": "future.event", "whatever": [1, 2, {"x": None}]}
    ev = parse_event(raw)
    assert isinstance(ev, GenericEvent)
    assert ev.raw == raw


def test_sse_id_and_event_fill_missing_fields() -> None:
    ev = parse_event(
        '{"content": [{"type": "text", "text": "hi"}]}', sse_id="evt_9", sse_event="agent.message"
    )
    assert isinstance(ev, AgentMessage) and ev.id == "evt_9" and ev.text == "hi"


@pytest.mark.parametrize(
    "payload",
    [
        "{not json",
        "[1,2]",
        "null",
        '"str"',
        "{}",
        '{"id": 5}',
        b"\xff\xfe",
        '{"id":"a","type":"agent.tool_use","input":7}',
    ],
)
def test_odd_payloads_never_raise(payload: str | bytes) -> None:
    ev = parse_event(payload)
    assert ev.id and ev.type


def test_fuzzed_payloads_never_raise() -> None:
    rng = random.Random(1)
    types = [
        "agent.tool_use",
        "agent.tool_result",
        "session.error",
        "session.status_idle",
        "agent.message",
        "span.model_request_end",
        "agent.thread_message_sent",
        "session.usage",
        "user.message",
        "x.y",
    ]
    values: list[object] = [
        None,
        1,
        -1.5,
        "s",
        [],
        {},
        [None],
        {"type": 3},
        [{"type": "image"}],
        True,
    ]
    keys = [
        "content",
        "input",
        "tool_input",
        "error",
        "usage",
        "model_usage",
        "stop_reason",
        "output",
        "name",
        "tool_use_id",
        "processed_at",
        "session_thread_id",
        "thinking",
        "direction",
    ]
    for _ in range(3000):
        raw = {"id": rng.choice(["e", 5, None]), "type": rng.choice(types)}
        for key in rng.sample(keys, rng.randint(0, 6)):
            raw[key] = rng.choice(values)
        ev = parse_event(json.loads(json.dumps(raw)))
        assert isinstance(ev.raw_json, str)
        if raw["id"] is None:
            assert isinstance(ev, MalformedEvent)


def test_thread_names_from_any_shape() -> None:
    assert (
        Thread.parse({"id": "t", "parent_thread_id": None, "agent": {"id": "a"}}).display_name
        == "coordinator"
    )
    assert (
        Thread.parse({"id": "t", "parent_thread_id": "p", "name": "Research Agent"}).display_name
        == "Research Agent"
    )
    t = Thread.parse(
        {"id": "t", "parent_thread_id": "p", "agent": {"name": "R"}, "stop_reason": {}}
    )
    assert t.display_name == "R" and t.stop_reason is None


def test_fast_construction_equals_validation() -> None:
    """The parser builds models without re-validating; they must equal validated ones."""
    from qoder_tui.simulator.synthetic import SyntheticLog

    log = SyntheticLog("s", "t", 60, start=datetime(2026, 1, 1, tzinfo=UTC), seed=3)
    samples = [log.get(i) for i in range(60)] + [
        {
            "id": "x",
            "type": "session.error",
            "error": {"type": "t", "message": "m", "retry_status": {"type": "retrying"}},
        },
        {
            "id": "y",
            "type": "agent.thread_message_received",
            "from_session_thread_id": "P",
            "content": "hi",
        },
        {
            "id": "z",
            "type": "session.status_idle",
            "stop_reason": {"type": "requires_action", "event_ids": ["a"]},
        },
    ]
    for raw in samples:
        event = parse_event(raw)
        again = type(event)(**{f.name: getattr(event, f.name) for f in fields(event)})
        assert again == event, raw
        assert event_fields(again) == event_fields(event)


def test_every_known_type_is_built_into_its_own_kind_and_every_kind_is_reached() -> None:
    """The builder table: a known type never falls back to GenericEvent, and every kind the
    parser makes is made from some type (outcome spans by their prefix, anything else
    generic, what cannot be read malformed)."""
    from qoder_tui.api.models import EVENT_CLASSES, KNOWN_TYPES

    made: set[type] = set()
    for ev_type in sorted(KNOWN_TYPES):
        event = parse_event({"id": f"e-{ev_type}", "type": ev_type})
        assert not isinstance(event, (GenericEvent, MalformedEvent)), ev_type
        assert event.type == ev_type
        made.add(type(event))
    made.add(type(parse_event({"id": "o", "type": "span.outcome_evaluation_end"})))
    made.add(type(parse_event({"id": "g", "type": "vendor.something_new"})))
    made.add(type(parse_event("{not json")))
    assert made == set(EVENT_CLASSES)


def test_an_events_time_is_parsed_once_however_often_it_is_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The follower and each store an event goes into ask for its time: in a burst of
    # thousands, a cache of parsed times misses, so each ask would parse again.
    from qoder_tui.api import models
    from qoder_tui.rows import pack, unpack
    from qoder_tui.store import EventStore

    asked: list[str | None] = []
    cached = models.parse_ts

    def counting(value: str | None) -> datetime | None:
        asked.append(value)
        return cached(value)

    monkeypatch.setattr(models, "parse_ts", counting)
    stamp = "2026-11-28T01:20:34.250000Z"
    event = parse_event(json.dumps({"id": "e1", "type": "agent.message", "processed_at": stamp}))
    expected = datetime(2026, 11, 28, 1, 20, 34, 250000, tzinfo=UTC)
    assert [event.time, event.time] == [expected, expected]
    EventStore("s").append([event])
    EventStore("s", "t").append([event])
    assert asked == []  # parsed with the event, never again
    # An event built from a row parses on its first ask only.
    again = unpack(pack(event))
    assert [again.time, again.time] == [expected, expected]
    assert asked == [stamp]
    assert again == event  # (the parsed time is no field: equality is unchanged)


def test_names_that_events_repeat_are_kept_once_in_memory() -> None:
    """The JSON parser makes a new string for every value it reads: a tool's name, its
    permission, a model's name and a usage's speed, which thousands of events repeat, are
    each kept once."""
    from qoder_tui.api.models import load_fast_json

    load_fast_json()  # (the app's parser once its first screen is drawn)

    def two(text: str) -> tuple[Any, Any]:
        return parse_event(text.replace("ID", "e1")), parse_event(text.replace("ID", "e2"))

    use = '{"id":"ID","type":"agent.tool_use","name":"%s","evaluated_permission":"%s"}'
    a, b = two(use % ("run_" + "shell", "al" + "low"))
    assert isinstance(a, ToolUse) and isinstance(b, ToolUse)
    assert a.name == "run_shell" and a.name is b.name and a.permission is b.permission
    end = '{"id":"ID","type":"span.model_request_end","model":"%s","model_usage":{"speed":"%s"}}'
    c, d = two(end % ("model-" + "x", "fa" + "st"))
    assert isinstance(c, ModelRequestEnd) and isinstance(d, ModelRequestEnd)
    assert c.model == "model-x" and c.model is d.model
    assert c.usage is not None and d.usage is not None and c.usage.speed is d.usage.speed
