"""The line above the event log: what is shown, and "↓ N new events" while scrolled up.

One plain widget whose size never changes: the marker appearing or going only
repaints this line.  (A badge widget shown and hidden over the log restyled and
re-laid out the whole screen each time, and covered the log's text.)
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget


class LogTitle(Widget):
    """The scope's title on the left; the new-events marker on the right (click: follow)."""

    class Clicked(Message):
        """The marker was clicked."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = Text()
        self.new_events = 0
        self.following = True
        self.accent = "bold reverse"
        self.note = ""
        """A passing word in the marker's place (a search's progress)."""

    def set_note(self, note: str) -> None:
        if note != self.note:
            self.note = note
            self.refresh()

    def clear_note_if(self, note: str) -> None:
        """Clear the note if it is still this one (another may have replaced it)."""
        if self.note == note:
            self.set_note("")

    @property
    def marker(self) -> str:
        """The marker's text, or "" when there is nothing new (or the log follows)."""
        if self.note:
            return f" {self.note} "
        if self.following or not self.new_events:
            return ""
        noun = "event" if self.new_events == 1 else "events"
        return f" ↓ {self.new_events:,} new {noun} · End to follow "

    def set_title(self, title: Text) -> None:
        if title.plain != self.title.plain or title.spans != self.title.spans:
            self.title = title
            self.refresh()

    def set_new_events(self, count: int, following: bool) -> None:
        before = self.marker
        self.new_events, self.following = count, following
        if self.marker != before:
            self.refresh()

    def render(self) -> Text:
        width = self.size.width
        marker = self.marker
        room = max(0, width - len(marker) - 1) if marker else width
        line = self.title.copy()
        line.no_wrap = True
        line.overflow = "ellipsis"
        line.truncate(room, overflow="ellipsis", pad=True)
        if marker:
            line.append(" ")
            line.append(marker, style=self.accent)
        return line

    def on_click(self, event: events.Click) -> None:
        marker = self.marker
        if marker and not self.note and event.x >= self.size.width - len(marker) - 1:
            event.stop()
            self.post_message(self.Clicked())
