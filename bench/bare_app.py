"""The yardstick for first paint: a bare Textual app that paints a screen of text."""

from textual.app import App, ComposeResult
from textual.widgets import Static

LINES = "\n".join(f"{i:02d}  a line of text, as a log would show it" for i in range(40))


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(LINES + "\nBARE-APP-PAINTED")


if __name__ == "__main__":
    Bare().run()
