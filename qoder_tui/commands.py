"""Command palette: go to any loaded session or thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from .screens.main import MainScreen


class GoToProvider(Provider):
    """`go to session …` and `go to thread …` for everything loaded."""

    def _entries(self) -> list[tuple[str, str, tuple[str, str | None]]]:
        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        entries: list[tuple[str, str, tuple[str, str | None]]] = []
        for session in screen.sessions.values():
            entries.append(
                (
                    f"go to session: {session.display_title}",
                    f"{screen.controller.status_of(session)} · {session.id}",
                    (session.id, None),
                )
            )
        for store in screen.stores.values():
            for info in store.threads.values():
                entries.append(
                    (
                        f"go to thread: {info.name} — {store.session.display_title}",
                        f"{info.status} · {info.id}",
                        (store.id, info.id),
                    )
                )
        return entries

    def _open(self, scope: tuple[str, str | None]) -> None:
        screen = self.screen
        if isinstance(screen, MainScreen):
            screen.open_scope(scope)

    async def discover(self) -> AsyncIterator[DiscoveryHit]:
        for name, help_text, scope in self._entries():
            yield DiscoveryHit(
                Content(name), partial(self._open, scope), text=name, help=escape(help_text)
            )

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for name, help_text, scope in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    plain_highlight(matcher, name),
                    partial(self._open, scope),
                    text=name,
                    help=escape(help_text),
                )


def plain_highlight(matcher: Matcher, candidate: str) -> Content:
    """`Matcher.highlight` without reading the candidate as markup.

    Names and titles come from the server: `[WIP] fix` must show as typed, and
    `[/bold]` in one must not break the palette.
    """
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    if not score:
        return content
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class SafeCommandPalette(CommandPalette):
    """Textual's palette, with paging that cannot fail.

    Its own page keys reach into the option list's line index, which is not
    there while nothing matches or the list is still hidden (a KeyError).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pagedown", "page(1)", "Next page", show=False),
        Binding("pageup", "page(-1)", "Previous page", show=False),
    ]

    def action_page(self, direction: int) -> None:
        commands = self.query_one(CommandList)
        if not commands.option_count or not commands.display or not commands.size.height:
            return
        try:
            if direction > 0:
                commands.action_page_down()
            else:
                commands.action_page_up()
        except (KeyError, IndexError):
            pass  # the list is being rebuilt; the next key press pages
