"""Pure functions from an event to a Rich renderable.

No widget access and no I/O: everything the renderer needs (the paired tool
result, the agent label, the fold state, the palette, the clock) comes in a
:class:`RenderContext`.  The event log caches what these return.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:  # (pygments and rich's Syntax load on first use)
    from pygments.lexer import Lexer
    from rich.syntax import SyntaxTheme

from ..api.models import (
    AgentMessage,
    Event,
    GenericEvent,
    MalformedEvent,
    ModelRequestEnd,
    ModelRequestStart,
    NoteEvent,
    OutcomeSpan,
    SessionError,
    StatusChange,
    SystemMessage,
    Thinking,
    ThreadCreated,
    ThreadMessage,
    ToolConfirmation,
    ToolResult,
    ToolUse,
    UsageSnapshot,
    UserMessage,
)
from ..api.sanitize import escape_json
from ..store import TurnStats
from .summary import (
    duration_text,
    one_line,
    stop_reason_summary,
    summarize,
    tool_input_summary,
    usage_summary,
)

FOLDED_OUTPUT_LINES = 4
FOLDED_HANDOFF_LINES = 2
FOLDED_JSON_LINES = 6
INDENT = 11  # the time column and its gap


@dataclass(frozen=True)
class Palette:
    """Colours taken from the app's theme, so renderables follow theme changes."""

    primary: str = "#4ea1ff"
    secondary: str = "#b58cff"
    accent: str = "#ffb86c"
    success: str = "#50fa7b"
    warning: str = "#f1fa8c"
    error: str = "#ff5555"
    muted: str = "#7f8490"
    foreground: str = "#e0e0e0"
    dark: bool = True


@dataclass
class RenderContext:
    """What drawing one event needs besides the event: width, fold state, its pair, names."""

    width: int
    expanded: bool = False
    agent: str | None = None
    """The agent label to show (the session view labels every line)."""
    result: ToolResult | None = None
    """For a tool call: its result, when it has arrived."""
    peer_name: str | None = None
    """For a handoff: the other thread's agent name."""
    waiting_on: frozenset[str] = field(default_factory=frozenset)
    started_at: datetime | None = None
    """For a model-request end: when its request started."""
    waiting_calls: tuple[str, ...] = ()
    settled: bool = False
    """Its thread went idle or ended after it: a call without a result will not get one."""
    """For an idle with `requires_action`: what each blocking call is, as a person reads it."""
    now: datetime | None = None
    palette: Palette = field(default_factory=Palette)
    turn: TurnStats | None = None
    """For a user message: the turn it started (duration, model and tool time, tokens)."""


def agent_column(name: str) -> str:
    """An agent's name as the column after an event's time shows it (17 cells)."""
    return f"{name if len(name) <= 16 else name[:15] + '…':<16} "


def _header(
    event: Event, ctx: RenderContext, label: str, label_style: str, summary: Text | str
) -> Text:
    p = ctx.palette
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(event.hhmmss, style=p.muted)
    line.append("  ")
    if ctx.agent:
        line.append(agent_column(ctx.agent), style=f"bold {p.secondary}")
    line.append(f"{label:<8}", style=label_style)
    line.append(" ")
    if isinstance(summary, Text):
        line.append_text(summary)
    else:
        line.append(summary)
    return line


def _body(renderable: RenderableType) -> Padding:
    return Padding(renderable, (0, 0, 0, INDENT))


LONG_LINES = 400
LONG_CHARS = 100_000
"""An unfolded body past either of these is drawn a visible line at a time (LongBody)."""
LINE_CHARS = 2_000
"""No shown line is longer than this (the view is never that wide): one 10 MB line costs no more."""
FOLDED_MESSAGE_LINES = 40
FOLDED_MESSAGE_CHARS = 8_000


def _trim_end(text: str) -> str:
    return text.rstrip("\n") if text.endswith("\n") else text


def line_count(text: str) -> int:
    """Lines in a body (0 for nothing but white space), without splitting it."""
    body = _trim_end(text)
    if not body or (len(body) < 4096 and not body.strip()):
        return 0
    return body.count("\n") + 1


def is_long(text: str) -> bool:
    return len(text) > LONG_CHARS or text.count("\n") >= LONG_LINES


