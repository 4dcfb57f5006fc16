"""The app's opening requests, sent on threads while the app is still starting.

From its start to its first paint, a launch keeps a core busy: importing Textual, building
the screen, drawing.  The opening GETs (`client.opening_gets`) are sent before Textual is
imported, each on a thread of its own with the standard library's `http.client`, so that
the server answers while the app loads.  `QoderClient.get_json` takes each answer the
first time it asks for that GET and handles it as it handles any answer (status, retries,
decoding, messages).  A GET that broke here is sent again the usual way, so errors read as
they always do.

With the opening answers here, httpx is imported and the app's httpx client built with the
first request of the app's own, after the first paint: importing httpx (40-80 ms), its
transport (httpcore and h11, 45-60 ms) and the asyncio side of anyio (about 25 ms) no
longer delay what the reader first sees.  So this module uses only the standard library.

Not used behind a proxy (httpx honours the *_PROXY variables; `http.client` does not).
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import wait as wait_for_all
from typing import Any
from urllib.parse import urlencode, urlsplit

from .client import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    Get,
    Params,
    opening_gets,
    request_headers,
    tls_context,
)
from .settings import Settings


def key(path: str, params: object) -> str | None:
    """What names a GET's answer: its path and its query (None: a query not sent ahead,
    which is not a list of pairs)."""
    if params is None:
        return path
    if not isinstance(params, list):
        return None
    return f"{path}?{urlencode(params)}" if params else path


class Answer:
    """A server's answer read here: what `QoderClient.get_json` reads of an httpx.Response."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: http.client.HTTPMessage, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        """(case-insensitive `get`, as httpx's headers)"""
        self.content = content

    @property
    def text(self) -> str:
        charset = self.headers.get_content_charset() or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:  # a charset nobody knows
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class UnreadAnswer(Exception):
    """An answer this module does not decode (compressed): the client asks again itself."""


class Prefetch:
    """GETs sent at once on daemon threads; each answer is handed out once (`take`)."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        gets: Sequence[Get],
        *,
        tls: ssl.SSLContext,
    ) -> None:
        self._base = urlsplit(base_url)
        # (no Accept-Encoding: the answer comes as is, and nothing here must decode it)
        self._headers = {**headers, "Connection": "close"}
        self.tls = tls
        """What TLS the app trusts: its client uses the same context (loaded once)."""
        self._answers: dict[str, Future[Answer]] = {}
        self._jobs: list[tuple[str, Params | None, Future[Answer]]] = []
        for path, params in gets:
            name = key(path, params) or path
            if name not in self._answers:
                answer: Future[Answer] = Future()
                self._answers[name] = answer
                self._jobs.append((path, params, answer))
        self._lock = threading.Lock()

    def start(self) -> Prefetch:
        for job in self._jobs:
            try:
                thread = threading.Thread(
                    target=self._get, args=job, name="qoder-prefetch", daemon=True
                )
                thread.start()
            except RuntimeError as exc:  # no thread to be had: the client sends it itself
                if job[2].set_running_or_notify_cancel():
                    job[2].set_exception(exc)
        return self

    def _get(self, path: str, params: Params | None, answer: Future[Answer]) -> None:
        # (`answer` is handed over, not looked up: the app may have taken it already)
        if not answer.set_running_or_notify_cancel():
            return  # taken, and given up on (the app ended while it waited)
        try:
            answer.set_result(self._fetch(path, params))
        except BaseException as exc:  # handed to the caller, who sends the GET again
            answer.set_exception(exc)

    def _fetch(self, path: str, params: Params | None) -> Answer:
        base = self._base
        target = base.path.rstrip("/") + "/" + path + (f"?{urlencode(params)}" if params else "")
        conn: http.client.HTTPConnection
        if base.scheme == "https":
            conn = http.client.HTTPSConnection(
                base.hostname or "", base.port, timeout=CONNECT_TIMEOUT, context=self.tls
            )
        else:
            conn = http.client.HTTPConnection(
                base.hostname or "", base.port, timeout=CONNECT_TIMEOUT
            )
        try:
            conn.connect()
            assert conn.sock is not None
            conn.sock.settimeout(READ_TIMEOUT)
            conn.request("GET", target, headers=self._headers)
            reply = conn.getresponse()
            body = reply.read()
            if reply.headers.get("content-encoding", "identity").lower() != "identity":
                raise UnreadAnswer(reply.headers.get("content-encoding"))
            return Answer(reply.status, reply.headers, body)
        finally:
            conn.close()

    def wait(self, timeout: float) -> bool:
        """Wait until every answer is in (or broke), at most `timeout` seconds: whether they are."""
        with self._lock:
            answers = list(self._answers.values())
        return not wait_for_all(answers, timeout=timeout).not_done

    def untaken(self) -> list[str]:
        """The GETs whose answers nobody asked for (yet)."""
        with self._lock:
            return list(self._answers)

    def take(self, path: str, params: object) -> Future[Answer] | None:
        """The answer fetched for this GET, once (None: not fetched here, or already taken)."""
        name = key(path, params)
        if name is None:
            return None
        with self._lock:
            return self._answers.pop(name, None)


def behind_proxy() -> bool:
    """A proxy variable is set (which httpx would use); NO_PROXY alone names no proxy."""
    return any(
        name.lower().endswith("_proxy") and name.lower() != "no_proxy" and value
        for name, value in os.environ.items()
    )


def start_prefetch(
    settings: Settings, session_id: str | None, thread_id: str | None
) -> Prefetch | None:
    """Send the opening GETs of an app opening on `session_id` (and `thread_id`) now."""
    if behind_proxy():
        return None
    return Prefetch(
        settings.base_url,
        request_headers(settings),
        opening_gets(session_id, thread_id),
        tls=tls_context(settings.base_url),
    ).start()
