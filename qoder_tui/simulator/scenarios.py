"""Deterministic scenarios: the sessions the simulator serves.

A turn is a generator that emits events through a :class:`Writer` and yields
how many (simulated) seconds pass before its next step, or a :class:`Spawn`
/ :class:`Wait` instruction.  The same generators build history instantly
(history sessions) and play out in real time (the live demo session).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .content import (
    AGENT_MESSAGES,
    COORDINATOR,
    LONG_HANDOFFS,
    LONG_MODULES,
    LONG_TASKS,
    REPORTS,
    ROLE_TASKS,
    ROLES,
    SOLO,
    TASKS,
    THOUGHTS,
    Role,
    ToolCall,
    call_of,
    coordinator_role,
    make_tool_call,
    role_tool_call,
)
from .synthetic import CYCLE, SyntheticLog
from .world import EventLog, IdMaker, SimSession, SimThread, Writer, fmt_ts


@dataclass
class Spawn:
    gen: Generator[Any, None, None]


@dataclass
class Wait:
    predicate: Callable[[], bool]
    poll: float = 0.5


Step = Generator[Any, None, None]


class Scheduler:
    """Runs turn generators in simulated time; children run in parallel."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.heap: list[tuple[float, int, Step]] = []
        self.seq = itertools.count()
        self.clock = 0.0

    def spawn(self, gen: Step, delay: float = 0.0) -> None:
        heapq.heappush(self.heap, (self.clock + delay, next(self.seq), gen))

    def next_delay(self) -> float | None:
        if not self.heap:
            return None
        return max(0.0, self.heap[0][0] - self.clock)

    def step(self) -> bool:
        """Advance the earliest generator by one step; False when nothing is left."""
        if not self.heap:
            return False
        at, _, gen = heapq.heappop(self.heap)
        if self.writer.time_source is None and at > self.clock:
            self.writer.advance(at - self.clock)
        self.clock = max(self.clock, at)
        try:
            result = next(gen)
        except StopIteration:
            return True
        if isinstance(result, Spawn):
            self.spawn(result.gen)
            self.spawn(gen)
        elif isinstance(result, Wait):
            if result.predicate():
                self.spawn(gen)
            else:
                self.spawn(_wait_then(result, gen), result.poll)
        else:
            self.spawn(gen, float(result or 0.0))
        return True

    def run_until(self, stop: Callable[[], bool]) -> None:
        while not stop() and self.step():
            pass


def _wait_then(wait: Wait, gen: Step) -> Step:
    while not wait.predicate():
        yield wait.poll
    yield from gen


# --------------------------------------------------------------------------- turns


@dataclass
class Ctx:
    """Per-session state that the turn generators share."""

    w: Writer
    rng: random.Random
    children: dict[str, str] = field(default_factory=dict)  # agent name -> thread id
    reports_due: int = 0
    turn_usage: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def s(self) -> SimSession:
        return self.w.session

    @property
    def primary(self) -> str:
        return self.s.primary_id


def _usage(rng: random.Random) -> dict[str, Any]:
    return {
        "input_tokens": rng.randint(800, 9000),
        "output_tokens": rng.randint(40, 1400),
        "cache_read_input_tokens": rng.randint(0, 30000),
        "cache_creation_input_tokens": rng.randint(0, 3000),
        "speed": "standard",
        "credits": round(rng.uniform(0.05, 1.8), 2),
    }


_TOKENS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def _add_usage(ctx: Ctx, thread_id: str, usage: dict[str, Any]) -> None:
    """A model request's usage: into its turn's, and into the thread's and session's totals
    (the `usage` of the thread and session objects the API serves, as they stand now)."""
    thread = ctx.s.threads[thread_id].obj
    totals = [ctx.turn_usage.setdefault(thread_id, {}), thread.setdefault("usage", None) or {}]
    thread["usage"] = totals[1]
    session = ctx.s.obj
    if not isinstance(session.get("usage"), dict):
        session["usage"] = {}
    totals.append(session["usage"])
    for acc in totals:
        for key in _TOKENS:
            acc[key] = acc.get(key, 0) + int(usage.get(key, 0))
    credits = usage.get("credits", 0.0)
    totals[0]["credits"] = round(totals[0].get("credits", 0) + credits, 2)
    totals[1]["credits"] = round(totals[1].get("credits", 0) + credits, 2)
    totals[2]["total_credits"] = round(totals[2].get("total_credits", 0) + credits, 2)


