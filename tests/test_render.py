"""Rendering: pure functions from an event (or its text) to what Rich draws."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.markdown import Markdown

from qoder_tui.api.models import EVENT_CLASSES
from qoder_tui.render.events import HEIGHTS, RENDERERS, Palette, RenderContext, markdown
from qoder_tui.render.summary import LABELS, SUMMARIES

MARKDOWN = [
    "plain words on one line",
    "a paragraph\nwith a soft break\n\nand a second one",
    "**bold**, *italic*, ~~struck~~, `code` and [a link](https://example.com)",
    "# Heading\n\n## Second\n\ntext under it",
    "- one\n- two\n  - nested\n\n1. first\n2. second",
    "> quoted\n> twice",
    "```python\ndef f(x):\n    return x * 2\n```",
    "```\nno language\n```\n\n    indented code",
    "| a | b |\n|---|:-:|\n| 1 | 2 |\n| three | four |",
    "above\n\n---\n\nbelow ![an image](x.png)",
    "line ending in two spaces  \nhard break",
]


@pytest.mark.parametrize("dark", [True, False], ids=["dark", "light"])
@pytest.mark.parametrize("text", MARKDOWN)
def test_markdown_with_one_shared_parser_draws_what_rich_markdown_draws(
    text: str, dark: bool
) -> None:
    """markdown() builds rich's Markdown without a parser per message (see its docstring):
    it must draw exactly what rich's own constructor would, segment for segment."""
    console = Console(width=60, color_system="truecolor", force_terminal=True)
    options = console.options.update(height=None)
    ctx = RenderContext(width=60, palette=Palette(dark=dark))
    theme = "monokai" if dark else "default"
    ours = console.render_lines(markdown(text, ctx), options, pad=True)
    rich = console.render_lines(
        Markdown(text, code_theme=theme, hyperlinks=False), options, pad=True
    )
    assert ours == rich
    assert len(ours) >= 1


@pytest.mark.parametrize(
    "table", [RENDERERS, HEIGHTS, LABELS, SUMMARIES], ids=["draw", "height", "label", "summary"]
)
def test_every_kind_the_parser_makes_has_an_entry_in_each_per_kind_table(table: dict) -> None:
    """Each is looked up by the event's own class: a kind missing from one would fall back
    to the generic entry and be drawn, measured or named as an unknown event."""
    assert set(table) == set(EVENT_CLASSES)
