"""The "N new events" marker shown while the reader is scrolled up."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Static


class NewEventsBadge(Static):
    """Hidden while following; a click goes back to following."""

    class Clicked(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.count = 0
        self.display = False

    def set_count(self, count: int, following: bool) -> None:
        self.count = count
        self.display = not following and count > 0
        if self.display:
            noun = "event" if count == 1 else "events"
            self.update(f" ↓ {count:,} new {noun} · End to follow ")

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked())