def _idle_usage(ctx: Ctx, thread_id: str) -> dict[str, Any]:
    acc = ctx.turn_usage.pop(thread_id, {})
    return {
        "input_tokens": acc.get("input_tokens", 0),
        "output_tokens": acc.get("output_tokens", 0),
        "cache_read_input_tokens": acc.get("cache_read_input_tokens", 0),
        "cache_creation": {
            "ephemeral_5m_input_tokens": acc.get("cache_creation_input_tokens", 0),
            "ephemeral_1h_input_tokens": 0,
        },
        "total_credits": acc.get("credits", 0),
    }


def _set_status(ctx: Ctx, thread_id: str, status: str) -> None:
    ctx.s.threads[thread_id].obj["status"] = status
    if thread_id == ctx.primary:
        ctx.s.obj["status"] = status


def model_call(
    ctx: Ctx,
    tid: str,
    *,
    thought: bool = True,
    thoughts: list[str] | None = None,
    tool: ToolCall | None = None,
    message: str | None = None,
) -> Step:
    """One model request: span start, outputs, span end, then the tool's execution."""
    w, rng = ctx.w, ctx.rng
    start = w.emit(tid, "span.model_request_start")
    # Now and then the model takes its time (a long context, a busy region): the slow
    # calls that s / S and is:slow find.
    yield rng.uniform(12.0, 45.0) if rng.random() < 0.03 else rng.uniform(0.6, 2.5)
    if thought:
        w.emit(tid, "agent.thinking", {"thinking": rng.choice(thoughts or THOUGHTS)})
        yield rng.uniform(0.3, 1.5)
    use = None
    if tool is not None:
        use = w.emit(
            tid,
            "agent.tool_use",
            {"name": tool.name, "input": tool.input, "evaluated_permission": "allow", **tool.extra},
        )
    if message is not None:
        w.emit(tid, "agent.message", {"content": [{"type": "text", "text": message}]})
    usage = _usage(rng)
    _add_usage(ctx, tid, usage)
    w.emit(
        tid,
        "span.model_request_end",
        {"model_request_start_id": start["id"], "is_error": False, "model_usage": usage},
    )
    if tool is not None and use is not None:
        yield min(tool.seconds, 6.0)
        w.emit(
            tid,
            "agent.tool_result",
            {
                "tool_use_id": use["id"],
                "content": [{"type": "text", "text": tool.output}],
                "is_error": tool.is_error,
            },
        )
    yield rng.uniform(0.2, 1.0)


def _hand_over(
    w: Writer,
    sender: str,
    receiver: str,
    text: str,
    *,
    sender_name: str | None = None,
    receiver_name: str | None = None,
    advance: float = 0.01,
) -> None:
    """A message between threads: `sent` on the sender's stream, `received` on the receiver's.

    The SDK names the peer agent only when it is not the primary, so the
    caller passes a name only for a child.
    """
    content = [{"type": "text", "text": text}]
    sent: dict[str, Any] = {"to_session_thread_id": receiver}
    if receiver_name:
        sent["to_agent_name"] = receiver_name
    w.emit(sender, "agent.thread_message_sent", {**sent, "content": content})
    received: dict[str, Any] = {"from_session_thread_id": sender}
    if sender_name:
        received["from_agent_name"] = sender_name
    w.emit(
        receiver,
        "agent.thread_message_received",
        {**received, "content": [dict(block) for block in content]},
        advance=advance,
    )


