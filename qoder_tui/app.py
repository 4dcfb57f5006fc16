"""The Textual app: wiring only.  The main screen does the work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from .api.client import QoderClient
from .api.settings import Settings
from .commands import GoToProvider
from .screens.main import MainScreen


def styles_dir() -> Path:
    """`qoder_tui/styles` in an installed wheel; the top-level `styles/` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "styles", here.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    raise FileNotFoundError(
        "qoder-tui's stylesheet (styles/app.tcss) is missing from the installation"
    )


class QoderApp(App[None]):
    TITLE = "qoder-tui"
    CSS_PATH = str(styles_dir() / "app.tcss")
    COMMANDS = App.COMMANDS | {GoToProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        session_id: str | None = None,
        thread_id: str | None = None,
        open_live_session: bool = False,
        clock: Callable[[], datetime] | None = None,
        live: bool = True,
        server_label: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.client = QoderClient(settings)
        self._screen_args = {
            "session_id": session_id,
            "thread_id": thread_id,
            "open_live_session": open_live_session,
            "clock": clock,
            "live": live,
            "server_label": server_label,
        }

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.client, **self._screen_args))  # type: ignore[arg-type]

    async def on_unmount(self) -> None:
        await self.client.aclose()
