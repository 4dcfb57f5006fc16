"""The log's filter: a query line that narrows what is shown (pure: no UI, no I/O).

    is:error  is:waiting  is:tool  is:handoff  tool:Bash  type:agent.message
    thread:"Code Fixer"  free text

Terms combine (all must hold); `-` before a term negates it.  Free text is
looked for in what a search looks in (type, summary, bodies, inputs).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from .api.models import (
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


KINDS: dict[str, Test] = {
    "error": is_error,
    "waiting": _is_waiting,
    "tool": lambda e, s, n: isinstance(e, ToolUse),
    "handoff": lambda e, s, n: isinstance(e, ThreadMessage),
    "status": lambda e, s, n: isinstance(e, StatusChange),
}


@dataclass(frozen=True)
class Filter:
    """A parsed query: every term must hold for an event to be shown."""

    query: str
    terms: tuple[tuple[bool, Test], ...]

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
    for word in words:
        negated = word.startswith("-") and len(word) > 1
        term = word[1:] if negated else word
        key, colon, value = term.partition(":")
        key = key.casefold()
        if colon and key == "is":
            test = KINDS.get(value.casefold())
            if test is None:
                raise FilterError(f"is:{value} is not a kind; try is:{', is:'.join(KINDS)}")
        elif colon and key == "tool":
            test = _tool(value)
        elif colon and key == "type":
            test = _type(value)
        elif colon and key == "thread":
            test = _thread(value)
        else:
            test = _text(term)
        terms.append((negated, test))
    return Filter(query, tuple(terms)) if terms else None


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