def head_lines(text: str, limit: int | None) -> tuple[list[str], int]:
    """The first `limit` lines (each cut to LINE_CHARS) and how many more there are.

    Splits no further than it shows: folding a 10 MB output costs what a short one does.
    """
    body = _trim_end(text)
    if limit is None:
        lines = body.split("\n")
        hidden = 0
    else:
        lines = body.split("\n", limit)
        hidden = 0
        if len(lines) > limit:
            hidden = body.count("\n") + 1 - limit
            lines = lines[:limit]
    return [line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + "…" for line in lines], hidden


def _cropped_lines(
    text: str, limit: int | None, style: str, ctx: RenderContext
) -> tuple[Text, int]:
    """Lines shown as-is (cropped, never wrapped), the first `limit` of them."""
    lines, hidden = head_lines(text, limit) if line_count(text) else ([], 0)
    out = Text(no_wrap=True, overflow="ellipsis")
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        out.append(line.expandtabs(4), style=style)
    return out, hidden


@dataclass(frozen=True)
class LineRun:
    """Body lines drawn one by one: cropped (tool output, JSON) or wrapped (prose)."""

    lines: list[str]
    style: str
    wrap: bool = False
    prefix: str = ""
    prefix_style: str = ""


@dataclass(frozen=True)
class LongBody:
    """An unfolded event too long to render at once.

    `head` (the header and anything short) is rendered with Rich as usual; the
    runs are drawn a visible line at a time by the event log, so unfolding a
    10 MB output or a 1 MB message costs one frame, not seconds.
    """

    head: RenderableType
    runs: tuple[LineRun, ...]
    indent: int = INDENT
    tail: RenderableType | None = None


def _folded_body(
    text: str, limit: int | None, style: str, ctx: RenderContext
) -> list[RenderableType]:
    """The body lines, cropped to `limit`, and a "… N more lines" line when some are hidden."""
    out, hidden = _cropped_lines(text, limit, style, ctx)
    return [_body(out), _body(_more(hidden, ctx))] if hidden else [_body(out)]


def _ruled(text: Text, rule_style: str) -> Text:
    """Output lines behind a thin rule, so they read as belonging to the call above."""
    out = Text(no_wrap=True, overflow="ellipsis")
    for i, line in enumerate(text.split("\n")):
        if i:
            out.append("\n")
        out.append("│ ", style=rule_style)
        out.append_text(line)
    return out


def _more(hidden: int, ctx: RenderContext, what: str = "lines") -> Text:
    noun = what if hidden != 1 else what.rstrip("s")
    return Text(f"… {hidden:,} more {noun} (space to unfold)", style=f"italic {ctx.palette.muted}")


def _elapsed(event: Event, now: datetime | None) -> str:
    start = event.time
    if start is None or now is None:
        return ""
    return duration_text((now - start).total_seconds())


def markdown(text: str, ctx: RenderContext) -> RenderableType:
    return _markdown_class()(text, code_theme="monokai" if ctx.palette.dark else "default")


def load_markdown() -> None:
    """Load the markdown renderer now rather than in the first frame that shows a message
    (importing it takes 25-35 ms): the UI calls this once it has drawn its first frame,
    while it waits for the server's first pages."""
    _markdown_class()


CODE_LANGUAGES = ("python", "bash", "json", "sql", "diff", "javascript", "typescript", "yaml")
"""The code blocks' languages whose highlighting warm_code_highlighting makes ready."""


def warm_code_highlighting() -> threading.Thread:
    """Make code blocks' highlighting ready, in a thread of its own: the lexers of the
    common languages and the themes.

    pygments compiles a lexer's patterns when the lexer is first made (measured alone:
    Python 70 ms, TypeScript 50, SQL 41, bash 21), and that fell inside the first frame
    that drew a code block in the language: frames of 100-176 ms in the first bursts after
    a launch, while keys waited.  In a thread, the work goes in the interpreter's turns of
    5 ms between the event loop's.  Whatever is not ready yet when a frame needs it is
    made there, as before.
    """

    def warm() -> None:
        for name in CODE_LANGUAGES:
            _code_lexer(name)
        for name in ("monokai", "default"):
            _code_theme(name)

    thread = threading.Thread(target=warm, name="qoder-tui-highlighting", daemon=True)
    thread.start()
    return thread


