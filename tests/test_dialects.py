"""Every dialect of the discrepancy table parses to the same internal events."""

from __future__ import annotations

from typing import Any

import pytest

from qoder_tui.api import Follower
from qoder_tui.api.models import Event, ToolResult, ToolUse, event_fields

from .conftest import client_for, no_wait, running_sim, sim_config


def _project(events: list[Event]) -> list[tuple[Any, ...]]:
    """What a reader sees of each event, independent of wire spelling."""
    uses = {e.call_id: i for i, e in enumerate(events) if isinstance(e, ToolUse)}
    rows = []
    for e in events:
        fields = event_fields(
            e,
            exclude={
                "raw_json",
                "processed_at",
                "call_id",
                "thread_id",
                "requires_confirmation",
                "permission",
                "declared_direction",
                "from_thread_id",
                "to_thread_id",
                "peer_agent_name",
                "parent_thread_id",
                "reason",
                "code",
                "model",
                "error_type",
                "retry_status",
                "type",
            },
        )
        if isinstance(e, ToolResult):
            fields["pairs_with"] = uses.get(e.call_id)
        if e.time is not None:
            fields["second"] = e.time.replace(microsecond=0)
        rows.append((type(e).__name__, tuple(sorted((k, repr(v)) for k, v in fields.items()))))
    return rows


async def _session_events(dialect: str) -> tuple[list[list[Event]], list[Event]]:
    with running_sim(sim_config(dialect=dialect)) as server:
        async with client_for(server) as client:
            sessions = (await client.list_sessions()).data
            lists = []
            for s in sessions[:4]:
                page = [e async for page in client.walk_backward(s.id, page_size=100) for e in page]
                lists.append(page)
            term = next(s for s in sessions if s.display_status == "terminated")
            streamed = [e async for e in Follower(client, term.id, sleep=no_wait).events()]
    return lists, streamed


@pytest.mark.parametrize("dialect", ["g1", "g2", "g3"])
async def test_dialect_parses_like_the_sdk_form(dialect: str) -> None:
    sdk_lists, sdk_stream = await _session_events("sdk")
    other_lists, other_stream = await _session_events(dialect)
    assert len(sdk_lists) == len(other_lists)
    for a, b in zip(sdk_lists, other_lists, strict=True):
        assert [e.id for e in a] == [e.id for e in b]
        pa, pb = _project(a), _project(b)
        for x, y in zip(pa, pb, strict=True):
            assert x == y
    assert [e.id for e in sdk_stream] == [e.id for e in other_stream]
    assert other_stream[-1].type in ("session.status_terminated", "terminated")


async def test_all_dialects_pair_every_tool_result() -> None:
    for dialect in ("sdk", "g1", "g2", "g3"):
        lists, _ = await _session_events(dialect)
        for events in lists:
            uses = {e.call_id for e in events if isinstance(e, ToolUse)}
            results = [e for e in events if isinstance(e, ToolResult)]
            assert results and all(r.call_id in uses for r in results), dialect


def test_each_demo_child_works_on_the_task_it_was_handed() -> None:
    """Its task, thinking, tool calls and report come from its role, not a common pool."""
    from qoder_tui.simulator.content import LONG_HANDOFFS, LONG_MODULES, ROLE_TASKS, ROLES

    from .conftest import running_sim, sim_config

    with running_sim(sim_config()) as server:
        checked = 0
        for session in server.simulator.world.sessions.values():
            session.ensure_built()
            for thread in session.threads.values():
                name = thread.obj.get("name") or (thread.obj.get("agent") or {}).get("name")
                if thread.id == session.primary_id:
                    continue
                role = ROLES.get(name or "")
                assert role is not None, f"{name} has no role: its work would not follow its task"
                calls = {(c[0], repr(c[1])) for c in role.calls}
                tasks, reports = {ROLE_TASKS[name]}, {role.report}
                if name in LONG_HANDOFFS:  # the migration's turns name their module
                    given, report = LONG_HANDOFFS[name]
                    tasks |= {given.format(module=m) for m in LONG_MODULES}
                    reports |= {report.format(module=m) for m in LONG_MODULES}
                for event in thread.log.items:
                    kind = event["type"]
                    if kind == "agent.thread_message_received":
                        assert event["content"][0]["text"] in tasks, name
                    elif kind == "agent.thinking":
                        assert event["thinking"] in role.thoughts, name
                    elif kind == "agent.tool_use":
                        assert (event["name"], repr(event["input"])) in calls, (name, event)
                    elif kind == "agent.thread_message_sent":
                        assert event["content"][0]["text"] in reports, name
                checked += 1
        assert checked >= 7


def test_each_demo_coordinator_and_single_agent_works_on_its_sessions_task() -> None:
    """A session's own agent thinks, calls tools and answers from its task's script: the
    migration session about the migration, the credentials session about credentials."""
    from qoder_tui.simulator.content import COORDINATOR, coordinator_role

    from .conftest import running_sim, sim_config

    with running_sim(sim_config()) as server:
        checked = 0
        for session in server.simulator.world.sessions.values():
            session.ensure_built()
            role = None
            for event in session.session_log.items:
                if event.get("session_thread_id") not in (None, session.primary_id):
                    continue  # a child's event, cross-posted
                kind = event["type"]
                if kind == "user.message":
                    task = event["content"][0]["text"]
                    role = coordinator_role(task)
                    if "pydantic" in session.obj["title"]:
                        role = COORDINATOR[1]
                    follow_up = task in ("Also rotate the Stripe test key.",) or task.startswith(
                        "Now group them"
                    )
                    assert role is not None or follow_up, task
                elif role is None:
                    continue
                elif kind == "agent.thinking":
                    assert event["thinking"] in role.thoughts, (session.obj["title"], event)
                elif kind == "agent.tool_use" and event["name"] not in (
                    "create_agent",
                    "send_message",
                ):
                    calls = {(c[0], repr(c[1])) for c in role.calls}
                    assert (event["name"], repr(event["input"])) in calls, (
                        session.obj["title"],
                        event,
                    )
                    checked += 1
                elif kind == "agent.message":
                    text = event["content"][0]["text"]
                    assert text == role.report, (session.obj["title"], text[:60])
        assert checked >= 20
