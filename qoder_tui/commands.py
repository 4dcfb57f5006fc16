"""Command palette: go to any loaded session or thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Provider

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
                    f"{session.display_status} · {session.id}",
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
            yield DiscoveryHit(name, partial(self._open, scope), help=help_text)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for name, help_text, scope in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(name), partial(self._open, scope), help=help_text
                )