@lru_cache(maxsize=64)
def _code_lexer(name: str) -> Lexer | str:
    """What rich's Syntax asks pygments for on every draw of a code block: finding it by
    name searches every lexer's aliases (0.2-0.7 ms here).  A lexer keeps no state between
    texts.  A name pygments does not know stays a name (rich then draws the code
    unhighlighted)."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=4)
    except ClassNotFound:
        return name


@lru_cache(maxsize=4)
def _code_theme(name: str) -> SyntaxTheme:
    """One theme per name, whose style of each token kind is worked out once, not once per
    code block."""
    from rich.syntax import Syntax

    return Syntax.get_theme(name)


@lru_cache(maxsize=1)
def _markdown_class() -> Callable[..., RenderableType]:
    """rich's Markdown, parsed with one shared parser (loaded on first use: markdown-it).

    rich builds a new MarkdownIt parser for every Markdown it makes: 0.4 ms, a third of
    what drawing a short message costs.  This sets what rich's constructor sets (with
    `hyperlinks=False` and the defaults otherwise); a test checks that both draw alike.
    """
    from markdown_it import MarkdownIt
    from rich.console import RenderResult
    from rich.markdown import CodeBlock, Markdown
    from rich.syntax import Syntax

    parser = MarkdownIt().enable("strikethrough").enable("table")

    class SharedCodeBlock(CodeBlock):
        """rich's code block, drawn with the lexer and theme found once."""

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            code = str(self.text).rstrip()
            # rich's code block wraps its lines (word_wrap), which draws the code a line at a
            # time; when every line fits (the usual case) Syntax draws it in one piece, the
            # same cells (a test compares them), in three quarters of the time.
            room = options.max_width - 2  # (within Syntax's padding of one cell a side)
            fits = all(cell_len(line) <= room for line in code.expandtabs(4).split("\n"))
            yield Syntax(
                code,
                _code_lexer(self.lexer_name),
                theme=_code_theme(self.theme),
                word_wrap=not fits,
                padding=1,
            )

    class SharedParserMarkdown(Markdown):
        elements = {**Markdown.elements, "fence": SharedCodeBlock, "code_block": SharedCodeBlock}

        def __init__(self, markup: str, code_theme: str) -> None:
            self.markup = markup
            self.parsed = parser.parse(markup)
            self.code_theme = code_theme
            self.justify = None
            self.style = "none"
            self.hyperlinks = False
            self.inline_code_lexer = None
            self.inline_code_theme = code_theme

    return SharedParserMarkdown


# --------------------------------------------------------------------------- per kind


def _message(
    event: UserMessage | AgentMessage | SystemMessage, ctx: RenderContext
) -> RenderableType:
    p = ctx.palette
    if isinstance(event, UserMessage):
        label, style = "user", f"bold {p.accent}"
    elif isinstance(event, SystemMessage):
        label, style = "system", f"bold {p.muted}"
    else:
        label, style = "agent", f"bold {p.primary}"
    partial = " (partial)" if isinstance(event, AgentMessage) and event.partial else ""
    summary = Text(partial, style=p.muted)
    if isinstance(event, UserMessage) and ctx.turn is not None:
        summary = Text(turn_summary(ctx.turn), style=p.muted)
    head = _header(event, ctx, label, style, summary)
    if is_long(event.text):
        # Folded: the start as markdown and what is left; unfolded it is a LongBody.
        # Plain text, line breaks kept (markdown would join a long plain message's lines).
        lines, hidden = head_lines(event.text, FOLDED_MESSAGE_LINES)
        start = "\n".join(lines)[:FOLDED_MESSAGE_CHARS]
        hidden = max(hidden, 1)
        return Group(head, _body(Text(start, style=p.foreground)), _body(_more(hidden, ctx)))
    body = event.text.strip() or "(empty)"
    return Group(head, _body(markdown(body, ctx)))


