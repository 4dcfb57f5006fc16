"""Rewriting the SDK wire form into the older documentation generations (§10).

`sdk` is the default and the identity.  `g1`, `g2` and `g3` reproduce the
variants in the discrepancy table, so that the client's tolerance can be
tested against every documented spelling.
"""

from __future__ import annotations

import copy
from typing import Any

DIALECTS = ("sdk", "g1", "g2", "g3")


def _ts(value: Any, dialect: str) -> Any:
    if not isinstance(value, str) or len(value) < 20 or not value.endswith("Z"):
        return value
    head = value[:19]
    frac = value[20:-1] if value[19] == "." else ""
    if dialect == "g1":
        return f"{head}.{(frac + '000000000')[:6]}795Z"
    if dialect == "g2":
        return f"{head}.{(frac + '000')[:3]}Z"
    if dialect == "g3":
        return f"{head}Z"
    return value


def _text(content: Any) -> Any:
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return content


def _toolu(event_id: str) -> str:
    return "toolu_" + event_id.split("_", 1)[-1]


def event_out(
    event: dict[str, Any],
    dialect: str,
    *,
    session_id: str,
    owner_thread_id: str | None,
    primary_id: str,
) -> dict[str, Any]:
    if dialect == "sdk":
        return event
    ev = copy.deepcopy(event)
    t = ev.get("type")
    ev["processed_at"] = _ts(ev.get("processed_at"), dialect)
    if dialect == "g3":
        return ev
    owner = ev.get("session_thread_id") or owner_thread_id or primary_id
    ev["session_id"] = session_id
    ev["schema_version"] = "1.0"
    ev["created_at"] = ev["processed_at"]
    if dialect == "g2" and owner:
        ev["session_thread_id"] = owner
    if t == "user.message" or (t == "agent.message" and dialect == "g1"):
        ev["content"] = _text(ev.get("content"))
    elif t == "agent.thinking" and dialect == "g1" and "thinking" in ev:
        ev["content"] = ev.pop("thinking")
    elif t == "agent.tool_use":
        ev["tool_name"] = ev.pop("name", None)
        ev["tool_input"] = ev.pop("input", None)
        ev["tool_use_id"] = _toolu(ev["id"])
        ev["requires_confirmation"] = ev.pop("evaluated_permission", None) == "ask"
    elif t == "agent.tool_result":
        ev["tool_use_id"] = _toolu(str(ev.get("tool_use_id", "")))
        if dialect == "g1":
            ev["output"] = _text(ev.pop("content", None))
    elif t == "session.error" and dialect == "g1":
        err = ev.get("error") or {}
        if isinstance(err, dict):
            ev["error"] = err.get("message", "")
            ev["code"] = err.get("type", "")
    elif t == "span.model_request_start" and dialect == "g1":
        ev["model"] = "ultimate"
        ev["span_id"] = ev["id"]
    elif t == "span.model_request_end" and dialect == "g1":
        ev["span_id"] = ev.pop("model_request_start_id", None)
        ev["usage"] = ev.pop("model_usage", None)
    elif t == "session.status_running" and dialect == "g1":
        ev["status"] = "running"
    elif t == "session.status_terminated" and dialect == "g1":
        ev["type"] = "terminated"
        ev["reason"] = "session closed"
    elif t in ("agent.thread_message_sent", "agent.thread_message_received"):
        sent = t.endswith("_sent")
        if sent:
            ev["from_session_thread_id"] = owner
        else:
            ev["to_session_thread_id"] = owner
        from_id = ev.get("from_session_thread_id")
        ev["direction"] = (
            "coordinator_to_child" if from_id == primary_id else "child_to_coordinator"
        )
        ev["content"] = _text(ev.get("content"))
        ev.pop("to_agent_name", None)
        ev.pop("from_agent_name", None)
    elif t == "session.thread_created":
        ev["parent_thread_id"] = primary_id
        ev["role"] = "child"
    return ev


def session_out(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
    if dialect == "sdk":
        return obj
    s = copy.deepcopy(obj)
    for key in ("created_at", "updated_at"):
        s[key] = _ts(s.get(key), dialect)
    agent = s.get("agent")
    if isinstance(agent, dict) and isinstance(agent.get("model"), dict):
        agent["model"] = agent["model"].get("id")
    if dialect == "g1":
        status = str(s.get("status"))
        s["status"] = {"running": "processing", "terminated": "cancelled"}.get(status, status)
        s["agent_id"] = agent.get("id") if isinstance(agent, dict) else None
        s["usage"] = {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        }
        s.pop("stats", None)
    elif dialect == "g2":
        s["turn_status"] = "running" if s.get("status") == "running" else "idle"
        s.pop("usage", None)
    return s


def thread_out(obj: dict[str, Any], dialect: str) -> dict[str, Any]:
    if dialect == "sdk":
        return obj
    t = copy.deepcopy(obj)
    for key in ("created_at", "updated_at"):
        t[key] = _ts(t.get(key), dialect)
    agent: dict[str, Any] = t["agent"] if isinstance(t.get("agent"), dict) else {}
    primary = t.get("parent_thread_id") is None
    if dialect in ("g1", "g2"):
        t["agent_id"] = agent.get("id")
        t["agent_version"] = agent.get("version")
        t["name"] = "" if primary else agent.get("name", "")
        t["role"] = "coordinator" if primary else "child"
        if t.get("status") == "running":
            t["stop_reason"] = {}
        elif "stop_reason" not in t:
            t["stop_reason"] = {"type": "end_turn"}
    if dialect == "g3":
        t["agent"] = {"id": agent.get("id"), "type": "agent", "version": agent.get("version")}
        if not primary:
            t["name"] = agent.get("name")
    return t


def page_out(dialect: str, page: dict[str, Any]) -> dict[str, Any]:
    if dialect in ("g1", "g2"):
        page.pop("next_page", None)
    return page
