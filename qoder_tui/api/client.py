"""An async client for the read side of the Qoder Cloud Agents API.

One long-lived `httpx.AsyncClient` carries every request.  GETs are retried
on transport errors, 408, 429 and 5xx with exponential backoff and jitter,
honouring `Retry-After` / `retry-after-ms`, as the official SDK does.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

from .. import __version__
from .errors import (
    BadRequestError,
    ConfigError,
    ConnectionFailedError,
    QoderError,
    ServerError,
    error_from_response,
)
from .models import Event, Page, Session, Thread, fast_json, parse_event
from .sanitize import clean_label
from .settings import Settings

if TYPE_CHECKING:
    from .prefetch import Answer, Prefetch

T = TypeVar("T")

MAX_LIMIT = 100
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
"""Seconds to wait for a connection, and for each read of an answer."""


def _httpx() -> Any:
    """httpx, loaded with the first request this process sends itself (see `QoderClient.http`):
    importing it costs 40-80 ms, which a launch pays after its first paint."""
    import httpx

    return httpx


def _seg(value: str) -> str:
    """Percent-escape a path segment with nothing treated as safe."""
    return quote(value, safe="")


def retry_delay(
    response: httpx.Response | Answer | None, attempt: int, *, cap: float = 8.0
) -> float:
    """How long to wait before the next attempt (attempt counts from 0)."""
    if response is not None:
        ms = response.headers.get("retry-after-ms")
        if ms:
            try:
                value = float(ms) / 1000.0
                if value > 0:
                    return min(value, 60.0)
            except ValueError:
                pass
        ra = response.headers.get("retry-after")
        if ra:
            try:
                value = float(ra)
            except ValueError:
                try:
                    when = parsedate_to_datetime(ra)
                    from datetime import UTC, datetime

                    value = (when - datetime.now(UTC)).total_seconds()
                except (TypeError, ValueError):
                    value = 0.0
            if value > 0:
                return min(value, 60.0)
    base = min(0.5 * (2**attempt), cap)
    return base * random.uniform(0.75, 1.0)


class HeaderLookup(Protocol):
    """An answer's headers, case-insensitive: httpx's, or those `http.client` read."""

    def get(self, name: str, default: Any = None, /) -> Any: ...


def should_retry(status: int, headers: HeaderLookup | None = None) -> bool:
    if status == 409:
        return False
    if headers is not None:
        forced = headers.get("x-should-retry")
        if forced == "true":
            return True
        if forced == "false":
            return False
    return status in (408, 429) or status >= 500


def broken_exchange() -> tuple[type[Exception], ...]:
    """What httpx raises when a connection broke or its answer could not be read (a body that
    says it is compressed and is not): a request is tried again, a stream reconnects."""
    httpx = _httpx()
    return (httpx.TransportError, httpx.DecodingError)


def describe_transport_error(exc: Exception, url: str) -> str:
    """One line for a person.  A protocol error's text can quote a request header (and so
    the token): only the class of such an error is named, never its message."""
    name = type(exc).__name__
    httpx = _httpx()
    if isinstance(exc, httpx.ConnectError):
        return f"Cannot reach the server at {url}: connection failed ({_os_detail(exc) or name})."
    if isinstance(exc, httpx.TimeoutException):
        return f"The server at {url} did not answer in time ({name})."
    if isinstance(exc, (httpx.LocalProtocolError, httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return f"The request to {url} could not be sent ({name})."
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"The server at {url} broke the HTTP protocol ({name})."
    if isinstance(exc, httpx.DecodingError):
        # (a body that says it is compressed and is not: a proxy mangling it, or a broken server)
        return f"The answer from {url} could not be decoded ({_os_detail(exc) or name})."
    return f"The connection to {url} broke: {_os_detail(exc) or name}."


def _os_detail(exc: Exception) -> str:
    text = str(exc)
    if not text or "header" in text.lower() or "bearer" in text.lower():
        return ""
    return clean_label(text)[:200]


def request_headers(settings: Settings) -> dict[str, str]:
    token = settings.require_token()
    return {
        "Authorization": f"Bearer {token.reveal()}",
        "Accept": "application/json",
        "User-Agent": f"qoder-tui/{__version__}",
    }


def tls_context(base_url: str) -> ssl.SSLContext:
    """What TLS may be trusted: for an https API, what httpx trusts by default (the file
    SSL_CERT_FILE names, or else the directory SSL_CERT_DIR names, or else certifi's CA
    bundle), built here so that httpx need not be loaded for it (see Prefetch).

    For a plain-http base (the simulator, a local proxy) no TLS is expected, so a
    context that trusts no certificate at all: an https URL reached from it fails
    closed, and the CA bundle is not loaded (about 30 ms of every launch).
    """
    if base_url.lower().startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, with nothing to trust
    for variable in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if where := os.environ.get(variable):
            try:
                if variable == "SSL_CERT_FILE":
                    return ssl.create_default_context(cafile=where)
                return ssl.create_default_context(capath=where)
            except (OSError, ssl.SSLError) as exc:
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                raise ConfigError(
                    f"The CA certificates {variable} names ({where!r}) cannot be loaded: {reason}."
                ) from None
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


Params = list[tuple[str, str]]
Get = tuple[str, Params | None]
"""A GET as the client sends it: its path under the base URL, and its query."""

THREADS_PAGE = 100
"""Threads asked for per page (the most the API gives)."""

SESSIONS_PAGE = 50
"""Sessions the app lists per page."""

EVENTS_PAGE = MAX_LIMIT
"""Events the app asks for per page."""


def session_path(session_id: str) -> str:
    return f"sessions/{_seg(session_id)}"


def threads_path(session_id: str) -> str:
    return f"sessions/{_seg(session_id)}/threads"


def events_path(session_id: str, thread_id: str | None) -> str:
    if thread_id:
        return f"sessions/{_seg(session_id)}/threads/{_seg(thread_id)}/events"
    return f"sessions/{_seg(session_id)}/events"


def page_params(limit: int, page: str | None = None) -> Params:
    """The query every list starts with: its page size, and the page token if any."""
    params: Params = [("limit", str(_clamp(limit)))]
    if page:
        params.append(("page", page))
    return params


def events_params(
    *,
    limit: int,
    page: str | None = None,
    before_id: str | None = None,
    after_id: str | None = None,
    order: str | None = None,
) -> Params:
    params = page_params(limit)
    if page:
        params.append(("page", page))
    elif before_id:
        params.append(("before_id", before_id))
    elif after_id:
        params.append(("after_id", after_id))
    if order:
        params.append(("order", order))
    return params


def opening_gets(
    session_id: str | None,
    thread_id: str | None,
    *,
    sessions_page: int = SESSIONS_PAGE,
    events_page: int = EVENTS_PAGE,
) -> list[Get]:
    """The GETs an app opening on `session_id` (and `thread_id`) sends first: the session
    list's first page and, with a session, the session, its threads and the newest page of
    the session's stream and of the thread's (what `QoderClient.list_sessions`,
    `get_session`, `all_threads` and `newest_events` ask for)."""
    gets: list[Get] = [("sessions", page_params(sessions_page))]
    if session_id:
        newest = events_params(limit=events_page, order="desc")
        gets += [
            (session_path(session_id), None),
            (threads_path(session_id), page_params(THREADS_PAGE)),
            (events_path(session_id, None), newest),
        ]
        if thread_id:
            gets.append((events_path(session_id, thread_id), newest))
    return gets


class QoderClient:
    """Read-only access to sessions, threads and events."""

    def __init__(
        self,
        settings: Settings,
        *,
        max_retries: int = 3,
        timeout: httpx.Timeout | float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        prefetch: Prefetch | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = settings.base_url
        self.max_retries = max_retries
        self._sleep = sleep
        self.types_refused = False
        """The server answered a type filter with 400: lists are asked for without one."""
        self._prefetch = prefetch
        self._headers = request_headers(settings)
        self._timeout = timeout
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """The httpx client, built with the first request that needs it: building it loads
        httpcore and h11 (45-60 ms), which a launch whose opening GETs were sent ahead
        (Prefetch) does after its first paint."""
        if self._http is None:
            httpx = _httpx()
            timeout = self._timeout
            if timeout is None:
                timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
                timeout=timeout,
                follow_redirects=False,
                transport=self._transport,
                verify=(
                    self._prefetch.tls if self._prefetch is not None else tls_context(self.base_url)
                ),
            )
        return self._http

    @property
    def http_started(self) -> bool:
        """The httpx client exists: a request was sent by this client itself."""
        return self._http is not None

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> QoderClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"QoderClient(base_url={self.base_url!r})"

    # ------------------------------------------------------------------ plumbing

    async def get_json(self, path: str, *, params: Any = None, what: str = "the resource") -> Any:
        attempt = 0
        response: httpx.Response | Answer | None = None
        answer = self._prefetch.take(path, params) if self._prefetch is not None else None
        if answer is not None:
            # Sent as the app started (see Prefetch); if it broke there, that was a try.
            try:
                response = await asyncio.wrap_future(answer)
            except Exception:
                await self._sleep(retry_delay(None, attempt))
                attempt += 1
        while True:
            try:
                if response is None:
                    response = await self.http.get(path, params=params)
            except Exception as exc:
                invalid = _httpx().InvalidURL
                if not isinstance(exc, (*broken_exchange(), invalid)):
                    raise
                if attempt < self.max_retries and not isinstance(exc, invalid):
                    await self._sleep(retry_delay(None, attempt))
                    attempt += 1
                    continue
                raise ConnectionFailedError(describe_transport_error(exc, self.base_url)) from None
            if response.status_code < 300:
                try:
                    return decode_json(response.content)
                except ValueError:
                    raise ServerError(
                        f"The server answered {what} with something that is not JSON "
                        f"(content-type {response.headers.get('content-type', 'none')!r}).",
                        status=response.status_code,
                    ) from None
            if should_retry(response.status_code, response.headers) and attempt < self.max_retries:
                await self._sleep(retry_delay(response, attempt))
                attempt += 1
                response = None
                continue
            raise self._error(response, what)

    def _error(self, response: httpx.Response | Answer, what: str) -> QoderError:
        try:
            body = response.json()
        except ValueError:
            body = None
        return error_from_response(
            response.status_code,
            body,
            url=self.base_url,
            what=what,
            request_id=response.headers.get("x-request-id"),
            text=None if body is not None else response.text,
        )

    @staticmethod
    def _page(raw: Any, parse: Callable[[Any], T], *, keep_unreadable: bool = False) -> Page[T]:
        """One page; an item that could not be decoded becomes what `parse` makes of its text
        (an unreadable event) or, for sessions and threads, is left out."""
        if not isinstance(raw, dict):
            raw = {"data": raw if isinstance(raw, list) else []}
        items = raw.get("data")
        data = (
            [
                parse(item.text if isinstance(item, UnreadableItem) else item)
                for item in items
                if keep_unreadable
                or (isinstance(item, dict) and not isinstance(item, UnreadableItem))
            ]
            if isinstance(items, list)
            else []
        )
        return Page(
            data=data,
            first_id=raw.get("first_id") if isinstance(raw.get("first_id"), str) else None,
            last_id=raw.get("last_id") if isinstance(raw.get("last_id"), str) else None,
            has_more=raw.get("has_more") is True,
            next_page=raw.get("next_page") if isinstance(raw.get("next_page"), str) else None,
        )

    # ------------------------------------------------------------------ sessions

    async def list_sessions(
        self,
        *,
        limit: int = 20,
        page: str | None = None,
        order: str | None = None,
        statuses: Sequence[str] | None = None,
        include_archived: bool | None = None,
        agent_id: str | None = None,
        created_after: str | None = None,
        created_before: str | None = None,
    ) -> Page[Session]:
        params = page_params(limit, page)
        if order:
            params.append(("order", order))
        for status in statuses or ():
            params.append(("statuses[]", status))
        if include_archived is not None:
            params.append(("include_archived", "true" if include_archived else "false"))
        if agent_id:
            params.append(("agent_id", agent_id))
        if created_after:
            params.append(("created_at[gte]", created_after))
        if created_before:
            params.append(("created_at[lt]", created_before))
        raw = await self.get_json("sessions", params=params, what="the session list")
        return self._page(raw, Session.parse)

    async def iter_sessions(self, *, limit: int = 50, **filters: Any) -> AsyncIterator[Session]:
        page_token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            page = await self.list_sessions(limit=limit, page=page_token, **filters)
            for session in page.data:
                yield session
            if not page.has_more or not page.next_page or page.next_page in seen_tokens:
                return
            seen_tokens.add(page.next_page)
            page_token = page.next_page

    async def get_session(self, session_id: str) -> Session:
        raw = await self.get_json(session_path(session_id), what=f"session {session_id}")
        return Session.parse(raw)

    # ------------------------------------------------------------------ threads

    async def list_threads(
        self, session_id: str, *, limit: int = THREADS_PAGE, page: str | None = None
    ) -> Page[Thread]:
        params = page_params(limit, page)
        raw = await self.get_json(
            threads_path(session_id),
            params=params,
            what=f"the threads of session {session_id}",
        )
        return self._page(raw, Thread.parse)

    async def all_threads(self, session_id: str) -> list[Thread]:
        threads: list[Thread] = []
        page_token: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.list_threads(session_id, page=page_token)
            threads.extend(page.data)
            if not page.has_more or not page.next_page or page.next_page in seen:
                return threads
            seen.add(page.next_page)
            page_token = page.next_page

    async def get_thread(self, session_id: str, thread_id: str) -> Thread:
        raw = await self.get_json(
            f"sessions/{_seg(session_id)}/threads/{_seg(thread_id)}",
            what=f"thread {thread_id} of session {session_id}",
        )
        return Thread.parse(raw)

    # ------------------------------------------------------------------ events

    events_path = staticmethod(events_path)

    @staticmethod
    def scope_name(session_id: str, thread_id: str | None) -> str:
        if thread_id:
            return f"thread {thread_id} of session {session_id}"
        return f"session {session_id}"

    async def list_events(
        self,
        session_id: str,
        thread_id: str | None = None,
        *,
        limit: int = MAX_LIMIT,
        before_id: str | None = None,
        after_id: str | None = None,
        page: str | None = None,
        order: str | None = None,
        types: Sequence[str] | None = None,
    ) -> Page[Event]:
        params = events_params(
            limit=limit, page=page, before_id=before_id, after_id=after_id, order=order
        )
        what = f"the events of {self.scope_name(session_id, thread_id)}"
        path = self.events_path(session_id, thread_id)
        if types and not self.types_refused:
            try:
                raw = await self.get_json(
                    path, params=[*params, *(("types[]", t) for t in types)], what=what
                )
                return self._page(raw, parse_event, keep_unreadable=True)
            except BadRequestError:
                # A server without type filters (Forward mode answers 400): every event from
                # now on, and the caller picks (it must, a server may also ignore the filter).
                self.types_refused = True
        raw = await self.get_json(path, params=params, what=what)
        return self._page(raw, parse_event, keep_unreadable=True)

    async def newest_events(
        self, session_id: str, thread_id: str | None = None, *, limit: int = MAX_LIMIT
    ) -> Page[Event]:
        """The newest `limit` events, oldest first; `has_more` says whether older ones exist."""
        page = await self.list_events(session_id, thread_id, limit=limit, order="desc")
        data = page.data
        if len(data) >= 2:
            first, last = data[0].time, data[-1].time
            # A server that ignores `order` answers oldest-first; keep that order then.
            if not (first is not None and last is not None and first < last):
                data = list(reversed(data))
        return Page(
            data=data,
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
            has_more=page.has_more,
        )

    async def older_events(
        self,
        session_id: str,
        thread_id: str | None,
        before_id: str,
        *,
        limit: int = MAX_LIMIT,
        types: Sequence[str] | None = None,
    ) -> Page[Event]:
        """The `limit` events just before `before_id`, oldest first (of `types` only, if given)."""
        page = await self.list_events(
            session_id, thread_id, limit=limit, before_id=before_id, types=types
        )
        data = page.data
        if len(data) >= 2:
            first, last = data[0].time, data[-1].time
            if first is not None and last is not None and first > last:
                data = list(reversed(data))
        return Page(
            data=data,
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
            has_more=page.has_more and bool(data),
        )

    async def oldest_events(
        self, session_id: str, thread_id: str | None = None, *, limit: int = MAX_LIMIT
    ) -> Page[Event]:
        """The first `limit` events there are, oldest first; `has_more`: newer ones exist."""
        return await self.list_events(session_id, thread_id, limit=limit, order="asc")

    async def newer_events(
        self, session_id: str, thread_id: str | None, after_id: str, *, limit: int = MAX_LIMIT
    ) -> Page[Event]:
        """The `limit` events after `after_id`, oldest first; `has_more`: newer ones exist."""
        return await self.list_events(
            session_id, thread_id, limit=limit, after_id=after_id, order="asc"
        )

    async def walk_forward(
        self,
        session_id: str,
        thread_id: str | None = None,
        *,
        types: Sequence[str] | None = None,
        page_size: int = MAX_LIMIT,
        max_pages: int,
    ) -> AsyncIterator[Page[Event]]:
        """Yield pages from the first event on (of `types` only, if given), each oldest first.

        The walk ends at the newest event (the last page yielded then has
        `has_more` false or no events) or after `max_pages` pages.
        """
        cursor: str | None = None
        for _ in range(max_pages):
            page = await self.list_events(
                session_id, thread_id, limit=page_size, order="asc", after_id=cursor, types=types
            )
            yield page
            if not page.has_more or not page.data:
                return
            cursor = page.data[-1].id

    async def walk_backward(
        self,
        session_id: str,
        thread_id: str | None = None,
        *,
        page_size: int = MAX_LIMIT,
        before_id: str | None = None,
    ) -> AsyncIterator[list[Event]]:
        """Yield pages (each oldest-first) from the newest event back to the first.

        Events are deduplicated by id across pages; the walk stops on an empty
        page, on `has_more: false`, or when the cursor stops moving.
        """
        seen: set[str] = set()
        cursor = before_id
        while True:
            if cursor is None:
                page = await self.newest_events(session_id, thread_id, limit=page_size)
            else:
                page = await self.older_events(session_id, thread_id, cursor, limit=page_size)
            fresh = [e for e in page.data if e.id not in seen]
            seen.update(e.id for e in fresh)
            if fresh:
                yield fresh
            if not page.data or not page.has_more or not fresh:
                return
            next_cursor = page.data[0].id
            if next_cursor == cursor:
                return
            cursor = next_cursor


class UnreadableItem:
    """A list item whose JSON could not be decoded on its own (kept as its text)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_PAGE_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')