def child_work(
    ctx: Ctx,
    child_id: str,
    name: str,
    task: str,
    *,
    steps: int | None = None,
    report: str | None = None,
) -> Step:
    w, rng = ctx.w, ctx.rng
    _set_status(ctx, child_id, "running")
    w.emit(
        child_id,
        "session.thread_status_running",
        {"session_thread_id": child_id, "agent_name": name},
        cross_post=True,
    )
    yield rng.uniform(0.3, 1.0)
    role = ROLES.get(name)
    for _ in range(steps if steps is not None else rng.randint(2, 5)):
        if role is None:
            yield from model_call(
                ctx, child_id, thought=rng.random() < 0.6, tool=make_tool_call(rng)
            )
        else:  # its thoughts, calls and report follow from its task
            yield from model_call(
                ctx,
                child_id,
                thought=rng.random() < 0.6,
                thoughts=role.thoughts,
                tool=role_tool_call(rng, role),
            )
    report = report or (role.report if role is not None else rng.choice(REPORTS))
    yield from model_call(ctx, child_id, thought=False, message=report)
    _hand_over(w, child_id, ctx.primary, report, sender_name=name)
    _set_status(ctx, child_id, "idle")
    w.emit(
        child_id,
        "session.thread_status_idle",
        {
            "session_thread_id": child_id,
            "agent_name": name,
            "stop_reason": {"type": "end_turn"},
            "usage": _idle_usage(ctx, child_id),
        },
        cross_post=True,
    )
    ctx.reports_due -= 1


def _delegate(ctx: Ctx, name: str, task: str, report: str | None = None) -> Step:
    """The coordinator hands `task` to the child `name`, creating its thread if needed."""
    w, rng = ctx.w, ctx.rng
    tid = ctx.primary
    child_id = ctx.children.get(name)
    start = w.emit(tid, "span.model_request_start")
    yield rng.uniform(0.5, 1.5)
    tool_name = "send_message" if child_id else "create_agent"
    use = w.emit(
        tid,
        "agent.tool_use",
        {
            "name": tool_name,
            "input": {"agent": name, "message": task},
            "evaluated_permission": "allow",
        },
    )
    usage = _usage(rng)
    _add_usage(ctx, tid, usage)
    w.emit(
        tid,
        "span.model_request_end",
        {"model_request_start_id": start["id"], "is_error": False, "model_usage": usage},
    )
    if child_id is None:
        thread = w.add_thread(name=name, parent_id=tid, created_by_tool_use_id=use["id"])
        child_id = thread.id
        ctx.children[name] = child_id
        w.emit(
            tid,
            "session.thread_created",
            {"session_thread_id": child_id, "agent_name": name},
        )
    _hand_over(w, tid, child_id, task, receiver_name=name)
    w.emit(
        tid,
        "agent.tool_result",
        {
            "tool_use_id": use["id"],
            "content": [{"type": "text", "text": f"Message delivered to {name} ({child_id})."}],
            "is_error": False,
        },
    )
    ctx.reports_due += 1
    yield Spawn(child_work(ctx, child_id, name, task, report=report))
    yield rng.uniform(0.3, 1.0)


def coordinator_turn(
    ctx: Ctx,
    task: str,
    helpers: list[str],
    *,
    solo_steps: int = 1,
    role: Role | None = None,
    handoffs: dict[str, tuple[str, str]] | None = None,
) -> Step:
    """A user's request: the coordinator looks, hands parts to `helpers` (each its role's task,
    or `handoffs[name]` = (task, report)), waits for every report, and answers."""
    w, rng = ctx.w, ctx.rng
    tid = ctx.primary
    w.emit(tid, "user.message", {"content": [{"type": "text", "text": task}]})
    _set_status(ctx, tid, "running")
    w.emit(tid, "session.status_running")
    yield rng.uniform(0.2, 0.6)
    role = role or coordinator_role(task)
    thoughts = role.thoughts if role else None
    for _ in range(solo_steps):
        look = role_tool_call(rng, role, allow_error=False) if role else make_tool_call(rng)
        yield from model_call(ctx, tid, thoughts=thoughts, tool=look)
    for name in helpers:
        given, report = (handoffs or {}).get(name, (None, None))
        yield from _delegate(
            ctx,
            name,
            given
            or ROLE_TASKS.get(name)
            or f"{task.split('.')[0]}. Your part: {name.lower()} work, report back when done.",
            report,
        )
    yield Wait(lambda: ctx.reports_due <= 0)
    final = role.report if role else rng.choice(AGENT_MESSAGES)
    yield from model_call(ctx, tid, thoughts=thoughts, message=final)
    usage = _idle_usage(ctx, tid)
    totals = ctx.s.obj["usage"]  # a snapshot of the session's cumulative usage, as the API's
    w.emit(
        tid,
        "session.usage",
        {
            "usage": {key: totals.get(key, 0) for key in _TOKENS},
            "total_credits": totals.get("total_credits", 0.0),
        },
    )
    _set_status(ctx, tid, "idle")
    w.emit(tid, "session.status_idle", {"stop_reason": {"type": "end_turn"}, "usage": usage})


