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
    "```no-such-language\nkept as it is\n```\n\n```go\nfunc f() {\n\treturn\n}\n```",
    "```json\n{\"a\": [1, 2]}\n```\n\n```python\nprint('again')\n```",
    "| a | b |\n|---|:-:|\n| 1 | 2 |\n| three | four |",
    "above\n\n---\n\nbelow ![an image](x.png)",
    "line ending in two spaces  \nhard break",
    # Code that fits its block (58 cells at a width of 60) and code that wraps.
    "```python\n" + "x" * 58 + "\n\t" + "y" * 54 + "\n```",
    "```python\n" + "x" * 59 + "\n```\n\n```\n\t" + "y" * 55 + "\n```",
    "```\n" + "日本語" * 9 + "🙂x\n```\n\n```\n" + "日本語" * 10 + "\n```",
    "- a list\n\n  ```python\n  " + "z" * 56 + "\n  ```",
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


def _events_to_draw() -> list:
    """Every kind (the rows test's sample), the demo's sessions, a stretch of the big
    scenario, and lines Rich must cut: wide characters, emoji, a long command."""
    from datetime import UTC, datetime

    from qoder_tui.api.models import parse_event
    from qoder_tui.simulator.scenarios import World, WorldConfig
    from qoder_tui.simulator.synthetic import SyntheticLog

    from .test_rows import events as one_of_each

    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = one_of_each()
    world = World(WorldConfig(scenario="demo", live=False, start=start))
    for session in world.sessions.values():
        log = session.session_log
        made += [parse_event(log.get(i)) for i in range(len(log))]
    big = SyntheticLog("s", "t", 36, start=start, seed=3)
    made += [parse_event(big.get(i)) for i in range(len(big))]
    at = {"processed_at": "2026-01-01T00:00:01Z"}
    made += [
        parse_event({"id": "w1", "type": "span.model_request_start", "model": "模型" * 40, **at}),
        parse_event({"id": "w2", "type": "agent.thinking", "thinking": "🧠 é́ " * 60, **at}),
        parse_event(
            {
                "id": "w3",
                "type": "agent.tool_use",
                "name": "bash",
                "input": {"command": "echo " + "x" * 300},
                **at,
            }
        ),
        parse_event({"id": "w4", "type": "session.status_running", **at}),
    ]
    return made


@pytest.mark.parametrize("width", [8, 23, 61, 99, 160])
def test_an_events_lines_are_what_rich_renders_for_them(width: int) -> None:
    """draw_lines skips Rich's wrapping and line-splitting passes for a one-line Text and
    for each part of a header-over-body Group: what it gives must be, segment for
    segment, what console.render_lines gives, cut lines included."""
    from rich.style import Style
    from rich.text import Text

    from qoder_tui.render.events import draw_lines, render_event

    console = Console(width=200, color_system="truecolor", force_terminal=True)
    style = Style(color="#e0e0e0", bgcolor="#111517")
    options = console.options.update_width(width).update(height=None)
    one_line = 0
    for event in _events_to_draw():
        for expanded, agent in ((False, None), (True, "Research Agent")):
            ctx = RenderContext(width=width, expanded=expanded, agent=agent)
            renderable = render_event(event, ctx)
            one_line += type(renderable) is Text
            rich = console.render_lines(renderable, options, style=style, pad=True)
            assert draw_lines(console, renderable, options, style) == rich, (event.type, width)
    assert one_line > 50  # (the kinds drawn on one line are in the sample)
