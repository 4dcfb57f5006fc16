"""Answers about a session: why it is stuck (`d`), and what each child was handed (`h`).

Both are modal lists over pure results (qoder_tui.attention); Enter on a row
asks the main screen to show the event it is about.  Server text reaches them
already sanitised, and is shown as plain Content (never read as markup).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
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


LEDGER_COLUMNS = (
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


def _plain(cell: str | Text) -> str:
    return cell.plain if isinstance(cell, Text) else cell


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
        self._fitted_to = -1
        """The table width the columns were last fitted to (0: not laid out yet)."""

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
        self._fill()
        self.query_one(DataTable).focus()
        # (the table's own width is known once it is laid out: fitted again then if it differs)
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if self.query_one(DataTable).size.width != self._fitted_to:
            self._fill()

    def on_resize(self) -> None:
        self._fill()

    def _fill(self) -> None:
        """The rows, with the task and reply columns sharing what the other columns leave
        of the table's width: every column shows without scrolling sideways."""
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        room = table.size.width or max(0, self.app.size.width - 12)
        self._fitted_to = table.size.width
        rows = [self._cells(row) for row in self.rows]
        heads = LEDGER_COLUMNS
        widths = [
            max([len(head), *(cell_len(_plain(cells[i])) for cells in rows)])
            for i, head in enumerate(heads)
        ]
        # Each column is drawn with a cell of padding either side; a scrollbar may take two.
        fixed = sum(w for i, w in enumerate(widths) if i not in (1, 2)) + 2 * len(heads) + 2
        text_width = max(12, min(48, (room - fixed) // 2))
        table.clear(columns=True)
        for i, head in enumerate(heads):
            table.add_column(head, width=text_width if i in (1, 2) else widths[i])
        for row, cells in zip(self.rows, rows, strict=True):
            cells[1] = Text(one_line(row.task, text_width))
            cells[2] = Text(one_line(row.reply or "(no reply yet)", text_width))
            table.add_row(*cells)
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))

    @staticmethod
    def _cells(row: LedgerRow) -> list[str | Text]:
        usage = row.usage
        tokens = usage.total_tokens
        return [
            Text(row.child),
            Text(""),  # the task and the reply: cut to the width the table leaves them
            Text(""),
            _clock_time(row.sent_at),
            f"+{_duration(row.wait)}" if row.picked_up_at else "–",
            f"+{_duration(row.work)}" if row.answered_at else "–",
            _duration(row.total),
            f"{tokens:,}" if tokens else "–",
            f"{usage.credits:g}" if usage.credits is not None else "–",
            Text(row.state or "–"),  # a server's word: never read as markup
        ]

    def action_show(self, which: str) -> None:
        table = self.query_one(DataTable)
        if not self.rows:
            return
        row = self.rows[min(table.cursor_row, len(self.rows) - 1)]
        if which == "reply" and row.reply_id:
            self.dismiss((None, row.reply_id))
        elif which == "sent":
            self.dismiss((None, row.sent_id))