def turn_summary(turn: TurnStats) -> str:
    """The turn's line: 'turn 2m13s · model 41s · tools 1m02s · other 30s · 12.3k tok · 1.5 cr'."""
    state = "turn" if turn.ended else "turn so far"
    bits = [
        f"{state} {duration_text(turn.duration)}",
        f"model {duration_text(turn.model)}",
        f"tools {duration_text(turn.tools)}",
        f"other {duration_text(turn.other)}",
    ]
    if turn.tokens:
        bits.append(f"{turn.tokens:,} tok")
    if turn.credits is not None:
        bits.append(f"{turn.credits:g} cr")
    return " · ".join(bits)


def _thinking(event: Thinking, ctx: RenderContext) -> RenderableType:
    p = ctx.palette
    text = event.text or ""
    if not ctx.expanded or not text:
        summary = Text(one_line(text, 400) if text else "thinking…", style=f"italic {p.muted}")
        return _header(event, ctx, "thinking", f"italic {p.muted}", summary)
    head = _header(event, ctx, "thinking", f"italic {p.muted}", Text(""))
    return Group(head, _body(Text(text, style=f"italic {p.muted}")))


def _tool(event: ToolUse, ctx: RenderContext) -> RenderableType:
    p = ctx.palette
    result = ctx.result
    name = event.name if event.family != "mcp" else f"{event.mcp_server or 'mcp'}/{event.name}"
    summary = Text()
    summary.append(name, style=f"bold {p.primary}")
    detail = tool_input_summary(event, 400)
    if detail:
        summary.append(" ")
        summary.append(detail)
    if event.id in ctx.waiting_on or (result is None and event.requires_confirmation):
        summary.append("  ⏸ waiting for approval", style=f"bold {p.warning}")
    elif result is None and ctx.settled:
        summary.append("  no result recorded", style=f"italic {p.muted}")
    elif result is None:
        elapsed = _elapsed(event, ctx.now)
        summary.append(f"  ⋯ running {elapsed}".rstrip(), style=p.warning)
    elif result.is_error:
        summary.append("  ✗ error", style=f"bold {p.error}")
    else:
        summary.append("  ✓", style=p.success)
    label = {"mcp": "mcp", "custom": "custom"}.get(event.family, "tool")
    head = _header(event, ctx, label, f"bold {p.primary}", summary)
    parts: list[RenderableType] = [head]
    if ctx.expanded and event.input:
        data = json.dumps(event.input, indent=2, ensure_ascii=False)
        parts.append(_body(Text(data, style=p.muted, no_wrap=True, overflow="ellipsis")))
    if result is not None:
        style = p.error if result.is_error else p.foreground
        text = result.text if result.text.strip() else "(no output)"
        out, hidden = _cropped_lines(
            text, None if ctx.expanded else FOLDED_OUTPUT_LINES, style, ctx
        )
        parts.append(
            Padding(_ruled(out, p.error if result.is_error else p.muted), (0, 0, 0, INDENT - 2))
        )
        if hidden:
            parts.append(_body(_more(hidden, ctx)))
    return Group(*parts)


def _orphan_result(event: ToolResult, ctx: RenderContext) -> RenderableType:
    """A result whose call is not loaded (older page not fetched yet)."""
    p = ctx.palette
    summary = Text(f"for {event.call_id or 'an unknown call'}", style=p.muted)
    head = _header(
        event, ctx, "result", f"bold {p.error if event.is_error else p.primary}", summary
    )
    style = p.error if event.is_error else p.foreground
    limit = None if ctx.expanded else FOLDED_OUTPUT_LINES
    return Group(head, *_folded_body(event.text or "(no output)", limit, style, ctx))