def decode_json(content: bytes | str) -> Any:
    """A response body as JSON; a list page whose items cannot all be read is decoded item by item.

    One hostile item (nested 100,000 deep, or broken) must not make the whole
    page unreadable: the envelope and every other item are still read, and
    the bad item stays as an :class:`UnreadableItem` holding its text.
    """
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    try:
        return fast_json(text)  # pydantic-core's parser once loaded; json's below when it refuses
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        page = _decode_items(text)
        if page is None:
            raise ValueError(str(exc)) from None
        return page


def _decode_items(text: str) -> dict[str, Any] | None:
    depth = 0
    data_start = data_end = item_start = -1
    expect_data = False
    spans: list[tuple[int, int]] = []
    for match in _PAGE_TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            expect_data = (
                depth == 1
                and data_start < 0
                and token == '"data"'
                and text[match.end() : match.end() + 16].lstrip().startswith(":")
            )
            continue
        if first in "[{":
            depth += 1
            if depth == 2 and first == "[" and expect_data:
                data_start, item_start = match.start(), match.end()
        elif first in "]}":
            if data_start >= 0 and data_end < 0 and depth == 2:
                spans.append((item_start, match.start()))
                data_end = match.end()
            depth -= 1
        elif data_start >= 0 and data_end < 0 and depth == 2:  # a comma between items
            spans.append((item_start, match.start()))
            item_start = match.end()
        expect_data = False
    if data_start < 0 or data_end < 0:
        return None
    try:
        envelope = json.loads(text[:data_start] + "[]" + text[data_end:])
    except (ValueError, RecursionError):
        envelope = {}
    if not isinstance(envelope, dict):
        return None
    items: list[Any] = []
    for start, end in spans:
        item = text[start:end].strip()
        if not item:
            continue
        try:
            items.append(json.loads(item))
        except (ValueError, RecursionError):
            items.append(UnreadableItem(item))
    envelope["data"] = items
    return envelope


def _clamp(limit: int) -> int:
    return max(1, min(MAX_LIMIT, int(limit)))
