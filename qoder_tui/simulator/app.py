"""The simulator's HTTP face: a starlette app speaking the Qoder wire format."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from .dialects import DIALECTS, event_out, page_out, session_out, thread_out
from .scenarios import World, WorldConfig
from .world import TERMINAL_TYPES, SimSession

MAX_LIMIT = 100
STREAM_ERROR = (
    b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
    b'"message":"Overloaded \\u001b[2J\\u202eretry later"}}\n\n'
)
"""What `error_after` ends a stream with (its message carries a terminal escape and a bidi
override: the app shows neither)."""
NEWLINES = {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}
RAW = "__raw_json__"
"""An event carrying this key is served as that text, not as JSON of the dict (hostile tests)."""


@dataclass
class Faults:
    """Misbehaviour on demand, for tests and benchmarks.  All deterministic under the seed."""

    drop_every: int = 0
    """Close each stream connection after this many event frames (0: never)."""
    drop_mid_frame: bool = False
    """When dropping, first write half of the next frame (every other drop)."""
    error_rate: float = 0.0
    """Share of requests answered with `error_status` instead."""
    error_status: int = 503
    error_mix: bool = False
    """Cycle through 429 with Retry-After, 429 with retry-after-ms, and 503 (instead of
    always `error_status`)."""
    retry_after: float | None = None
    """Seconds to send in `Retry-After` with those errors."""
    delay: float = 0.0
    """Seconds to wait before answering every request."""
    malformed_every: int = 0
    """Insert a malformed frame before every K-th event frame on streams."""
    done_after: int = 0
    """End each stream after K event frames with `data: [DONE]`, as the SDK's streams may
    end, then close it (0: never)."""
    error_after: int = 0
    """End each stream after K event frames with an `event: error` frame, in the same write
    as those frames (0: never)."""
    dialect: str = "sdk"
    sse_retry_ms: int | None = None
    """Send an SSE `retry:` field with this many milliseconds when a stream opens."""
    cursor_refusal_status: int = 400
    """How an unknown `Last-Event-ID` is refused: 400 `invalid_event_cursor`, or 404 (D24)."""
    thread_stream_route: bool = True
    """False: `/threads/{id}/stream` answers 404, as on servers that only negotiate SSE on `/events`."""
    refuse_types: bool = False
    """True: a list of events with a type filter answers 400, as Forward mode does (D19)."""
    bad_encoding_every: int = 0
    """Answer every K-th request (lists and streams alike) with `Content-Encoding: gzip`
    over a body that is not gzip, as a proxy that mangles compression would (0: never)."""
    newline: str = "lf"
    """How stream lines end: `lf`, `crlf` or `cr` (all three are SSE)."""
    chunk_bytes: int = 0
    """Write streams in pieces of this many bytes, cutting lines, line ends and UTF-8
    characters wherever they fall (0: a frame or a batch of frames at a time)."""


@dataclass
class SimConfig:
    world: WorldConfig = field(default_factory=WorldConfig)
    token: str = "sim-token"
    heartbeat: float = 15.0
    heartbeat_style: str = "comment"
    faults: Faults = field(default_factory=Faults)


def _error(status: int, etype: str, message: str, request_id: str, **extra: Any) -> JSONResponse:
    body = {
        "type": "error",
        "request_id": request_id,
        "error": {"type": etype, "message": message, **extra},
    }
    return JSONResponse(body, status_code=status, headers={"x-request-id": request_id})


class Simulator:
    """Route handlers bound to one world."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        if config.faults.dialect not in DIALECTS:
            raise ValueError(
                f"unknown dialect {config.faults.dialect!r}; choose from {', '.join(DIALECTS)}"
            )
        if config.faults.newline not in NEWLINES:
            raise ValueError(
                f"unknown newline {config.faults.newline!r}; choose from {', '.join(NEWLINES)}"
            )
        self.world = World(config.world)
        self.fault_rng = random.Random(config.world.seed * 104729 + 3)
        self.drops = 0
        self.stats = {"requests": 0, "errors_injected": 0, "streams": 0, "drops": 0}
        self.live_tasks: list[asyncio.Task[Any]] = []
        self.path_counts: dict[str, int] = {}
        """Requests per URL path (tests check that something was asked for once)."""
        self.recent_requests: deque[str] = deque(maxlen=2_000)
        """The last requests' paths with their queries, oldest first."""
        self._kinds: dict[int, list[str]] = {}
        """Each log's event types by index (type filters read them, not whole events)."""

    @property
    def dialect(self) -> str:
        return self.config.faults.dialect

    # ------------------------------------------------------------------ lifecycle

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        for runner in self.world.live_runners:
            self.live_tasks.append(asyncio.create_task(runner()))
        try:
            yield
        finally:
            for task in self.live_tasks:
                task.cancel()
            for task in self.live_tasks:
                with contextlib.suppress(BaseException):
                    await task
            self.live_tasks.clear()

    # ------------------------------------------------------------------ guards

    async def _guard(self, request: Request) -> tuple[str, Response | None]:
        rid = request.headers.get("x-request-id") or str(
            uuid.UUID(int=self.fault_rng.getrandbits(128))
        )
        self.stats["requests"] += 1
        self.path_counts[request.url.path] = self.path_counts.get(request.url.path, 0) + 1
        query = request.url.query
        self.recent_requests.append(f"{request.url.path}?{query}" if query else request.url.path)
        f = self.config.faults
        if f.delay > 0:
            await asyncio.sleep(f.delay)
        if request.headers.get("x-api-key") and not request.headers.get("authorization"):
            return rid, _error(
                401,
                "authentication_error",
                "x-api-key is not supported; use Authorization: Bearer.",
                rid,
            )
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or token.strip() != self.config.token:
            return rid, _error(401, "authentication_error", "Invalid API key or token.", rid)
        if f.bad_encoding_every and self.stats["requests"] % f.bad_encoding_every == 0:
            self.stats["bad_encodings"] = self.stats.get("bad_encodings", 0) + 1
            streaming = "text/event-stream" in request.headers.get("accept", "")
            return rid, Response(
                b"\x1f\x8b\x08\x00 this is not gzip",
                media_type="text/event-stream" if streaming else "application/json",
                headers={"Content-Encoding": "gzip", "x-request-id": rid},
            )
        if f.error_rate > 0 and self.fault_rng.random() < f.error_rate:
            self.stats["errors_injected"] += 1
            status = f.error_status
            turn = self.stats["errors_injected"] % 3
            if f.error_mix:
                status = 503 if turn == 0 else 429
            self.stats[f"status_{status}"] = self.stats.get(f"status_{status}", 0) + 1
            headers = {"x-request-id": rid}
            if f.retry_after is not None:
                if f.error_mix and turn == 2:
                    headers["retry-after-ms"] = f"{f.retry_after * 1000:g}"
                    self.stats["retry_after_ms"] = self.stats.get("retry_after_ms", 0) + 1
                else:
                    headers["retry-after"] = f"{f.retry_after:g}"
            etype = "rate_limit_error" if status == 429 else "api_error"
            body = {
                "type": "error",
                "request_id": rid,
                "error": {"type": etype, "message": "Injected fault."},
            }
            return rid, JSONResponse(body, status_code=status, headers=headers)
        return rid, None

    def _session(self, session_id: str, rid: str) -> SimSession | Response:
        sess = self.world.sessions.get(session_id)
        if sess is None:
            return _error(
                404,
                "not_found_error",
                f"Session '{session_id}' was not found.",
                rid,
                code="session_not_found",
            )
        sess.ensure_built()
        return sess

    def _thread_log(self, sess: SimSession, thread_id: str, rid: str) -> Any:
        thread = sess.threads.get(thread_id)
        if thread is None:
            return _error(
                404,
                "not_found_error",
                f"Session thread '{thread_id}' was not found.",
                rid,
                code="thread_not_found",
            )
        return thread.log

    def _object_page(
        self,
        objs: list[dict[str, Any]],
        q: Any,
        limit: int,
        rid: str,
        out: Callable[[dict[str, Any], str], dict[str, Any]],
    ) -> Response:
        """A page of sessions or threads, in the list's own order, in this dialect."""
        index = {o["id"]: i for i, o in enumerate(objs)}
        try:
            page = _paginate(len(objs), objs.__getitem__, index.get, q, limit, "asc")
        except ValueError as exc:
            return _error(400, "invalid_request_error", str(exc), rid)
        page["data"] = [out(o, self.dialect) for o in page["data"]]
        return self._json(page_out(self.dialect, page), rid)

    # ------------------------------------------------------------------ sessions

    async def list_sessions(self, request: Request) -> Response:
        rid, err = await self._guard(request)
        if err:
            return err
        q = request.query_params
        try:
            limit = _limit(q)
            order = _order(q, "desc")
        except ValueError as exc:
            return _error(400, "invalid_request_error", str(exc), rid)
        statuses = set(q.getlist("statuses[]") + q.getlist("statuses"))
        statuses = {s for part in statuses for s in part.split(",") if s}
        bad = statuses - {"running", "idle", "rescheduling", "terminated"}
        if bad:
            return _error(
                400,
                "invalid_request_error",
                f"Unknown status filter: {', '.join(sorted(bad))}.",
                rid,
            )
        include_archived = q.get("include_archived", "false").lower() == "true"
        agent_id = q.get("agent_id")
        sessions = self.world.sorted_sessions()
        if order == "asc":
            sessions.reverse()
        items = [
            s.obj
            for s in sessions
            if (not statuses or s.obj.get("status") in statuses)
            and (include_archived or not s.obj.get("archived_at"))
            and (not agent_id or s.obj["agent"]["id"] == agent_id)
            and _created_ok(s.obj.get("created_at", ""), q)
        ]
        return self._object_page(items, q, limit, rid, session_out)

    async def get_session(self, request: Request) -> Response:
        opened = await self._open_session(request)
        if isinstance(opened, Response):
            return opened
        rid, sess = opened
        return self._json(session_out(sess.obj, self.dialect), rid)

    # ------------------------------------------------------------------ threads

    async def list_threads(self, request: Request) -> Response:
        opened = await self._open_session(request)
        if isinstance(opened, Response):
            return opened
        rid, sess = opened
        q = request.query_params
        try:
            limit = _limit(q, default=1000, maximum=1000)
        except ValueError as exc:
            return _error(400, "invalid_request_error", str(exc), rid)
        objs = [t.obj for t in sess.threads.values()]  # primary first: it is created first
        return self._object_page(objs, q, limit, rid, thread_out)

    async def get_thread(self, request: Request) -> Response:
        opened = await self._open_session(request)
        if isinstance(opened, Response):
            return opened
        rid, sess = opened
        thread = sess.threads.get(request.path_params["thread_id"])
        if thread is None:
            return _error(
                404,
                "not_found_error",
                f"Session thread '{request.path_params['thread_id']}' was not found.",
                rid,
            )
        return self._json(thread_out(thread.obj, self.dialect), rid)

    # ------------------------------------------------------------------ events

    async def session_events(self, request: Request) -> Response:
        return await self._events(request, thread=False)

    async def thread_events(self, request: Request) -> Response:
        return await self._events(request, thread=True)

    async def _events(self, request: Request, *, thread: bool) -> Response:
        if "text/event-stream" in request.headers.get("accept", ""):
            return await self._stream(request, thread=thread)
        opened = await self._open_log(request, thread=thread)
        if isinstance(opened, Response):
            return opened
        rid, sess, log, owner = opened
        q = request.query_params
        try:
            limit = _limit(q)
            order = _order(q, "asc")
        except ValueError as exc:
            return _error(400, "invalid_request_error", str(exc), rid)
        types = _types(q)
        if types and self.config.faults.refuse_types:
            return _error(400, "invalid_request_error", "types is not a supported parameter.", rid)
        created = any(k.startswith("created_at[") for k in q)
        filtered = bool(types) or created
        n = len(log)
        if filtered:
            kinds = self._types_of(log)
            idx = [
                i
                for i in range(n)
                if (not types or kinds[i] in types)
                and (not created or _created_ok(log.get(i).get("processed_at", ""), q))
            ]
            get = lambda i: log.get(idx[i])  # noqa: E731
            pos = _filtered_position(idx, log.index_of, q, order)
            count = len(idx)
        else:
            get, pos, count = log.get, log.index_of, n
        try:
            page = _paginate(count, get, pos, q, limit, order)
        except ValueError as exc:
            return _error(400, "invalid_request_error", str(exc), rid)
        page["data"] = [self._event_out(sess, e, owner) for e in page["data"]]
        return self._json(page_out(self.dialect, page), rid)

    def _types_of(self, log: Any) -> list[str]:
        """Each event's type, by index (logs only grow: computed once per event; a
        synthetic log names its types without making its events)."""
        kinds = self._kinds.setdefault(id(log), [])
        type_at = getattr(log, "type_at", None)
        if type_at is not None:
            kinds.extend(map(type_at, range(len(kinds), len(log))))
        for i in range(len(kinds), len(log)):
            kinds.append(log.get(i).get("type", ""))
        return kinds

    def _json(self, body: Any, rid: str) -> Response:
        """JSON, with any item marked `__raw_json__` spliced in as that text (hostile scenario)."""
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list) or not any(isinstance(i, dict) and RAW in i for i in items):
            return JSONResponse(body, headers={"x-request-id": rid})
        parts = [
            i[RAW] if isinstance(i, dict) and RAW in i else json.dumps(i, ensure_ascii=False)
            for i in items
        ]
        text = json.dumps({**body, "data": "\x00data\x00"}, ensure_ascii=False).replace(
            '"\\u0000data\\u0000"', "[" + ",".join(parts) + "]"
        )
        return Response(text, media_type="application/json", headers={"x-request-id": rid})

    async def _open_session(self, request: Request) -> tuple[str, SimSession] | Response:
        """Guard the request, then find the session it names (or answer 401/404/a fault)."""
        rid, err = await self._guard(request)
        if err:
            return err
        sess = self._session(request.path_params["session_id"], rid)
        if isinstance(sess, Response):
            return sess
        return rid, sess

    async def _open_log(
        self, request: Request, *, thread: bool
    ) -> tuple[str, SimSession, Any, str | None] | Response:
        """Guard the request, then find its session and the log asked for (session or thread)."""
        opened = await self._open_session(request)
        if isinstance(opened, Response):
            return opened
        rid, sess = opened
        if not thread:
            return rid, sess, sess.session_log, None
        owner = request.path_params["thread_id"]
        log = self._thread_log(sess, owner, rid)
        if isinstance(log, Response):
            return log
        return rid, sess, log, owner

    def _event_out(
        self, sess: SimSession, event: dict[str, Any], owner: str | None
    ) -> dict[str, Any]:
        return event_out(
            event,
            self.dialect,
            session_id=sess.id,
            owner_thread_id=owner,
            primary_id=sess.primary_id,
        )

    # ------------------------------------------------------------------ streams

    async def session_stream(self, request: Request) -> Response:
        return await self._stream(request, thread=False)

    async def thread_stream(self, request: Request) -> Response:
        if not self.config.faults.thread_stream_route:
            return Response("404 page not found", status_code=404, media_type="text/plain")
        return await self._stream(request, thread=True)

    def _frame(self, sess: SimSession, event: dict[str, Any], owner: str | None) -> bytes:
        if RAW in event:
            return f"id: {event['id']}\nevent: {event.get('type')}\ndata: {event[RAW]}\n\n".encode()
        out = self._event_out(sess, event, owner)
        if self.dialect == "g1":
            out = {k: v for k, v in out.items() if k not in ("id", "type")}
        data = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
        return f"id: {event['id']}\nevent: {event.get('type') if self.dialect != 'g1' else out.get('type', event.get('type'))}\ndata: {data}\n\n".encode()

    async def _stream(self, request: Request, *, thread: bool) -> Response:
        opened = await self._open_log(request, thread=thread)
        if isinstance(opened, Response):
            return opened
        rid, sess, log, owner = opened
        last_id = request.headers.get("last-event-id")
        start = 0
        if last_id:
            index = log.index_of(last_id)
            if index is None:
                where = "thread" if thread else "session"
                self.stats["cursors_refused"] = self.stats.get("cursors_refused", 0) + 1
                if self.config.faults.cursor_refusal_status == 404:
                    return _error(
                        404,
                        "not_found_error",
                        f"Event '{last_id}' was not found in this {where}.",
                        rid,
                        code="thread_not_found",
                    )
                return _error(
                    400,
                    "invalid_request_error",
                    f"Last-Event-ID '{last_id}' is not a public event of this {where}.",
                    rid,
                    code="invalid_event_cursor",
                )
            start = index + 1
        self.stats["streams"] += 1
        return StreamingResponse(
            self._shaped(self._frames(sess, log, owner, start)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "x-request-id": rid, "X-Accel-Buffering": "no"},
        )

    async def _shaped(self, frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The stream as the faults shape it: its line ends, and its pieces."""
        f = self.config.faults
        end = NEWLINES[f.newline]
        async for chunk in frames:
            if end != b"\n":
                chunk = chunk.replace(b"\n", end)
            if not f.chunk_bytes:
                yield chunk
                continue
            for at in range(0, len(chunk), f.chunk_bytes):
                yield chunk[at : at + f.chunk_bytes]

    async def _frames(
        self, sess: SimSession, log: Any, owner: str | None, pos: int
    ) -> AsyncIterator[bytes]:
        f = self.config.faults
        sent = 0
        yield b": connected\n\n"
        if f.sse_retry_ms is not None:
            yield f"retry: {f.sse_retry_ms}\n\n".encode()
        heartbeat = (
            b"event: heartbeat\ndata: {}\n\n"
            if self.config.heartbeat_style == "event"
            else b": heartbeat\n\n"
        )
        while True:
            n = len(log)
            if pos < n:
                chunk: list[bytes] = []
                end = min(n, pos + 64)
                terminal = False
                while pos < end:
                    event = log.get(pos)
                    if f.malformed_every and (pos + 1) % f.malformed_every == 0:
                        chunk.append(
                            f'event: agent.message\ndata: {{"id": "broken-{pos}", "type": \n\n'.encode()
                        )
                    if f.done_after and sent >= f.done_after:
                        chunk.append(b"data: [DONE]\n\n")
                        yield b"".join(chunk)
                        return
                    if f.error_after and sent >= f.error_after:
                        chunk.append(STREAM_ERROR)
                        yield b"".join(chunk)
                        return
                    if f.drop_every and sent >= f.drop_every:
                        self.drops += 1
                        self.stats["drops"] += 1
                        if f.drop_mid_frame and self.drops % 2 == 0:
                            frame = self._frame(sess, event, owner)
                            chunk.append(frame[: len(frame) // 2])
                        yield b"".join(chunk)
                        return
                    chunk.append(self._frame(sess, event, owner))
                    sent += 1
                    pos += 1
                    if event.get("type") in TERMINAL_TYPES:
                        terminal = True
                        break
                yield b"".join(chunk)
                if terminal:
                    return
                continue
            if sess.ended():
                return
            waiter = sess.changed_event()
            try:
                await asyncio.wait_for(waiter.wait(), timeout=self.config.heartbeat)
            except TimeoutError:
                self.stats["heartbeats"] = self.stats.get("heartbeats", 0) + 1
                yield heartbeat

    # ------------------------------------------------------------------ control (tests, benches)

    async def control_append(self, request: Request) -> Response:
        """POST /_sim/sessions/{id}/grow?count=N: append N synthetic events to a `big` thread."""
        opened = await self._open_session(request)
        if isinstance(opened, Response):
            return opened
        rid, sess = opened
        count = int(request.query_params.get("count", "1"))
        log = sess.session_log
        if not hasattr(log, "grow"):
            return _error(400, "invalid_request_error", "Only synthetic sessions can grow.", rid)
        log.grow(count)
        sess.notify()
        return self._json({"size": len(log)}, rid)

    async def control_stats(self, request: Request) -> Response:
        rid, err = await self._guard(request)
        if err:
            return err
        return self._json(dict(self.stats), rid)

    # ------------------------------------------------------------------ app

    def routes(self) -> list[Route]:
        return [
            Route("/sessions", self.list_sessions),
            Route("/sessions/{session_id}", self.get_session),
            Route("/sessions/{session_id}/threads", self.list_threads),
            Route("/sessions/{session_id}/threads/{thread_id}", self.get_thread),
            Route("/sessions/{session_id}/events", self.session_events),
            Route("/sessions/{session_id}/events/stream", self.session_stream),
            Route("/sessions/{session_id}/threads/{thread_id}/events", self.thread_events),
            Route("/sessions/{session_id}/threads/{thread_id}/stream", self.thread_stream),
        ]

    def build(self) -> Starlette:
        control = [
            Route("/_sim/sessions/{session_id}/grow", self.control_append, methods=["POST"]),
            Route("/_sim/stats", self.control_stats),
        ]
        return Starlette(
            routes=[
                Mount("/api/v1/cloud", routes=self.routes()),
                Mount("/v1", routes=self.routes()),
                *control,
            ],
            lifespan=self.lifespan,
        )


# --------------------------------------------------------------------------- paging


def _limit(q: Any, default: int = 20, maximum: int = MAX_LIMIT) -> int:
    raw = q.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"limit must be an integer, got {raw!r}.") from None
    if value < 1:
        raise ValueError("limit must be at least 1.")
    if value > maximum:
        raise ValueError(f"limit must be at most {maximum}.")
    return value


def _order(q: Any, default: str) -> str:
    order = q.get("order", default)
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', got {order!r}.")
    return str(order)


def _types(q: Any) -> set[str]:
    values = q.getlist("types[]") + q.getlist("types") + q.getlist("type")
    return {t for v in values for t in v.split(",") if t}


def _created_ok(ts: str, q: Any) -> bool:
    for op in ("gt", "gte", "lt", "lte"):
        bound = q.get(f"created_at[{op}]")
        if bound is None:
            continue
        b = bound.replace("+00:00", "Z")
        if (
            (op == "gt" and not ts > b)
            or (op == "gte" and not ts >= b)
            or (op == "lt" and not ts < b)
            or (op == "lte" and not ts <= b)
        ):
            return False
    return True


def _filtered_position(
    idx: list[int], index_of: Callable[[str], int | None], q: Any, order: str
) -> Callable[[str], int | None]:
    """Where a cursor falls among the events a type filter kept.

    The cursor may name an event the filter left out (a client paging back from
    an event of another type): it then stands between two kept ones, and the
    position returned makes `_paginate` step to the right side of it.
    """
    before = bool(q.get("before_id"))

    def position(event_id: str) -> int | None:
        j = index_of(event_id)
        if j is None:
            return None
        if before == (order != "desc"):
            return bisect_left(idx, j)
        return bisect_right(idx, j) - 1

    return position


def _paginate(
    n: int,
    get: Callable[[int], dict[str, Any]],
    index_of: Callable[[str], int | None],
    q: Any,
    limit: int,
    order: str,
) -> dict[str, Any]:
    """Apply `page` / `before_id` / `after_id` to an ascending sequence of n items.

    `order=desc` walks from the end.  `after_id` and `page` continue in the
    direction of travel; `before_id` steps against it and returns the items
    immediately preceding the cursor, in the requested order.
    """
    cursors = [k for k in ("page", "before_id", "after_id") if q.get(k)]
    if len(cursors) > 1:
        raise ValueError(f"{' and '.join(cursors)} cannot be used together.")

    def locate(key: str) -> int:
        value = q.get(key)
        index = index_of(value)
        if index is None:
            raise ValueError(f"{key} {value!r} does not identify an item of this list.")
        return int(index)

    desc = order == "desc"
    if cursors and cursors[0] in ("page", "after_id"):
        c = locate(cursors[0])
        indices = (
            list(range(c - 1, max(-1, c - 1 - limit), -1))
            if desc
            else list(range(c + 1, min(n, c + 1 + limit)))
        )
        more = (
            (indices[-1] > 0 if indices else False)
            if desc
            else (indices[-1] < n - 1 if indices else False)
        )
    elif cursors:  # before_id: the items just before the cursor in this order
        c = locate("before_id")
        if desc:
            indices = list(range(min(n - 1, c + limit), c, -1))
            more = bool(indices) and indices[0] < n - 1
        else:
            indices = list(range(max(0, c - limit), c))
            more = bool(indices) and indices[0] > 0
    else:
        indices = (
            list(range(n - 1, max(-1, n - 1 - limit), -1)) if desc else list(range(min(n, limit)))
        )
        more = (
            (bool(indices) and indices[-1] > 0) if desc else (bool(indices) and indices[-1] < n - 1)
        )
    data = [get(i) for i in indices]
    first = data[0]["id"] if data else None
    last = data[-1]["id"] if data else None
    return {
        "data": data,
        "first_id": first,
        "last_id": last,
        "has_more": more,
        "next_page": last if more and not (cursors and cursors[0] == "before_id") else None,
    }
