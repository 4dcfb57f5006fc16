"""Following a session or thread live over SSE, exactly once, across any drop.

The follower reads frames with `sse.SSEDecoder` and keeps the SDK's rules: comment
heartbeats, `heartbeat` and `ping` events are skipped; `data: [DONE]` ends a
connection; an `event: error` frame is fatal; the JSON `type` wins over the
`event:` name; the checkpoint (`Last-Event-ID`) only moves after a whole frame
was read.  Unlike the SDK, it also deduplicates by event id, so a replay after
a reconnect, or the overlap between fetched history and the stream, never
yields an event twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, cast

from .client import (
    CONNECT_TIMEOUT,
    QoderClient,
    _httpx,
    _seg,
    broken_exchange,
    describe_transport_error,
    retry_delay,
    should_retry,
)
from .errors import (
    BadRequestError,
    ConnectionFailedError,
    NotFoundError,
    QoderError,
    StreamError,
)
from .models import REORDER_SLACK, Event, MalformedEvent, is_terminal, parse_event
from .sanitize import clean_label
from .sse import SSEDecoder

if TYPE_CHECKING:
    import httpx

Phase = Literal["connecting", "live", "reconnecting", "ended", "failed"]

SKIPPED_TYPES = frozenset({"heartbeat", "ping", "event_start", "event_delta"})


@dataclass(frozen=True)
class StreamState:
    """What the follower is doing, for a status bar."""

    phase: Phase
    attempt: int = 0
    reason: str = ""
    delay: float = 0.0

    def describe(self) -> str:
        if self.phase == "live":
            return "live"
        if self.phase == "connecting":
            return "connecting…"
        if self.phase == "reconnecting":
            return f"reconnecting (attempt {self.attempt}, in {self.delay:.1f}s): {self.reason}"
        if self.phase == "ended":
            return f"ended: {self.reason}" if self.reason else "ended"
        return f"offline: {self.reason}"


class _Retry(Exception):
    def __init__(self, reason: str, response: httpx.Response | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response


class _CursorRefused(Exception):
    """The server refused `Last-Event-ID` (400, or 404 on a resume: D24)."""

    def __init__(self, error: QoderError) -> None:
        super().__init__(str(error))
        self.error = error


class RecentIds:
    """The ids of the newest events delivered, at most `limit` of them (a bounded `seen`).

    Older duplicates are caught by time instead: the follower never delivers
    an event older than the newest it delivered.
    """

    __slots__ = ("_ids", "_order", "limit")

    def __init__(self, ids: Iterable[str] = (), limit: int = 20_000) -> None:
        self.limit = limit
        self._order: deque[str] = deque()
        self._ids: set[str] = set()
        for event_id in ids:
            self.add(event_id)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        if event_id not in self._ids:
            self.add_new(event_id)

    def add_new(self, event_id: str) -> None:
        """Add an id known not to be here (one lookup fewer, for every live event)."""
        self._ids.add(event_id)
        self._order.append(event_id)
        if len(self._order) > self.limit:
            self._ids.discard(self._order.popleft())


RESYNC_PAGES = 20
"""Pages walked back after a refused cursor before giving up on finding where we were."""


class Follower:
    """Yields the live events of a session (or of one thread) exactly once, in order.

    - Reconnects after any drop with `Last-Event-ID`, waiting with jittered
      exponential backoff; the attempt count starts again as soon as a
      connection delivers a new event, and the server's SSE `retry:` field,
      or a `Retry-After` on 429/503, sets the wait.
    - A refused cursor (400, or 404 on a resume) makes it fetch the newest
      page, walk back to the newest event it had delivered, hand over what
      it missed, and resume from the newest id; nothing older than what it
      delivered is ever handed over, whatever a server replays.
    """

    def __init__(
        self,
        client: QoderClient,
        session_id: str,
        thread_id: str | None = None,
        *,
        last_event_id: str | None = None,
        seen: Iterable[str] = (),
        newest_time: datetime | None = None,
        on_state: Callable[[StreamState], None] | None = None,
        initial_backoff: float = 0.5,
        max_backoff: float = 10.0,
        read_timeout: float = 60.0,
        seen_limit: int = 20_000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.thread_id = thread_id
        self.last_event_id = last_event_id
        self.seen = RecentIds(seen, seen_limit)
        self.newest_time = newest_time
        """The time of the newest event delivered: nothing older is delivered after it."""
        self._on_state = on_state
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.read_timeout = read_timeout
        self.retry_hint: float | None = None
        """The server's SSE `retry:` field, in seconds."""
        self._sleep = sleep
        self._use_events_route = False
        self.state = StreamState("connecting")
        self.connections = 0
        self.delays: list[float] = []
        """Every wait before a reconnect, in seconds (for a status line and for tests)."""
        self._delivered_on_connection = 0

    # ------------------------------------------------------------------ state

    def _set_state(self, state: StreamState) -> None:
        self.state = state
        if self._on_state is not None:
            self._on_state(state)

    @property
    def scope(self) -> str:
        return QoderClient.scope_name(self.session_id, self.thread_id)

    def _paths(self) -> list[str]:
        sid = _seg(self.session_id)
        if self.thread_id is None:
            return [f"sessions/{sid}/events/stream"]
        tid = _seg(self.thread_id)
        stream = f"sessions/{sid}/threads/{tid}/stream"
        events = f"sessions/{sid}/threads/{tid}/events"
        return [events] if self._use_events_route else [stream, events]

    # ------------------------------------------------------------------ connect

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[httpx.Response]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        httpx = _httpx()  # (loaded: a stream is opened after the first paint)
        timeout = httpx.Timeout(self.read_timeout, connect=CONNECT_TIMEOUT)
        paths = self._paths()
        for index, path in enumerate(paths):
            request = self.client.http.build_request("GET", path, headers=headers, timeout=timeout)
            try:
                response = await self.client.http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise _Retry(describe_transport_error(exc, self.client.base_url)) from None
            try:
                status = response.status_code
                if status in (404, 405) and index + 1 < len(paths):
                    await response.aread()
                    if not _is_api_error(response):
                        # The `/stream` route is missing (a router's 404, not the API's
                        # error envelope): try `/events` with Accept: text/event-stream.
                        continue
                if status >= 300:
                    await response.aread()
                    if should_retry(status, response.headers):
                        raise _Retry(f"the server answered {status}", response)
                    error = self.client._error(response, f"the live stream of {self.scope}")
                    if self.last_event_id and isinstance(error, (BadRequestError, NotFoundError)):
                        raise _CursorRefused(error)
                    raise error
                ctype = response.headers.get("content-type", "")
                if "text/event-stream" not in ctype:
                    await response.aread()
                    raise QoderError(
                        f"The server does not stream {self.scope}: it answered with "
                        f"{clean_label(ctype)[:80] or 'no content type'} instead of text/event-stream."
                    )
                if index > 0:
                    self._use_events_route = True
                yield response
                return
            finally:
                await response.aclose()

    # ------------------------------------------------------------------ main loop

    def backoff(self, attempt: int, response: httpx.Response | None = None) -> float:
        """The wait before reconnect number `attempt` (1 after a connection that delivered)."""
        if response is not None and (
            response.headers.get("retry-after-ms") or response.headers.get("retry-after")
        ):
            return retry_delay(response, attempt)
        first = self.retry_hint if self.retry_hint is not None else self.initial_backoff
        base = min(first * (2 ** max(0, attempt - 1)), max(self.max_backoff, first))
        return random.uniform(base / 2, base)

    async def events(self) -> AsyncIterator[Event]:
        """The live events, each once.  Ends after a terminal event; raises QoderError if fatal."""
        async with aclosing(self.batches()) as batches:
            async for batch in batches:
                for event in batch:
                    yield event

    async def batches(self) -> AsyncGenerator[list[Event], None]:
        """Like `events`, a batch at a time (the events of a chunk of the stream, or what a
        resync found)."""
        attempt = 0
        while True:
            self._set_state(
                StreamState("connecting")
                if attempt == 0
                else StreamState("reconnecting", attempt, self.state.reason, 0.0)
            )
            response_for_delay: httpx.Response | None = None
            self._delivered_on_connection = 0
            try:
                async with self._connect() as response:
                    self.connections += 1
                    self._set_state(StreamState("live"))
                    async with aclosing(self._read(response)) as frames:
                        async for batch in frames:
                            for i, event in enumerate(batch):
                                if is_terminal(event):
                                    yield batch[: i + 1]
                                    self._set_state(StreamState("ended", reason=event.type))
                                    return
                            yield batch
                reason = "the server closed the stream"
            except _Retry as retry:
                reason = retry.reason
                response_for_delay = retry.response
            except _CursorRefused as refused:
                reason = (
                    f"the server refused the resume cursor ({refused.error.message}); resyncing"
                )
                async with aclosing(self._resync()) as found:
                    async for batch in found:
                        yield batch
                        if batch and is_terminal(batch[-1]):
                            self._set_state(StreamState("ended", reason=batch[-1].type))
                            return
            except QoderError as exc:
                self._set_state(StreamState("failed", reason=str(exc)))
                raise
            except Exception as exc:  # (what httpx raises is known once it is loaded)
                if not isinstance(exc, (*broken_exchange(), _httpx().StreamError)):
                    raise
                reason = describe_transport_error(exc, self.client.base_url)
            if self._delivered_on_connection:
                attempt = 0  # that connection worked: start the backoff again
            attempt += 1
            delay = self.backoff(attempt, response_for_delay)
            self.delays.append(delay)
            self._set_state(StreamState("reconnecting", attempt, reason, delay))
            await self._sleep(delay)

    def _accept(self, event: Event) -> bool:
        """Whether to deliver this event: not seen, and not older than what was delivered."""
        event_id = event.id
        seen = self.seen
        if event_id in seen:
            return False
        when = event.time
        if when is not None:
            newest = self.newest_time
            if newest is None or when > newest:
                self.newest_time = when
            elif when < newest - REORDER_SLACK:  # (worked out only for one not newer)
                return False
        seen.add_new(event_id)
        self._delivered_on_connection += 1
        return True

    def _replayed(self, when: datetime | None) -> bool:
        newest = self.newest_time
        return when is not None and newest is not None and when < newest - REORDER_SLACK

    async def _resync(self) -> AsyncGenerator[list[Event], None]:
        """After a refused cursor: what we missed, from the newest page back to where we were."""
        missed: list[Event] = []
        before: str | None = None
        for _ in range(RESYNC_PAGES):
            if before is None:
                page = await self.client.newest_events(self.session_id, self.thread_id)
            else:
                page = await self.client.older_events(self.session_id, self.thread_id, before)
            older_reached = False
            fresh: list[Event] = []
            for event in page.data:
                if event.id in self.seen or self._replayed(event.time):
                    older_reached = True
                    fresh = []  # only what comes after the last known event is missed
                    continue
                fresh.append(event)
            missed[:0] = fresh
            if older_reached or not page.has_more or not page.data:
                break
            before = page.data[0].id
        batch = [e for e in missed if self._accept(e)]
        if batch:
            yield batch
        newest = missed[-1].id if missed else None
        # Resume from the newest event there is; if even that is refused, from no cursor
        # at all (the time guard drops whatever the server replays).
        self.last_event_id = newest if newest and newest != self.last_event_id else None

    async def _read(self, response: httpx.Response) -> AsyncGenerator[list[Event], None]:
        """The events of each chunk's frames, once each; the checkpoint moves only after a
        whole frame was read, and a batch is handed over before anything ends the read."""
        decoder = SSEDecoder()
        previous_sse_id = ""
        # (content-encoding undone; the decoder reads UTF-8.  Closed with the read, as
        # the stream it iterates is.)
        chunks = cast("AsyncGenerator[bytes, None]", response.aiter_bytes())
        async with aclosing(chunks):
            async for chunk in chunks:
                batch: list[Event] = []
                for sse_id, name, data, retry in decoder.feed(chunk):
                    if retry is not None:
                        self.retry_hint = min(retry / 1000.0, self.max_backoff)
                    # The last `id:` carries over to later frames (as the SSE standard says);
                    # a frame has an id of its own only when the value changed.
                    frame_id = sse_id if sse_id and sse_id != previous_sse_id else None
                    previous_sse_id = sse_id
                    if name == "message":
                        name = ""
                    if not data or name in ("ping", "heartbeat"):
                        continue  # keep-alives, and id-only or empty frames, carry no event
                    if data[0] != "{" and data.strip() == "[DONE]":  # (no copy of each event)
                        if batch:
                            yield batch
                        return
                    event = None
                    if name != "error":
                        event = parse_event(data, sse_id=frame_id, sse_event=name or None)
                        if event.type in SKIPPED_TYPES:
                            continue
                    if event is None or (
                        event.type == "error" and not isinstance(event, MalformedEvent)
                    ):
                        if batch:
                            yield batch  # (the checkpoint is past these: they must not be lost)
                        raise StreamError(_stream_error_message(data, self.scope))
                    if isinstance(event, MalformedEvent) and frame_id is None:
                        # Same frame after the same checkpoint (a replay) gets the same id.
                        digest = hashlib.sha1(
                            f"{self.last_event_id}|{data}".encode("utf-8", "replace")
                        ).hexdigest()[:16]
                        event.id = f"malformed:{digest}"
                    # The whole frame is read: the checkpoint may move now.
                    if frame_id:
                        self.last_event_id = frame_id
                    elif not isinstance(event, MalformedEvent):
                        self.last_event_id = event.id
                    if self._accept(event):
                        batch.append(event)
                if batch:
                    yield batch


def _is_api_error(response: httpx.Response) -> bool:
    """Whether a 404 is the API's own answer (an error envelope), not a missing route."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), (dict, str))


def _stream_error_message(data: str, scope: str) -> str:
    message = data
    try:
        body = json.loads(data)
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict) and isinstance(err.get("message"), str):
                message = err["message"]
            elif isinstance(body.get("message"), str):
                message = body["message"]
    except ValueError:
        pass
    message = clean_label(message)[:300]
    return f"The server ended the live stream of {scope} with an error: {message}"


__all__ = ["ConnectionFailedError", "Follower", "RecentIds", "StreamState"]
