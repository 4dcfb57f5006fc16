"""The `?` screen: every key, and what it does."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Anywhere",
        [
            ("tab / shift+tab", "move between the tree and the event log"),
            ("ctrl+p", "command palette: go to a session or thread, and every action"),
            ("b / backspace", "back to where you were before a jump"),
            (
                "a",
                "next session or thread that needs you (approval, error, stuck call, awaited child)",
            ),
            ("d", "why is it stuck: what holds each thread of this session up, since when"),
            ("h", "handoffs: what the coordinator handed each child, and what came back"),
            (
                "m",
                "a session: its own stream, or every thread merged in time (each line its agent)",
            ),
            ("/", "search this view, reading older history until it is found"),
            (
                "f",
                'filter the log: is:error is:waiting tool:Bash type:… thread:"…" text; -term negates',
            ),
            ("ctrl+t", "change the theme"),
            ("? / f1", "this help"),
            ("q / ctrl+q", "quit"),
        ],
    ),
    (
        "Tree",
        [
            ("↑ ↓", "move"),
            ("enter", "open the session (its whole stream) or the thread"),
            ("space / ← →", "expand or collapse"),
        ],
    ),
    (
        "Event log",
        [
            ("↑ ↓ / k j", "select the previous / next event"),
            ("pgup pgdn", "scroll a page (older events load as you near the top)"),
            ("home / g", "jump to the oldest loaded event"),
            ("t", "the true start of the thread (or of every thread merged), paging forward"),
            ("end / G", "back to the newest event and follow live"),
            ("space", "fold or unfold the selected event (thinking, tool output, messages)"),
            ("enter", "on a handoff: jump to the other thread at the matching event; else fold"),
            ("z", "fold or unfold everything"),
            ("r", "raw JSON of the selected event"),
            ("c", "copy the selected event's JSON to the clipboard"),
            ("n / N", "next older / newer match of the search"),
            ("e / E", "next older / newer failure (error, failed call or request)"),
            ("w / W", "next older / newer approval stop or tool call with no result"),
            ("o / O", "next older / newer handoff between threads"),
            ("s / S", "next older / newer slow model request (10 s or more)"),
            ("escape", "stop a search that is reading history; again: stop marking matches"),
            ("mouse", "wheel scrolls; click selects; click again unfolds"),
        ],
    ),
]


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for i, (section, rows) in enumerate(KEYS):
        if i:
            table.add_row("", "")
        table.add_row(Text(section, style="bold underline"), "")
        for key, what in rows:
            table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("qoder-tui keys", style="bold"), id="help-title")
            yield Static(help_table(), id="help-table")
            yield Static(Text("escape closes", style="dim"), id="help-foot")
