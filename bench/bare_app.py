"""The yardstick for first paint and for keys in a real terminal: a bare Textual app that
paints a screen of text, and marks its last line as selected on `k` (unmarked on `end`)."""

from textual.app import App, ComposeResult
from textual.widgets import Static

LINES = "\n".join(f"{i:02d}  a line of text, as a log would show it" for i in range(40))
LAST = "12:00:00  the last line"


class Bare(App[None]):
    BINDINGS = [("k", "mark('▌ ')", ""), ("end", "mark('  ')", "")]

    def compose(self) -> ComposeResult:
        yield Static(LINES + "\nBARE-APP-PAINTED")
        yield Static("  " + LAST, id="last")

    def action_mark(self, mark: str) -> None:
        self.query_one("#last", Static).update(mark + LAST)


if __name__ == "__main__":
    Bare().run()
