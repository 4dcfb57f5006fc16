"""The log's filter: a query line that narrows what is shown (pure: no UI, no I/O).

    is:error  is:waiting  is:pending  is:slow  is:tool  is:handoff  tool:Bash  type:…
    thread:"Code Fixer"  free text

Terms combine (all must hold); `-` before a term negates it.  Free text is
looked for in what a search looks in (type, summary, bodies, inputs).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from .api.models import (
    HANDOFF_TYPES,
    KNOWN_TYPES,
    MODEL_REQUEST_TYPES,
    STATUS_TYPES,
    TOOL_RESULT_TYPES,
    TOOL_USE_TYPES,
    Event,
    ModelRequestEnd,
    SessionError,
    StatusChange,
    ThreadMessage,
    ToolResult,
    ToolUse,
)
from .render.summary import search_text
from .store import EventStore, status_word

Test = Callable[[Event, EventStore, Callable[[str | None], str]], bool]


def is_error(event: Event, store: EventStore, _name: Callable[[str | None], str]) -> bool:
    """A failure: an error event, a failed call or request, a thread stopped by an error."""
    if isinstance(event, SessionError):
        return True
    if isinstance(event, ToolUse):
        result = store.result_for(event)
        return result is not None and result.is_error
    if isinstance(event, (ToolResult, ThreadMessage, ModelRequestEnd)):
        return event.is_error
    return isinstance(event, StatusChange) and status_word(event) == "errored"


def _is_waiting(event: Event, store: EventStore, _name: Callable[[str | None], str]) -> bool:
    return isinstance(event, StatusChange) and status_word(event) == "waiting"


def is_pending(event: Event, store: EventStore, name: Callable[[str | None], str]) -> bool:
    """Waiting on someone: a stop for an approval, or a tool call with no result (yet, or ever)."""
    if isinstance(event, ToolUse):
        return store.result_for(event) is None
    return _is_waiting(event, store, name)


SLOW_MODEL_SECONDS = 10.0
"""A model request at least this long is a slow one (is:slow, s / S)."""


def is_slow(event: Event, store: EventStore, _name: Callable[[str | None], str]) -> bool:
    """A model request that took SLOW_MODEL_SECONDS or more (its start must be loaded)."""
    if not isinstance(event, ModelRequestEnd) or event.time is None:
        return False
    started = store.span_start_time(event)
    return started is not None and (event.time - started).total_seconds() >= SLOW_MODEL_SECONDS


KINDS: dict[str, Test] = {
    "error": is_error,
    "waiting": _is_waiting,
    "pending": is_pending,
    "slow": is_slow,
    "tool": lambda e, s, n: isinstance(e, ToolUse),
    "handoff": lambda e, s, n: isinstance(e, ThreadMessage),
    "status": lambda e, s, n: isinstance(e, StatusChange),
}


_TOOLS = (*TOOL_USE_TYPES, *TOOL_RESULT_TYPES)
"""A call comes with its result: without it, every call would look unanswered."""

KIND_TYPES: dict[str, frozenset[str]] = {
    "error": frozenset(
        (*_TOOLS, *HANDOFF_TYPES, *MODEL_REQUEST_TYPES, *STATUS_TYPES, "session.error")
    ),
    "waiting": frozenset(STATUS_TYPES),
    "pending": frozenset((*_TOOLS, *STATUS_TYPES)),
    "slow": frozenset(MODEL_REQUEST_TYPES),
    "tool": frozenset(_TOOLS),
    "handoff": frozenset(HANDOFF_TYPES),
    "status": frozenset(STATUS_TYPES),
}
"""The event types among which each is: kind's matches are found (what the server's type
filter can narrow older pages to; the test itself still decides)."""

JUMPS: dict[str, tuple[Test, str]] = {
    "error": (is_error, "failure"),
    "pending": (is_pending, "approval or unanswered tool call"),
    "handoff": (KINDS["handoff"], "handoff"),
    "slow": (is_slow, f"model request of {SLOW_MODEL_SECONDS:.0f} s or more"),
}
"""Jumps by meaning (e, w, o, s; capitals go newer): what each finds, and its name."""


@dataclass(frozen=True)
class Filter:
    """A parsed query: every term must hold for an event to be shown."""

    query: str
    terms: tuple[tuple[bool, Test], ...]
    types: frozenset[str] | None = None
    """Every matching event has one of these types (None: any type may match): older
    pages can then be asked of the server with its type filter."""

    def matches(self, event: Event, store: EventStore, name: Callable[[str | None], str]) -> bool:
        return all(test(event, store, name) != negated for negated, test in self.terms)


class FilterError(ValueError):
    """A query that cannot be read; the message says which term and why."""


def parse_filter(query: str) -> Filter | None:
    """The filter a query line asks for (None for an empty line)."""
    try:
        words = shlex.split(query)
    except ValueError as exc:
        raise FilterError(f"the filter is not closed: {exc}") from None
    terms: list[tuple[bool, Test]] = []
    types: frozenset[str] | None = None
    for word in words:
        negated = word.startswith("-") and len(word) > 1
        term = word[1:] if negated else word
        key, colon, value = term.partition(":")
        key = key.casefold()
        among: frozenset[str] | None = None
        if colon and key == "is":
            test = KINDS.get(value.casefold())
            if test is None:
                raise FilterError(f"is:{value} is not a kind; try is:{', is:'.join(KINDS)}")
            among = KIND_TYPES.get(value.casefold())
        elif colon and key == "tool":
            test = _tool(value)
            among = KIND_TYPES["tool"]
        elif colon and key == "type":
            test = _type(value)
            among = _types_from(value)
        elif colon and key == "thread":
            test = _thread(value)
        else:
            test = _text(term)
        terms.append((negated, test))
        if among is not None and not negated:
            types = among if types is None else types & among
    return Filter(query, tuple(terms), types) if terms else None


def _types_from(prefix: str) -> frozenset[str] | None:
    """The types `type:prefix` can match, when the prefix names a known type exactly (a
    partial prefix could also match types this version does not know: no server help)."""
    wanted = prefix.casefold()
    if wanted not in KNOWN_TYPES:
        return None
    return frozenset(t for t in KNOWN_TYPES if t.startswith(wanted))


def _tool(name: str) -> Test:
    wanted = name.casefold()

    def test(event: Event, store: EventStore, _name: Callable[[str | None], str]) -> bool:
        return isinstance(event, ToolUse) and wanted in event.name.casefold()

    return test


def _type(prefix: str) -> Test:
    wanted = prefix.casefold()
    return lambda event, store, name: event.type.casefold().startswith(wanted)


def _thread(agent: str) -> Test:
    wanted = agent.casefold()
    return lambda event, store, name: wanted in name(event.thread_id).casefold()


def _text(text: str) -> Test:
    wanted = text.casefold()
    return lambda event, store, name: wanted in search_text(event)