def solo_turn(ctx: Ctx, task: str, steps: int) -> Step:
    w, rng = ctx.w, ctx.rng
    tid = ctx.primary
    w.emit(tid, "user.message", {"content": [{"type": "text", "text": task}]})
    _set_status(ctx, tid, "running")
    w.emit(tid, "session.status_running")
    role = coordinator_role(task)
    for _ in range(steps):
        call = role_tool_call(rng, role) if role else make_tool_call(rng)
        thoughts = role.thoughts if role else None
        yield from model_call(ctx, tid, thought=rng.random() < 0.7, thoughts=thoughts, tool=call)
    answer = role.report if role else rng.choice(AGENT_MESSAGES)
    yield from model_call(ctx, tid, thoughts=role.thoughts if role else None, message=answer)
    usage = _idle_usage(ctx, tid)
    _set_status(ctx, tid, "idle")
    w.emit(tid, "session.status_idle", {"stop_reason": {"type": "end_turn"}, "usage": usage})
    yield 0.5


def forever(ctx: Ctx, first_task: int = 0) -> Step:
    """The live demo session: task after task, each delegated to children."""
    for n in itertools.count(first_task):
        task, helpers = TASKS[n % len(TASKS)]
        pick = helpers[: 2 + (n % 2)] if len(helpers) >= 3 else helpers
        yield from coordinator_turn(ctx, task, pick)
        yield ctx.rng.uniform(3.0, 6.0)


# --------------------------------------------------------------------------- sessions


def _session_obj(
    ids: IdMaker, when: datetime, title: str, agent: str, status: str, *, multi: bool
) -> dict[str, Any]:
    agent_obj: dict[str, Any] = {
        "id": ids.make("agent", when),
        "type": "agent",
        "version": 3,
        "name": agent,
        "description": "",
        "system": "You are an expert software engineer.",
        "model": {"id": "ultimate", "effective_context_window": 200000},
        "tools": [
            {
                "type": "agent_toolset_20260401",
                "enabled_tools": [
                    "Bash",
                    "Read",
                    "Write",
                    "Edit",
                    "Glob",
                    "Grep",
                    "WebFetch",
                    "WebSearch",
                ],
            }
        ],
        "skills": [],
        "mcp_servers": [],
    }
    if multi:
        agent_obj["multiagent"] = {"type": "coordinator", "agents": []}
    return {
        "id": ids.make("sess", when),
        "type": "session",
        "agent": agent_obj,
        "environment_id": ids.make("env", when),
        "environment_variables": {},
        "title": title,
        "status": status,
        "metadata": {"team": "payments"},
        "resources": [],
        "vault_ids": [],
        "outcome_evaluations": [],
        "deployment_id": None,
        "budget": None,
        "stats": {"active_seconds": 0.0, "duration_seconds": 0.0},
        "usage": {"total_credits": 0.0},
        "archived_at": None,
        "created_at": fmt_ts(when),
        "updated_at": fmt_ts(when),
    }


@dataclass
class WorldConfig:
    scenario: str = "demo"
    seed: int = 7
    big_events: int = 100_000
    start: datetime | None = None
    clock: Callable[[], datetime] | None = None
    live: bool = True
    live_speed: float = 1.0
    history_events: int = 20_000