def _status(event: StatusChange, ctx: RenderContext) -> RenderableType:
    p = ctx.palette
    colour = {
        "running": p.success,
        "idle": p.muted,
        "rescheduled": p.warning,
        "terminated": p.error,
        "deleted": p.error,
    }.get(event.status, p.muted)
    stop = event.stop_reason.type if event.stop_reason else None
    if stop == "requires_action":
        colour = p.warning
    elif stop in ("retries_exhausted", "budget_reached"):
        colour = p.error
    who = f"{event.agent_name} " if event.scope == "thread" and event.agent_name else ""
    title = Text(f"── {who}{event.status} ", style=f"bold {colour}")
    stop_text = stop_reason_summary(event)
    if stop_text:
        title.append(f"· {stop_text} ", style=colour)
    usage = usage_summary(event.usage)
    if usage:
        title.append(f"· {usage} ", style=p.muted)
    if event.reason:
        title.append(f"· {event.reason} ", style=p.muted)
    fill = max(0, ctx.width - INDENT - title.cell_len - (17 if ctx.agent else 0))
    title.append("─" * fill, style=colour)
    label = "status" if event.scope == "session" else "thread"
    head = _header(event, ctx, label, f"bold {colour}", title)
    if stop == "requires_action" and event.stop_reason and event.stop_reason.event_ids:
        calls = ctx.waiting_calls or tuple(event.stop_reason.event_ids)
        lines = Text(no_wrap=True, overflow="ellipsis")
        for i, call in enumerate(calls):
            if i:
                lines.append("\n")
            lines.append("⏸ waiting on ", style=p.warning)
            lines.append(call, style=f"bold {p.warning}")
        return Group(head, _body(lines))
    return head


def _span_end(event: ModelRequestEnd, ctx: RenderContext) -> RenderableType:
    p = ctx.palette
    bits: list[str] = []
    if event.model:
        bits.append(event.model)
    end = event.time
    if ctx.started_at is not None and end is not None:
        bits.append(f"{max(0.0, (end - ctx.started_at).total_seconds()):.1f}s")
    usage = usage_summary(event.usage)
    if usage:
        bits.append(usage)
    text = Text(" · ".join(bits) if bits else "request finished", style=p.muted)
    if event.is_error:
        text.append(" · failed", style=f"bold {p.error}")
    return _header(event, ctx, "model", p.secondary, text)


def _handoff(event: ThreadMessage, ctx: RenderContext) -> RenderableType:
    p = ctx.palette
    peer = ctx.peer_name or event.peer_agent_name or event.peer_thread_id or "coordinator"
    arrow = "→" if event.direction == "sent" else "←"
    verb = "to" if event.direction == "sent" else "from"
    summary = Text()
    summary.append(f"{arrow} {verb} ", style=f"bold {p.accent}")
    summary.append(peer, style=f"bold {p.secondary}")
    summary.append("   (enter: jump to the other side)", style=f"italic {p.muted}")
    head = _header(event, ctx, "handoff", f"bold {p.accent}", summary)
    if ctx.expanded:
        return Group(head, _body(markdown(event.text or "(empty)", ctx)))
    return Group(
        head, *_folded_body(event.text or "(empty)", FOLDED_HANDOFF_LINES, p.foreground, ctx)
    )


def _error(event: SessionError, ctx: RenderContext) -> RenderableType:
    p = ctx.palette
    kind = event.error_type or event.code or "error"
    summary = Text(kind, style=f"bold {p.error}")
    if event.retry_status:
        style = p.warning if event.retry_status == "retrying" else f"bold {p.error}"
        summary.append(f"  [{event.retry_status}]", style=style)
    if event.mcp_server:
        summary.append(f"  mcp server {event.mcp_server}", style=p.muted)
    head = _header(event, ctx, "error", f"bold {p.error}", summary)
    return Group(head, _body(Text(event.message or "(no message)", style=p.error)))


def _json_block(
    event: Event, ctx: RenderContext, label: str, note: str, style: str
) -> RenderableType:
    p = ctx.palette
    head = _header(event, ctx, label, style, Text(note, style=p.muted))
    limit = None if ctx.expanded else FOLDED_JSON_LINES
    return Group(head, *_folded_body(pretty_json(event), limit, p.muted, ctx))


def _one_liner(
    event: Event, ctx: RenderContext, label: str, style: str, text: str
) -> RenderableType:
    return _header(event, ctx, label, style, Text(text, style=ctx.palette.muted))


def _model_start(event: ModelRequestStart, ctx: RenderContext) -> RenderableType:
    if ctx.settled:
        text = "request did not finish"
    else:
        elapsed = _elapsed(event, ctx.now)
        text = f"request running {elapsed}" if elapsed else "request started"
    if event.model:
        text += f" · {event.model}"
    return _one_liner(event, ctx, "model ▸", ctx.palette.secondary, text)


