"""The key line at the bottom: the keys that work here, each clickable.

One widget drawing one line of text, instead of Textual's `Footer`, which
mounts a widget per key and mounts them all again whenever focus moves:
on a 2-core machine that recompose cost about 150 ms, and it ran on the path
from launch to the first events on screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget


class KeyHints(Widget):
    """The shown bindings of the focused chain, one entry per action."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-hints--key", "key-hints--description"}
    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-hints--key {
            color: $footer-key-foreground;
            text-style: bold;
        }
        .key-hints--description {
            color: $footer-description-foreground;
        }
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen[object]) -> None:
        self.refresh()

    def entries(self) -> Iterator[tuple[Binding, bool]]:
        """(binding, enabled) for each action with a shown key, in the order they bind."""
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                yield binding, enabled

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-hints--key", partial=True)
        text_style = self.get_component_rich_style("key-hints--description", partial=True)
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for binding, enabled in self.entries():
            click = Style(meta={"@click": f"app.simulate_key({binding.key.split(',')[0]!r})"})
            dim = Style(dim=not enabled)
            line.append(f" {self.app.get_key_display(binding)} ", key_style + dim + click)
            line.append(f"{binding.description} ", text_style + dim + click)
        return line
