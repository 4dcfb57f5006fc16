"""The status bar: server, connection state, events loaded, token totals."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.widget import Widget

from ..api.follower import StreamState
from ..api.models import Usage
from ..render.summary import compact_count


@dataclass(frozen=True)
class StatusInfo:
    """What the status bar shows."""

    server: str = ""
    connection: StreamState | None = None
    loaded: int = 0
    has_older: bool = False
    has_newer: bool = False
    started: bool = False
    thread_usage: Usage | None = None
    session_usage: Usage | None = None
    session_credits: float | None = None
    scope: str = ""
    filter: str = ""
    matches: int = 0


def _tokens(usage: Usage | None) -> str:
    if usage is None or usage.total_tokens == 0:
        return "–"
    return f"{compact_count(usage.input_tokens or 0)} in / {compact_count(usage.output_tokens or 0)} out"


class StatusBar(Widget):
    """One line at the bottom.  Updated by the screen through `update_info`.

    A plain Widget (not a Static): its size never changes, so an update only
    repaints this line; Static.update would re-lay out the whole screen, and
    the status changes on every live drain.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = StatusInfo()

    def update_info(self, **changes: object) -> None:
        info = replace(self.info, **changes)  # type: ignore[arg-type]
        if info != self.info:
            self.info = info
            self.refresh()

    def render(self) -> Text:
        return self.render_info()

    def render_info(self) -> Text:
        """The line, shortened until it fits: first without this view's own tokens, then with
        the session's credits alone (its tokens when there are no credits)."""
        text = self._line(with_view_tokens=True)
        for brief in (False, True):
            if not self.size.width or text.cell_len <= self.size.width:
                break
            text = self._line(with_view_tokens=False, brief=brief)
        return text

    def _line(self, *, with_view_tokens: bool, brief: bool = False) -> Text:
        info = self.info
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {info.server} ", style="bold")
        state = info.connection
        if state is None:
            text.append(" ○ idle ", style="dim")
        elif state.phase == "live":
            text.append(" ● live ", style="bold green")
        elif state.phase == "connecting":
            text.append(" ◌ connecting ", style="yellow")
        elif state.phase == "reconnecting":
            wait = f" in {state.delay:.1f}s" if state.delay else ""
            text.append(f" ↻ reconnecting (attempt {state.attempt}{wait}) ", style="bold yellow")
            if state.reason:
                text.append(f"{state.reason} ", style="yellow")
        elif state.phase == "ended":
            text.append(f" ■ ended ({state.reason}) " if state.reason else " ■ ended ", style="dim")
        else:
            text.append(f" ✖ offline: {state.reason} ", style="bold red")
        text.append("│", style="dim")
        if info.scope:
            text.append(f" {info.scope} ", style="dim")
        if info.filter:
            text.append(
                f" filter {info.filter} · {info.matches:,} of {info.loaded:,} ", style="bold"
            )
        elif info.started:
            more = (
                " ↑↓ more"
                if info.has_older and info.has_newer
                else " ↓ more"
                if info.has_newer
                else " ↑ more"
                if info.has_older
                else " (all)"
            )
            text.append(f" {info.loaded:,} events{more} ")
        text.append("│", style="dim")
        thread = _tokens(info.thread_usage)
        session = _tokens(info.session_usage)
        credits = f" · {info.session_credits:g} cr" if info.session_credits is not None else ""
        if with_view_tokens and thread != session:
            text.append(f" view {thread} ")
            text.append("│", style="dim")
        if brief and credits:
            text.append(f" session {info.session_credits:g} cr ")
        else:
            text.append(f" session {session}{credits} ")
        return text