def _spawn(event: ThreadCreated, ctx: RenderContext) -> RenderableType:
    p = ctx.palette
    spawned = Text()
    spawned.append("started ", style=p.muted)
    spawned.append(event.agent_name or "a child agent", style=f"bold {p.secondary}")
    spawned.append(f"  {event.child_thread_id or ''}", style=p.muted)
    return _header(event, ctx, "spawn", f"bold {p.secondary}", spawned)


def _usage(event: UsageSnapshot, ctx: RenderContext) -> RenderableType:
    return _one_liner(event, ctx, "usage", ctx.palette.muted, summarize(event))


def _confirmation(event: ToolConfirmation, ctx: RenderContext) -> RenderableType:
    p = ctx.palette
    style = p.success if event.result == "allow" else p.error
    return _one_liner(event, ctx, "confirm", f"bold {style}", summarize(event))


def _note(event: NoteEvent, ctx: RenderContext) -> RenderableType:
    return _one_liner(event, ctx, "note", ctx.palette.muted, summarize(event))


def _outcome(event: OutcomeSpan, ctx: RenderContext) -> RenderableType:
    return _one_liner(event, ctx, "outcome", ctx.palette.muted, summarize(event))


def _malformed(event: MalformedEvent, ctx: RenderContext) -> RenderableType:
    note = f"unreadable event: {event.problem}"
    return _json_block(event, ctx, "broken", note, f"bold {ctx.palette.error}")


def _generic(event: Event, ctx: RenderContext) -> RenderableType:
    note = f"{event.type} (unknown type, shown as JSON)"
    return _json_block(event, ctx, "event", note, f"bold {ctx.palette.muted}")


Renderer = Callable[[Any, RenderContext], RenderableType]

RENDERERS: dict[type[Event], Renderer] = {
    UserMessage: _message,
    AgentMessage: _message,
    SystemMessage: _message,
    Thinking: _thinking,
    ToolUse: _tool,
    ToolResult: _orphan_result,
    StatusChange: _status,
    ModelRequestEnd: _span_end,
    ModelRequestStart: _model_start,
    ThreadMessage: _handoff,
    SessionError: _error,
    ThreadCreated: _spawn,
    UsageSnapshot: _usage,
    ToolConfirmation: _confirmation,
    NoteEvent: _note,
    OutcomeSpan: _outcome,
    MalformedEvent: _malformed,
    GenericEvent: _generic,
}
"""One renderer per event kind (the parser makes exactly these classes)."""


MARKDOWN_KINDS: frozenset[type[Event]] = frozenset(
    {UserMessage, SystemMessage, AgentMessage, ThreadMessage}
)
"""The kinds drawn with rich's Markdown (a handoff when unfolded): 0.3-4.5 ms each, code
blocks highlighted, where a one-line kind takes 0.1-0.4 ms."""


def render_event(event: Event, ctx: RenderContext) -> RenderableType:
    """The renderable for one event.  Never raises for any event the parser makes."""
    return RENDERERS.get(type(event), _generic)(event, ctx)


def draw_lines(
    console: Console, renderable: RenderableType, options: ConsoleOptions, style: Style
) -> list[list[Segment]]:
    """What `console.render_lines(renderable, options, style=style, pad=True)` gives.

    A one-line Text (the whole drawing of most kinds: spans, statuses, usage) is drawn
    with Rich's own truncate and render, without the wrapping, joining and line-splitting
    passes around them: those were two thirds of drawing such an event (0.2-0.4 ms here).
    """
    if type(renderable) is Text:
        line = _text_line(console, renderable, options, style)
        if line is not None:
            return [line]
    elif type(renderable) is Group:
        # A header over a body: each part on lines of its own (a Text ending its line, or
        # Padding, which ends each of its lines), so the header is drawn as above.
        parts = renderable.renderables
        if all(
            (type(part) is Text and part.end == "\n") or type(part) is Padding for part in parts
        ):
            return [line for part in parts for line in draw_lines(console, part, options, style)]
    return console.render_lines(renderable, options, style=style, pad=True)


