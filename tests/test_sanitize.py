"""Untrusted text: the sanitiser, the parser boundary, and every renderer on hostile strings."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from rich.console import Console

from qoder_tui.api import sanitize
from qoder_tui.api.client import QoderClient, decode_json
from qoder_tui.api.errors import BadTokenError, error_from_response
from qoder_tui.api.models import (
    Event,
    MalformedEvent,
    Session,
    Thread,
    ToolResult,
    ToolUse,
    event_fields,
    load_fast_json,
    parse_event,
)
from qoder_tui.api.sanitize import clean_label, clean_text, clean_tree, escape_json
from qoder_tui.api.settings import load_settings
from qoder_tui.render.events import RENDERERS, RenderContext, long_body, pretty_json, render_event
from qoder_tui.render.summary import json_line, summarize, text_line
from qoder_tui.simulator.scenarios import ESCAPES, TRICKS

# Anything that can drive a terminal, reorder a line, or hide in a name.
TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u061c\u180e]")
HOSTILE = f"{ESCAPES} {TRICKS}"


def test_controls_become_visible_symbols_and_line_breaks_stay() -> None:
    assert clean_text("a\x1b[2Jb") == "a␛[2Jb"
    assert clean_text("bell\x07 nul\x00 del\x7f") == "bell␇ nul␀ del␡"
    assert clean_text("csi\x9b31m nel\x85") == "csi\ufffd31m nel\ufffd"
    assert clean_text("one\ntwo\tthree") == "one\ntwo\tthree"
    assert clean_text("windows\r\nline") == "windows\nline"
    assert clean_text("over\rwrite") == "over␍write"
    assert clean_text("\u202eexe.txt") == "⟨U+202E⟩exe.txt"
    # Zero-width characters belong to prose (emoji joiners): kept in bodies.
    assert clean_text("a\u200db") == "a\u200db"


def test_labels_are_one_line_with_nothing_hidden() -> None:
    assert clean_label("Code\nFixer\t1") == "Code Fixer 1"
    assert clean_label("zero\u200bwidth") == "zero⟨U+200B⟩width"
    assert clean_label("iso\u2066late\u2069") == "iso⟨U+2066⟩late⟨U+2069⟩"
    assert clean_label("plain name") == "plain name"


def test_a_printable_label_is_never_one_clean_label_would_change() -> None:
    # clean_label returns a printable text as it is, without searching it: that holds
    # only while every character it looks for is unprintable.  Each one, over all of
    # Unicode, found by its pattern and its table (not by clean_label, which skips them).
    looked_for = [
        c
        for c in map(chr, range(0x110000))
        if sanitize._LABEL_BAD.search(c) or ord(c) in sanitize._LABEL_TABLE
    ]
    assert len(looked_for) > 60  # C0 and C1 controls, DEL, bidi and zero-width characters
    assert [c for c in looked_for if c.isprintable()] == []
    for c in looked_for:  # and a name holding one is still cleaned
        assert clean_label(f"name {c} tail") != f"name {c} tail"


def test_clean_tree_reaches_keys_and_nested_values() -> None:
    tree = {"k\x1b": ["\x1b]0;t\x07", {"deep": "\x9b"}], "n": 3, "b": True, "z": None}
    assert clean_tree(tree) == {"k␛": ["␛]0;t␇", {"deep": "\ufffd"}], "n": 3, "b": True, "z": None}


def test_escape_json_keeps_meaning_and_hides_every_control() -> None:
    original = {"text": "\x85\u202e\u200b ok", "n": 1}
    text = json.dumps(original, ensure_ascii=False)
    escaped = escape_json(text)
    assert not TERMINAL_CONTROL.search(escaped) and not INVISIBLE.search(escaped)
    assert json.loads(escaped) == original
    assert escape_json("not json \x1b[2J") == "not json \\u001b[2J"


def _hostile_events() -> list[Event]:
    """One event of every kind the parser makes, each full of hostile strings."""
    at = "2026-11-20T09:30:00.000Z"
    base = {"processed_at": at, "session_thread_id": f"sthr_{ESCAPES}"}
    payloads = [
        {"type": "user.message", "content": [{"type": "text", "text": HOSTILE}]},
        {"type": "system.message", "content": HOSTILE},
        {"type": "agent.message", "content": [{"type": "text", "text": HOSTILE}]},
        {"type": "agent.thinking", "thinking": HOSTILE},
        {"type": "agent.tool_use", "name": f"Bash{ESCAPES}", "input": {"command": HOSTILE}},
        {"type": "agent.mcp_tool_use", "name": HOSTILE, "mcp_server_name": HOSTILE, "input": {}},
        {"type": "agent.tool_result", "tool_use_id": "nope", "content": HOSTILE},
        {"type": "user.tool_confirmation", "tool_use_id": HOSTILE, "result": HOSTILE},
        {"type": "span.model_request_start", "model": HOSTILE},
        {"type": "span.model_request_end", "model": {"id": HOSTILE}, "model_usage": {}},
        {"type": "session.status_idle", "stop_reason": {"type": HOSTILE, "event_ids": [HOSTILE]}},
        {"type": "session.thread_status_idle", "agent_name": HOSTILE, "reason": HOSTILE},
        {"type": "session.thread_created", "agent_name": HOSTILE, "parent_thread_id": HOSTILE},
        {"type": "session.error", "error": {"type": HOSTILE, "message": HOSTILE}},
        {"type": "session.error", "error": HOSTILE, "code": HOSTILE},
        {"type": "agent.thread_message_sent", "to_agent_name": HOSTILE, "content": HOSTILE},
        {"type": "agent.thread_message_received", "from_agent_name": HOSTILE, "content": HOSTILE},
        {"type": "session.usage", "usage": {"input_tokens": 1}},
        {"type": "span.outcome_evaluation_end", "result": HOSTILE, "explanation": HOSTILE},
        {"type": "session.updated", "title": HOSTILE},
        {"type": f"x.unknown{ESCAPES}", "payload": HOSTILE},
    ]
    events = [
        parse_event(json.dumps({"id": f"e{i}{ESCAPES}", **base, **p}))
        for i, p in enumerate(payloads)
    ]
    events.append(parse_event(f"not json {HOSTILE}", sse_id=f"m{ESCAPES}", sse_event=HOSTILE))
    events.append(parse_event("[" * 100_000 + "]" * 100_000))
    return events


def _all_text(event: Event) -> str:
    return json.dumps(event_fields(event), ensure_ascii=False)


def test_the_parser_cleans_every_field_of_every_kind() -> None:
    events = _hostile_events()
    kinds = {type(e) for e in events}
    assert kinds >= set(RENDERERS), set(RENDERERS) - kinds
    for event in events:
        text = _all_text(event)
        assert not TERMINAL_CONTROL.search(text), (event.type, text[:300])
        assert "␛" in text or isinstance(event, MalformedEvent) or event.type == "session.usage"


@pytest.mark.parametrize("expanded", [False, True])
def test_every_renderer_emits_no_control_characters(expanded: bool) -> None:
    console = Console(width=120, color_system="truecolor", force_terminal=True)
    now = datetime(2026, 11, 20, 9, 31, tzinfo=UTC)
    events = _hostile_events()
    result = parse_event(
        json.dumps(
            {"id": "r1", "type": "agent.tool_result", "tool_use_id": "e4", "content": HOSTILE}
        )
    )
    # What the context carries comes from parsed threads and events: sanitised already.
    name = Thread.parse({"id": "t", "agent": {"name": HOSTILE}}).display_name
    for event in events:
        ctx = RenderContext(
            width=110,
            expanded=expanded,
            agent=name,
            peer_name=name,
            result=result if isinstance(event, ToolUse) else None,
            waiting_calls=(summarize(events[4]),),
            now=now,
        )
        lines = console.render_lines(render_event(event, ctx), console.options.update_width(110))
        for line in lines:
            for segment in line:
                assert not TERMINAL_CONTROL.search(segment.text), (event.type, segment.text)
        for text in (summarize(event), text_line(event, name), pretty_json(event)):
            assert not TERMINAL_CONTROL.search(text), (event.type, text[:200])
        line = json_line(event)
        assert not TERMINAL_CONTROL.search(line) and not INVISIBLE.search(line), event.type


def test_summaries_and_names_show_invisible_characters() -> None:
    event = parse_event(
        json.dumps({"id": "a", "type": "agent.message", "content": "pay\u200bpal \u202egpj.exe"})
    )
    assert "⟨U+200B⟩" in summarize(event) and "⟨U+202E⟩" in summarize(event)
    thread = Thread.parse({"id": "t", "agent": {"name": "Code\u200b Fixer\n"}})
    assert thread.display_name == "Code⟨U+200B⟩ Fixer "
    session = Session.parse({"id": "s", "title": "[WIP] \x1b]0;x\x07 fix"})
    assert session.display_title == "[WIP] ␛]0;x␇ fix"


def test_json_text_merges_sse_id_and_type() -> None:
    event = parse_event('{"content": "hi"}', sse_id="evt_1", sse_event="agent.message")
    merged = json.loads(event.raw_json)
    assert merged["id"] == "evt_1" and merged["type"] == "agent.message"
    assert json.loads(json_line(event)) == merged
    assert json.loads(pretty_json(event)) == merged


@pytest.mark.parametrize("fast_parser", [False, True], ids=["json", "pydantic-core"])
def test_one_deep_item_leaves_the_rest_of_the_page_readable(fast_parser: bool) -> None:
    if fast_parser:
        load_fast_json()  # (the conftest fixture puts json's back afterwards)
    body = (
        '{"data":[{"id":"a","type":"user.message","content":"x, ]} ok"},'
        + "[" * 100_000
        + "]" * 100_000
        + ',{"id":"b","type":"agent.message","content":"y"}],"has_more":true,"first_id":"a"}'
    )
    page = QoderClient._page(decode_json(body), parse_event, keep_unreadable=True)
    assert [type(e).__name__ for e in page.data] == [
        "UserMessage",
        "MalformedEvent",
        "AgentMessage",
    ]
    assert page.data[0].text == "x, ]} ok" and page.has_more
    again = QoderClient._page(decode_json(body), parse_event, keep_unreadable=True)
    assert again.data[1].id == page.data[1].id  # a stable id: paging again does not duplicate it


def test_a_long_body_is_drawn_a_line_at_a_time() -> None:
    big = "x" * 60 + "\n"
    result = ToolResult(id="r", type="agent.tool_result", call_id="c", text=big * 200_000)
    use = ToolUse(id="c", type="agent.tool_use", name="Bash", call_id="c")
    folded = RenderContext(width=100, result=result)
    assert long_body(use, folded) is None
    body = long_body(use, RenderContext(width=100, result=result, expanded=True))
    assert body is not None and len(body.runs[-1].lines) == 200_000


@pytest.mark.parametrize(
    "value",
    ["tok\nen", "tok en", "tökén", "tok\x1ben"],
    ids=["newline", "space", "non-ascii", "esc"],
)
def test_an_unusable_token_is_refused_without_showing_it(value: str) -> None:
    with pytest.raises(BadTokenError) as info:
        load_settings(env={"QODER_ACCESS_TOKEN": value})
    assert info.value.exit_code == 3
    assert value.strip() not in str(info.value)


def test_server_error_messages_are_cleaned() -> None:
    error = error_from_response(
        500,
        {"error": {"type": "x\x1b[2J", "message": "[/bold] \x1b]52;c;AAAA\x07"}},
        url="http://h/",
        what="the session list",
        request_id="req\x1b[6n",
    )
    assert not TERMINAL_CONTROL.search(str(error)), str(error)
    assert "[/bold]" in str(error)
