"""Messages that workers post to the main screen.  Workers never touch widgets."""

from __future__ import annotations

from textual.message import Message

from .api.errors import QoderError
from .api.follower import StreamState
from .api.models import Event, Session, Thread

Scope = tuple[str, str | None]
"""(session id, thread id or None for the whole session's stream)."""


class SessionsLoaded(Message):
    def __init__(self, sessions: list[Session], next_page: str | None, has_more: bool) -> None:
        super().__init__()
        self.sessions = sessions
        self.next_page = next_page
        self.has_more = has_more


class SessionLoaded(Message):
    def __init__(
        self, session: Session, threads: list[Thread], open_thread: str | None, open_scope: bool
    ) -> None:
        super().__init__()
        self.session = session
        self.threads = threads
        self.open_thread = open_thread
        self.open_scope = open_scope


class ThreadLoaded(Message):
    def __init__(self, session_id: str, thread: Thread) -> None:
        super().__init__()
        self.session_id = session_id
        self.thread = thread


class PageLoaded(Message):
    def __init__(self, scope: Scope, events: list[Event], has_older: bool, newest: bool) -> None:
        super().__init__()
        self.scope = scope
        self.events = events
        self.has_older = has_older
        self.newest = newest


class LiveWake(Message):
    """Live events are waiting in a scope's buffer (at most one of these is queued per scope)."""

    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope = scope


class StreamStateChanged(Message):
    def __init__(self, scope: Scope, state: StreamState) -> None:
        super().__init__()
        self.scope = scope
        self.state = state


class ApiFailed(Message):
    def __init__(
        self, error: QoderError, doing: str, scope: Scope | None = None, fatal: bool = False
    ) -> None:
        super().__init__()
        self.error = error
        self.doing = doing
        self.scope = scope
        self.fatal = fatal