def _text_line(
    console: Console, text: Text, options: ConsoleOptions, style: Style
) -> list[Segment] | None:
    """A Text that Rich draws on one line, drawn so; None for any other (wrapped, justified,
    holding a line break or tab, or asked for a fixed height)."""
    plain = text.plain
    no_wrap = text.no_wrap if text.no_wrap is not None else options.no_wrap
    overflow = text.overflow or options.overflow or "fold"
    if (
        not no_wrap
        or (text.justify or options.justify or "default") != "default"
        or overflow == "ignore"
        or options.height is not None
        or "\n" in plain
        or "\t" in plain
    ):
        return None
    width = options.max_width
    line = text
    if cell_len(plain) > width:
        line = text.copy()
        line.truncate(width, overflow=overflow)
    segments = line.render(console, end="")
    if style:
        segments = Segment.apply_style(segments, style)
    return Segment.adjust_line_length(list(segments), width, style=style, pad=True)


# --------------------------------------------------------------------------- long bodies


def _folded_header(event: Event, ctx: RenderContext) -> RenderableType:
    """The event's first line as it is drawn folded (a long body's lines follow it)."""
    head = render_event(event, replace(ctx, expanded=False))
    return head.renderables[0] if isinstance(head, Group) else head


def _long_tool(event: ToolUse, ctx: RenderContext) -> LongBody | None:
    p = ctx.palette
    result = ctx.result
    input_text = json.dumps(event.input, indent=2, ensure_ascii=False) if event.input else ""
    long_input = is_long(input_text)
    if result is None or not (long_input or is_long(result.text)):
        return None
    runs: list[LineRun] = []
    parts: list[RenderableType] = [_folded_header(event, ctx)]
    if long_input:
        runs.append(LineRun(input_text.split("\n"), p.muted))
    elif input_text:
        parts.append(_body(Text(input_text, style=p.muted, no_wrap=True, overflow="ellipsis")))
    rule = p.error if result.is_error else p.muted
    style = p.error if result.is_error else p.foreground
    runs.append(LineRun(_all_lines(result.text), style, prefix="│ ", prefix_style=rule))
    return LongBody(Group(*parts), tuple(runs))


def _long_result(event: ToolResult, ctx: RenderContext) -> LongBody | None:
    if not is_long(event.text):
        return None
    style = ctx.palette.error if event.is_error else ctx.palette.foreground
    return LongBody(_folded_header(event, ctx), (LineRun(_all_lines(event.text), style),))


def _long_message(
    event: UserMessage | AgentMessage | SystemMessage | ThreadMessage, ctx: RenderContext
) -> LongBody | None:
    if not is_long(event.text):
        return None
    run = LineRun(_all_lines(event.text), ctx.palette.foreground, wrap=True)
    return LongBody(_folded_header(event, ctx), (run,))


def _long_thinking(event: Thinking, ctx: RenderContext) -> LongBody | None:
    if not event.text or not is_long(event.text):
        return None
    style = f"italic {ctx.palette.muted}"
    header = _header(event, ctx, "thinking", style, Text(""))
    return LongBody(header, (LineRun(_all_lines(event.text), style, wrap=True),))


def _long_json(event: MalformedEvent | GenericEvent, ctx: RenderContext) -> LongBody | None:
    text = pretty_json(event)
    if not is_long(text):
        return None
    return LongBody(_folded_header(event, ctx), (LineRun(_all_lines(text), ctx.palette.muted),))


LONG_BODIES: dict[type[Event], Callable[[Any, RenderContext], LongBody | None]] = {
    ToolUse: _long_tool,
    ToolResult: _long_result,
    UserMessage: _long_message,
    AgentMessage: _long_message,
    SystemMessage: _long_message,
    ThreadMessage: _long_message,
    Thinking: _long_thinking,
    MalformedEvent: _long_json,
    GenericEvent: _long_json,
}
"""The kinds whose unfolded body can be too long to render at once, and how each is drawn
then (looked up by the event's own class, as RENDERERS; the other kinds never are)."""


def long_body(event: Event, ctx: RenderContext) -> LongBody | None:
    """How to draw an unfolded event whose body is too long to render at once (else None)."""
    if not ctx.expanded:
        return None
    draw = LONG_BODIES.get(type(event))
    return draw(event, ctx) if draw is not None else None


def _all_lines(text: str) -> list[str]:
    return [line.expandtabs(4) for line in _trim_end(text).split("\n")]


