"""Answers about a session: why it is stuck (`d`), and what each child was handed (`h`).

Both are modal lists over pure results (qoder_tui.attention); Enter on a row
asks the main screen to show the event it is about.  Server text reaches them
already sanitised, and is shown as plain Content (never read as markup).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from ..attention import Finding, LedgerRow, age_text
from ..render.summary import one_line

Target = tuple[str | None, str]
"""(thread id or None for the session stream, event id): what Enter shows."""


def _clock_time(when: datetime | None) -> str:
    return when.strftime("%H:%M:%S") if when is not None else "–"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


class DiagnosisScreen(ModalScreen[Target | None]):
    """Per thread, what holds it up and for how long, most pressing first."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,d", "dismiss", "Close")]

    def __init__(self, title: str, findings: list[Finding], now: datetime) -> None:
        super().__init__()
        self.heading = title
        self.findings = findings
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="answers-box"):
            yield Static(Content(f"Why is it stuck? {self.heading}"), id="answers-title")
            if not self.findings:
                yield Static(
                    Content("Nothing holds any thread up: no approval, call or reply is pending."),
                    id="answers-empty",
                )
            options = [
                Option(self._line(i, finding), id=str(i)) for i, finding in enumerate(self.findings)
            ]
            yield OptionList(*options, id="findings")
            yield Static(
                Text("enter: show the event · escape closes", style="dim"), id="answers-foot"
            )

    def _line(self, index: int, finding: Finding) -> Content:
        mark = {"error": "✖", "warning": "⏸", "info": "⋯"}.get(finding.severity, "·")
        age = age_text(finding.since, self.now)
        text = f"{mark} {finding.thread}: {finding.cause}" + (f"  ({age})" if age else "")
        style = {"error": "bold $error", "warning": "$warning"}.get(finding.severity)
        if style is None:
            return Content(text)
        # The text goes in as a variable: substituted as plain text, never read as markup.
        return Content.from_markup(f"[{style}]$text[/]", text=text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        finding = self.findings[int(event.option.id or 0)]
        if finding.event_id:
            self.dismiss((finding.thread_id, finding.event_id))


class LedgerScreen(ModalScreen[Target | None]):
    """One row per coordinator→child handoff: task, reply, times, the child's tokens, state."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,h", "dismiss", "Close"),
        Binding("enter", "show('sent')", "Show the handoff", priority=True),
        Binding("r", "show('reply')", "Show the reply"),
    ]

    def __init__(self, title: str, rows: list[LedgerRow], *, complete: bool = True) -> None:
        super().__init__()
        self.heading = title
        self.rows = rows
        self.complete = complete
        """False: the session's history was read only so far (the rows are its first ones)."""

    def compose(self) -> ComposeResult:
        count = (
            f"{len(self.rows)}" if self.complete else f"the first {len(self.rows)}; more not read"
        )
        with Vertical(id="answers-box"):
            yield Static(Content(f"Handoffs: {self.heading} ({count})"), id="answers-title")
            table: DataTable[str | Text] = DataTable(
                id="ledger", cursor_type="row", zebra_stripes=True
            )
            yield table
            yield Static(
                Text(
                    "enter: the handoff in the coordinator's stream · r: the reply · escape closes",
                    style="dim",
                ),
                id="answers-foot",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(
            "child",
            "task",
            "reply",
            "sent",
            "picked up",
            "answered",
            "total",
            "tokens",
            "credits",
            "state",
        )
        for row in self.rows:
            usage = row.usage
            tokens = usage.total_tokens
            table.add_row(
                Text(row.child),
                Text(one_line(row.task, 48)),
                Text(one_line(row.reply, 48) if row.reply else "(no reply yet)"),
                _clock_time(row.sent_at),
                f"+{_duration(row.wait)}" if row.picked_up_at else "–",
                f"+{_duration(row.work)}" if row.answered_at else "–",
                _duration(row.total),
                f"{tokens:,}" if tokens else "–",
                f"{usage.credits:g}" if usage.credits is not None else "–",
                Text(row.state or "–"),  # a server's word: never read as markup
            )
        table.focus()

    def action_show(self, which: str) -> None:
        table = self.query_one(DataTable)
        if not self.rows:
            return
        row = self.rows[min(table.cursor_row, len(self.rows) - 1)]
        if which == "reply" and row.reply_id:
            self.dismiss((None, row.reply_id))
        elif which == "sent":
            self.dismiss((None, row.sent_id))
