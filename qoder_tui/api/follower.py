"""Following a session or thread live over SSE, exactly once, across any drop.

The follower reads frames with httpx-sse and keeps the SDK's rules: comment
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
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import httpx
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

from .client import QoderClient, _seg, describe_transport_error, should_retry
from .errors import (
    BadRequestError,
    ConnectionFailedError,
    QoderError,
    StreamError,
)
from .models import Event, MalformedEvent, is_terminal, parse_event

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


class Follower:
    """Yields the live events of a session (or of one thread) exactly once, in order."""

    def __init__(
        self,
        client: QoderClient,
        session_id: str,
        thread_id: str | None = None,
        *,
        last_event_id: str | None = None,
        seen: Iterable[str] = (),
        on_state: Callable[[StreamState], None] | None = None,
        initial_backoff: float = 0.5,
        max_backoff: float = 10.0,
        healthy_after: float = 5.0,
        read_timeout: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.thread_id = thread_id
        self.last_event_id = last_event_id
        self.seen: set[str] = set(seen)
        self._on_state = on_state
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.healthy_after = healthy_after
        self.read_timeout = read_timeout
        self._sleep = sleep
        self._use_events_route = False
        self.state = StreamState("connecting")
        self.connections = 0

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
        timeout = httpx.Timeout(self.read_timeout, connect=5.0)
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
                    # The `/stream` route is missing: try `/events` with Accept: text/event-stream.
                    await response.aread()
                    continue
                if status >= 300:
                    await response.aread()
                    if should_retry(status, response.headers):
                        raise _Retry(f"the server answered {status}", response)
                    raise self.client._error(response, f"the live stream of {self.scope}")
                ctype = response.headers.get("content-type", "")
                if "text/event-stream" not in ctype:
                    await response.aread()
                    raise QoderError(
                        f"The server does not stream {self.scope}: it answered with "
                        f"{ctype or 'no content type'} instead of text/event-stream."
                    )
                if index > 0:
                    self._use_events_route = True
                yield response
                return
            finally:
                await response.aclose()

    # ------------------------------------------------------------------ main loop

    def backoff(self, attempt: int, response: httpx.Response | None = None) -> float:
        if response is not None:
            from .client import retry_delay

            hinted = response.headers.get("retry-after-ms") or response.headers.get("retry-after")
            if hinted:
                return retry_delay(response, attempt)
        base = min(self.initial_backoff * (2 ** max(0, attempt - 1)), self.max_backoff)
        return random.uniform(base / 2, base)

    async def events(self) -> AsyncIterator[Event]:
        """The live events, each once.  Ends after a terminal event; raises QoderError if fatal."""
        async for batch in self.batches():
            for event in batch:
                yield event

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Like `events`, a network chunk's worth at a time (cheaper for a fast stream)."""
        attempt = 0
        dropped_cursor = False
        while True:
            self._set_state(
                StreamState("connecting")
                if attempt == 0
                else StreamState("reconnecting", attempt, self.state.reason, 0.0)
            )
            started = time.monotonic()
            response_for_delay: httpx.Response | None = None
            try:
                async with self._connect() as response:
                    self.connections += 1
                    self._set_state(StreamState("live"))
                    async for batch in self._read(response):
                        for i, event in enumerate(batch):
                            if is_terminal(event):
                                yield batch[: i + 1]
                                self._set_state(StreamState("ended", reason=f"{event.type}"))
                                return
                        yield batch
                reason = "the server closed the stream"
            except _Retry as retry:
                reason = retry.reason
                response_for_delay = retry.response
            except (httpx.TransportError, httpx.StreamError) as exc:
                reason = describe_transport_error(exc, self.client.base_url)
            except BadRequestError as exc:
                if self.last_event_id and not dropped_cursor:
                    # The server refuses our cursor (D24): replay without it; dedupe keeps it exact.
                    dropped_cursor = True
                    self.last_event_id = None
                    reason = f"the server refused the resume cursor ({exc.message}); replaying"
                else:
                    self._set_state(StreamState("failed", reason=str(exc)))
                    raise
            except QoderError as exc:
                self._set_state(StreamState("failed", reason=str(exc)))
                raise
            if time.monotonic() - started >= self.healthy_after:
                attempt = 0
            attempt += 1
            delay = self.backoff(attempt, response_for_delay)
            self._set_state(StreamState("reconnecting", attempt, reason, delay))
            await self._sleep(delay)

    async def _read(self, response: httpx.Response) -> AsyncIterator[list[Event]]:
        """The events of each chunk that arrives, once each, checkpoint moved frame by frame.

        httpx-sse's decoders split lines and frames; they are fed whole chunks here
        rather than through its per-line async iterator, which costs several
        generator hops per event on a fast stream.
        """
        lines = SSELineDecoder()
        frames = SSEDecoder()
        previous_sse_id = ""
        async for text in response.aiter_text():
            batch: list[Event] = []
            for line in lines.decode(text):
                sse = frames.decode(line.rstrip("\n"))
                if sse is None:
                    continue
                # The decoder carries the last `id:` over to later frames (as the SSE
                # spec says); a frame has an id of its own only when the value changed.
                frame_id = sse.id if sse.id and sse.id != previous_sse_id else None
                previous_sse_id = sse.id
                name = sse.event or ""
                data = sse.data
                if name in ("ping", "heartbeat") or not data:
                    continue  # keep-alives, and id-only or empty frames, carry no event
                if data.strip() == "[DONE]":
                    yield batch
                    return
                if name == "error":
                    yield batch  # what came before the error is not lost
                    raise StreamError(_stream_error_message(data, self.scope))
                event = parse_event(data, sse_id=frame_id, sse_event=name or None)
                if event.type in SKIPPED_TYPES:
                    continue
                if isinstance(event, MalformedEvent):
                    if frame_id is None:
                        # Same frame after the same checkpoint (a replay) gets the same id.
                        digest = hashlib.sha1(f"{self.last_event_id}|{data}".encode()).hexdigest()[
                            :16
                        ]
                        event.id = f"malformed:{digest}"
                elif event.type == "error":
                    yield batch
                    raise StreamError(_stream_error_message(data, self.scope))
                # The whole frame is read: the checkpoint may move now.
                if frame_id:
                    self.last_event_id = frame_id
                elif not isinstance(event, MalformedEvent):
                    self.last_event_id = event.id
                if event.id in self.seen:
                    continue
                self.seen.add(event.id)
                batch.append(event)
            if batch:
                yield batch


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
    return f"The server ended the live stream of {scope} with an error: {message[:300]}"


__all__ = ["ConnectionFailedError", "Follower", "StreamState"]