def pretty_json(event: Event) -> str:
    """The event's JSON, indented, for the raw view, copy and JSON blocks.

    Decoding gives back the characters the parser escaped, so the text is
    escaped again on the way out (C1, bidi, zero-width as \\uXXXX).
    """
    raw = event.raw
    if isinstance(raw, str):
        return escape_json(raw)
    try:
        return escape_json(json.dumps(raw, indent=2, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError):
        return escape_json(event.raw_json)


def json_syntax(event: Event, dark: bool = True) -> RenderableType:
    from rich.syntax import Syntax  # loaded on first use: it pulls in pygments

    return Syntax(
        pretty_json(event), "json", theme="monokai" if dark else "default", word_wrap=True
    )


# --------------------------------------------------------------------------- heights


def _one_line(event: Event, ctx: RenderContext) -> int:
    return 1


def _status_height(event: StatusChange, ctx: RenderContext) -> int:
    sr = event.stop_reason
    return 1 + len(sr.event_ids) if sr is not None and sr.type == "requires_action" else 1


def _thinking_height(event: Thinking, ctx: RenderContext) -> int:
    if not ctx.expanded or not event.text:
        return 1
    return 1 + _wrapped(event.text, ctx.width - INDENT)


def _tool_height(event: ToolUse, ctx: RenderContext) -> int:
    height = 1
    if ctx.expanded and event.input:
        height += json.dumps(event.input, indent=2, ensure_ascii=False).count("\n") + 1
    result = ctx.result
    if result is not None:
        n = line_count(result.text) or 1
        if not ctx.expanded and n > FOLDED_OUTPUT_LINES:
            height += FOLDED_OUTPUT_LINES + 1
        else:
            height += n
    return height


def _result_height(event: ToolResult, ctx: RenderContext) -> int:
    n = line_count(event.text) or 1
    return 1 + (FOLDED_OUTPUT_LINES + 1 if not ctx.expanded and n > FOLDED_OUTPUT_LINES else n)


def _handoff_height(event: ThreadMessage, ctx: RenderContext) -> int:
    if ctx.expanded:
        return 1 + _wrapped(event.text, ctx.width - INDENT) + 1
    n = line_count(event.text) or 1
    return 1 + (FOLDED_HANDOFF_LINES + 1 if n > FOLDED_HANDOFF_LINES else n)


def _error_height(event: SessionError, ctx: RenderContext) -> int:
    return 1 + _wrapped(event.message or "(no message)", ctx.width - INDENT)


def _message_height(event: UserMessage | AgentMessage | SystemMessage, ctx: RenderContext) -> int:
    if not ctx.expanded and is_long(event.text):
        return 2 + FOLDED_MESSAGE_LINES
    return 1 + _wrapped(event.text or "(empty)", ctx.width - INDENT) + event.text.count("```")


def _json_height(event: Event, ctx: RenderContext) -> int:
    return 1 + min(FOLDED_JSON_LINES + 1, 8)


HEIGHTS: dict[type[Event], Callable[[Any, RenderContext], int]] = {
    UserMessage: _message_height,
    SystemMessage: _message_height,
    AgentMessage: _message_height,
    Thinking: _thinking_height,
    ToolUse: _tool_height,
    ToolResult: _result_height,
    ToolConfirmation: _one_line,
    ModelRequestStart: _one_line,
    ModelRequestEnd: _one_line,
    StatusChange: _status_height,
    ThreadCreated: _one_line,
    SessionError: _error_height,
    ThreadMessage: _handoff_height,
    UsageSnapshot: _one_line,
    OutcomeSpan: _one_line,
    NoteEvent: _one_line,
    MalformedEvent: _json_height,
    GenericEvent: _json_height,
}
"""Each kind's height estimate (looked up by the event's own class, as RENDERERS)."""


def estimate_height(event: Event, ctx: RenderContext) -> int:
    """A cheap guess of the rendered height; exact for every cropped kind."""
    height = HEIGHTS.get(type(event))
    return height(event, ctx) if height is not None else 2


def _wrapped(text: str, width: int) -> int:
    """Lines after wrapping, roughly: this runs for every arriving event, and the
    exact height replaces it as soon as the event is drawn."""
    return text.count("\n") + 1 + len(text) // max(10, width)