class World:
    """Every session the simulator serves, newest first."""

    def __init__(self, config: WorldConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.ids = IdMaker(random.Random(config.seed * 7919 + 1))
        self.clock = config.clock or (lambda: datetime.now(UTC))
        self.start = config.start or self.clock().replace(microsecond=0)
        self.sessions: dict[str, SimSession] = {}
        self.live_runners: list[Callable[[], Any]] = []
        build = SCENARIOS.get(config.scenario)
        if build is None:
            raise ValueError(
                f"unknown scenario {config.scenario!r}; choose from {', '.join(SCENARIOS)}"
            )
        build(self)

    def add(self, session: SimSession) -> SimSession:
        self.sessions[session.id] = session
        return session

    def sorted_sessions(self) -> list[SimSession]:
        return sorted(self.sessions.values(), key=lambda s: s.obj["created_at"], reverse=True)

    def _new_session(
        self, title: str, agent: str, status: str, age: timedelta, *, multi: bool = True
    ) -> tuple[SimSession, datetime]:
        when = self.start - age
        sess = SimSession(obj=_session_obj(self.ids, when, title, agent, status, multi=multi))
        return self.add(sess), when

    def _ctx(self, sess: SimSession, when: datetime, seed: int) -> Ctx:
        # Ids of its own: sessions are built lazily, in whatever order clients ask for
        # them, and the same seed must give the same ids whatever that order.
        w = Writer(sess, IdMaker(random.Random(seed * 7919 + 1)), when)
        ctx = Ctx(w=w, rng=random.Random(seed))
        if not sess.primary_id:
            w.add_thread(name=sess.obj["agent"]["name"], parent_id=None)
        return ctx


def _finish(ctx: Ctx) -> None:
    s = ctx.s
    if not isinstance(s.obj.get("usage"), dict):
        s.obj["usage"] = {"total_credits": 0.0}
    s.obj["stats"] = {"active_seconds": 1800.0, "duration_seconds": 5400.0}


def _build_demo(world: World) -> None:
    cfg = world.config
    seed = cfg.seed

    # 1. The live multi-agent session (newest).
    live, when = world._new_session(
        "Backend team: requests from #eng-help",
        "eng-coordinator",
        "running",
        timedelta(minutes=3),
    )
    ctx = world._ctx(live, when, seed * 31 + 1)
    sched = Scheduler(ctx.w)
    # A first turn already finished before we started watching.
    sched.spawn(coordinator_turn(ctx, TASKS[4][0], TASKS[4][1]))
    sched.run_until(lambda: False)
    ctx.w.now = max(ctx.w.now, world.start - timedelta(seconds=5))
    live.live = cfg.live

    def run_live(ctx: Ctx = ctx) -> Any:
        return _play_live(world, ctx, forever(ctx))

    if cfg.live:
        world.live_runners.append(run_live)
    else:
        # Deterministic snapshot: play one more turn instantly, then stop.
        sched = Scheduler(ctx.w)
        sched.spawn(coordinator_turn(ctx, TASKS[0][0], TASKS[0][1][:2]))
        sched.run_until(lambda: False)

    # 2. Waiting for a tool confirmation.
    stuck, when = world._new_session(
        "Release 2.8.0 to production", "release-coordinator", "idle", timedelta(minutes=42)
    )
    stuck.builder = lambda s, when=when: _build_requires_action(world, s, when, seed * 31 + 2)

    # 3. Ended by session.error, retries exhausted.
    failed, when = world._new_session(
        "Summarise last week's incidents", "ops-analyst", "idle", timedelta(hours=3), multi=False
    )
    failed.builder = lambda s, when=when: _build_retries_exhausted(world, s, when, seed * 31 + 3)

    # 4. Terminated.
    term, when = world._new_session(
        "Rotate staging credentials", "ops-analyst", "terminated", timedelta(hours=7), multi=False
    )
    term.builder = lambda s, when=when: _build_terminated(world, s, when, seed * 31 + 4)

    # 5. A long finished session.
    big, when = world._new_session(
        "Migrate orders API to pydantic v2", "migration-coordinator", "idle", timedelta(days=2)
    )
    big.builder = lambda s, when=when: _build_long(
        world, s, when, seed * 31 + 5, cfg.history_events
    )


def _build_requires_action(world: World, s: SimSession, when: datetime, seed: int) -> None:
    ctx = world._ctx(s, when, seed)
    w, rng, tid = ctx.w, ctx.rng, ctx.primary
    sched = Scheduler(w)

    task = "Cut release 2.8.0 and deploy it to production."

    def turn() -> Step:
        w.emit(tid, "user.message", {"content": [{"type": "text", "text": task}]})
        _set_status(ctx, tid, "running")
        w.emit(tid, "session.status_running")
        role = SOLO[task]
        look = role_tool_call(rng, role, allow_error=False)
        yield from model_call(ctx, tid, thoughts=role.thoughts, tool=look)
        yield from _delegate_blocked(ctx, "Deployer")

    sched.spawn(turn())
    sched.run_until(lambda: False)


def _delegate_blocked(ctx: Ctx, name: str) -> Step:
    w, rng, tid = ctx.w, ctx.rng, ctx.primary
    task = ROLE_TASKS[name]
    start = w.emit(tid, "span.model_request_start")
    use = w.emit(
        tid,
        "agent.tool_use",
        {
            "name": "create_agent",
            "input": {"agent": name, "message": task},
            "evaluated_permission": "allow",
        },
    )
    w.emit(
        tid,
        "span.model_request_end",
        {"model_request_start_id": start["id"], "is_error": False, "model_usage": _usage(rng)},
    )
    child = w.add_thread(name=name, parent_id=tid, created_by_tool_use_id=use["id"])
    cid = child.id
    w.emit(tid, "session.thread_created", {"session_thread_id": cid, "agent_name": name})
    _hand_over(w, tid, cid, task, receiver_name=name, advance=0.05)
    w.emit(
        tid,
        "agent.tool_result",
        {
            "tool_use_id": use["id"],
            "content": [{"type": "text", "text": f"Started {name} ({cid})."}],
            "is_error": False,
        },
    )
    _set_status(ctx, cid, "running")
    w.emit(
        cid,
        "session.thread_status_running",
        {"session_thread_id": cid, "agent_name": name},
        cross_post=True,
    )
    role = ROLES[name]
    yield from model_call(ctx, cid, thoughts=role.thoughts[:1], tool=call_of(role, 0))
    start = w.emit(cid, "span.model_request_start")
    w.emit(cid, "agent.thinking", {"thinking": role.thoughts[1]})
    deploy = call_of(role, 2)
    ask = w.emit(
        cid,
        "agent.tool_use",
        {"name": deploy.name, "input": deploy.input, "evaluated_permission": "ask"},
    )
    # Cross-posted copy on the session stream (same event, thread id set).
    ask["session_thread_id"] = cid
    s = ctx.s
    s.session_log.append(ask)
    w.emit(
        cid,
        "span.model_request_end",
        {"model_request_start_id": start["id"], "is_error": False, "model_usage": _usage(rng)},
    )
    _set_status(ctx, cid, "idle")
    s.threads[cid].obj["stop_reason"] = {"type": "requires_action", "event_ids": [ask["id"]]}
    w.emit(
        cid,
        "session.thread_status_idle",
        {
            "session_thread_id": cid,
            "agent_name": name,
            "stop_reason": {"type": "requires_action", "event_ids": [ask["id"]]},
        },
        cross_post=True,
    )
    _set_status(ctx, tid, "idle")
    w.emit(
        tid,
        "session.status_idle",
        {
            "stop_reason": {"type": "requires_action", "event_ids": [ask["id"]]},
            "usage": _idle_usage(ctx, tid),
        },
    )
    yield 0


def _build_retries_exhausted(world: World, s: SimSession, when: datetime, seed: int) -> None:
    ctx = world._ctx(s, when, seed)
    w, tid = ctx.w, ctx.primary
    sched = Scheduler(w)
    sched.spawn(
        solo_turn(ctx, "Summarise the incidents of the last 7 days from the on-call log.", 3)
    )
    sched.run_until(lambda: False)

    def failing() -> Step:
        w.emit(
            tid,
            "user.message",
            {
                "content": [
                    {
                        "type": "text",
                        "text": "Now group them by service and rank by customer impact.",
                    }
                ]
            },
        )
        _set_status(ctx, tid, "running")
        w.emit(tid, "session.status_running")
        for attempt in range(3):
            w.emit(tid, "span.model_request_start")
            exhausted = attempt == 2
            w.emit(
                tid,
                "session.error",
                {
                    "error": {
                        "type": "model_overloaded_error",
                        "message": "The model is overloaded. Please retry later.",
                        "retry_status": {"type": "exhausted" if exhausted else "retrying"},
                        "request_id": f"req_{ctx.rng.getrandbits(64):016x}",
                    }
                },
                advance=2.0 * (attempt + 1),
            )
            if not exhausted:
                w.emit(tid, "session.status_rescheduled")
                w.emit(tid, "session.status_running", advance=1.0)
            yield 1
        _set_status(ctx, tid, "idle")
        w.emit(tid, "session.status_idle", {"stop_reason": {"type": "retries_exhausted"}})

    sched.spawn(failing())
    sched.run_until(lambda: False)
    _finish(ctx)


def _build_terminated(world: World, s: SimSession, when: datetime, seed: int) -> None:
    ctx = world._ctx(s, when, seed)
    w, tid = ctx.w, ctx.primary
    sched = Scheduler(w)
    sched.spawn(solo_turn(ctx, "Rotate the staging database credentials and update the vault.", 2))
    sched.run_until(lambda: False)
    w.emit(
        tid,
        "user.message",
        {"content": [{"type": "text", "text": "Also rotate the Stripe test key."}]},
    )
    w.emit(tid, "session.status_running")
    w.emit(
        tid,
        "session.error",
        {
            "error": {
                "type": "billing_error",
                "message": "The organisation has run out of credits.",
                "retry_status": {"type": "terminal"},
            }
        },
    )
    _set_status(ctx, tid, "terminated")
    s.obj["status"] = "terminated"
    w.emit(tid, "session.status_terminated")
    _finish(ctx)


def _build_long(world: World, s: SimSession, when: datetime, seed: int, target: int) -> None:
    ctx = world._ctx(s, when, seed)
    sched = Scheduler(ctx.w)
    n = 0

    def more() -> Step:
        nonlocal n
        while len(s.session_log) < target:
            # Each turn starts from the commit the last one left (a detail only it has).
            commit = f"{ctx.rng.getrandbits(28):07x}"
            module = LONG_MODULES[n % len(LONG_MODULES)]
            task = f"{LONG_TASKS[n % len(LONG_TASKS)]} Start from commit {commit}."
            n += 1
            parts = {
                name: (given.format(module=module), report.format(module=module))
                for name, (given, report) in LONG_HANDOFFS.items()
            }
            yield from coordinator_turn(
                ctx,
                task,
                list(parts),
                solo_steps=6,
                role=COORDINATOR[1],
                handoffs=parts,
            )
            yield 30.0

    sched.spawn(more())
    sched.run_until(lambda: False)
    _finish(ctx)


def _build_big(world: World) -> None:
    cfg = world.config
    sess, when = world._new_session(
        f"Benchmark thread with {cfg.big_events:,} events",
        "bench-agent",
        "idle",
        timedelta(hours=1),
        multi=False,
    )
    w = Writer(sess, world.ids, when)
    primary = w.add_thread(name="bench-agent", parent_id=None)
    log = SyntheticLog(sess.id, primary.id, cfg.big_events, start=when, seed=cfg.seed)
    primary.log = log
    sess.session_log = log
    small, when2 = world._new_session(
        "Benchmark thread with 100 events", "bench-agent", "idle", timedelta(hours=2), multi=False
    )
    w2 = Writer(small, world.ids, when2)
    p2 = w2.add_thread(name="bench-agent", parent_id=None)
    # Its events say what the big thread's newest 100 say (as far as the cycle allows): the
    # bench compares opening the two, and that should measure their size, not what they show.
    first = max(0, cfg.big_events - 100) // CYCLE * CYCLE
    log2 = SyntheticLog(small.id, p2.id, 100, start=when2, seed=cfg.seed, first=first)
    p2.log = log2
    small.session_log = log2


# --------------------------------------------------------------------------- hostile

ESCAPES = (
    "\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: write the clipboard
    "\x1b]0;pwned\x07"  # OSC 0: set the window title
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # OSC 8: a link
    "\x1b[2J\x1bc"  # clear, reset
    "\x1b[6n"  # ask the terminal to type its cursor position
    "\x9b31m\x85\x7f\x00"  # C1 CSI, NEL, DEL, NUL
)
"""Every sequence a hostile server might put into a string to drive the reader's terminal."""
TRICKS = "\u202eexe.txt\u202c \u200bzero\u2066width\u2069 [/bold] [WIP] [link=x]"
"""Bidi overrides, zero-width characters and Textual markup."""
DEEP_ITEM = "[" * 100_000 + "]" * 100_000
HUGE_OUTPUT_BYTES = 10_000_000


def _build_hostile(world: World) -> None:
    """One session in which every string a server sends is an attack (tests and `simulate`)."""
    sess, when = world._new_session(
        f"[WIP] {ESCAPES} title {TRICKS}", f"coord{ESCAPES}", "idle", timedelta(minutes=5)
    )
    w = Writer(sess, world.ids, when)
    primary = w.add_thread(name=f"coordinator {TRICKS}", parent_id=None)
    pid = primary.id
    looped = w.add_thread(name=f"self-parented {ESCAPES}", parent_id=None)
    looped.obj["parent_thread_id"] = looped.id
    a = w.add_thread(name="cycle-a", parent_id=pid)
    b = w.add_thread(name="cycle-b", parent_id=a.id)
    a.obj["parent_thread_id"] = b.id  # a -> b -> a
    sess.primary_id = pid
    hostile = f"{ESCAPES} {TRICKS}"
    w.emit(pid, "user.message", {"content": [{"type": "text", "text": f"please {hostile}"}]})
    w.emit(pid, "session.status_running")
    w.emit(pid, "agent.thinking", {"thinking": f"thinking {hostile}"})
    w.emit(
        pid,
        "agent.message",
        {"content": [{"type": "text", "text": f"**bold** {hostile}\n[red]not markup[/red]"}]},
    )
    use = w.emit(
        pid,
        "agent.tool_use",
        {"name": f"Bash{ESCAPES}", "input": {"command": f"echo {hostile}"}},
    )
    lines = [f"line {i:07d} {ESCAPES if i % 1000 == 0 else ''}" for i in range(2)]
    line = "output line of a very chatty build step, padded to fifty-odd chars ..\n"
    body = lines[0] + "\n" + line * (HUGE_OUTPUT_BYTES // len(line)) + lines[1]
    w.emit(pid, "agent.tool_result", {"tool_use_id": use["id"], "content": body})
    message = "A very long plain message.\n" + "".join(
        f"Paragraph {i}: the agent kept talking and talking {TRICKS}\n" for i in range(15_000)
    )
    w.emit(pid, "agent.message", {"content": [{"type": "text", "text": message}]})
    w.emit(
        pid,
        "session.error",
        {"error": {"type": f"[/bold]{ESCAPES}", "message": f"[/bold] failed {hostile}"}},
    )
    deep = w.emit(pid, "agent.message", {"content": "replaced by a raw item"})
    deep["__raw_json__"] = DEEP_ITEM
    w.emit(pid, f"x.unknown{ESCAPES}", {"payload": hostile})
    w.emit(pid, "agent.message", {"content": "x", "session_thread_id": f"[/bold]{ESCAPES}"})
    w.emit(
        pid,
        "session.status_idle",
        {"stop_reason": {"type": f"end_turn{ESCAPES}"}, "usage": {"input_tokens": 1}},
    )
    sess.obj["status"] = "idle"


SCENARIOS: dict[str, Callable[[World], None]] = {
    "demo": _build_demo,
    "big": _build_big,
    "hostile": _build_hostile,
}


async def _play_live(world: World, ctx: Ctx, gen: Step) -> None:
    """Play a turn generator in real time, stamping events with the wall clock."""
    ctx.w.time_source = world.clock
    sched = Scheduler(ctx.w)
    sched.spawn(gen)
    speed = max(world.config.live_speed, 0.01)
    while True:
        delay = sched.next_delay()
        if delay is None:
            return
        if delay > 0:
            await asyncio.sleep(delay / speed)
        sched.step()


__all__ = ["SCENARIOS", "EventLog", "SimThread", "World", "WorldConfig"]
