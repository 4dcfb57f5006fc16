"""The raw JSON of one event, exactly as the server sent it (pretty-printed)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..api.models import Event
from ..render.events import json_syntax, pretty_json


class RawJsonScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,r", "dismiss", "Close"),
        Binding("c", "copy", "Copy"),
    ]

    def __init__(self, event: Event, *, dark: bool = True) -> None:
        super().__init__()
        self.event = event
        self.dark = dark

    def compose(self) -> ComposeResult:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"{self.event.type}", style="bold")
        title.append(f"  {self.event.id}", style="dim")
        with VerticalScroll(id="raw-box"):
            yield Static(title, id="raw-title")
            yield Static(json_syntax(self.event, self.dark), id="raw-json")
            yield Static(Text("escape closes · c copies", style="dim"), id="raw-foot")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(pretty_json(self.event))
        self.notify("Copied to the clipboard", timeout=2, markup=False)
