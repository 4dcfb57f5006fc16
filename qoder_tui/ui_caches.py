"""What Textual keeps of widgets that are gone, released (no UI of its own)."""

from __future__ import annotations


def release_widget_caches() -> None:
    """Let go of the drawn lines of widgets that are gone.

    Textual (8.2.8, Textualize/textual#6665) memoises `StylesCache.get_inner_outer` with
    `functools.lru_cache` on the method, so the memo's keys keep every widget's line cache
    alive, up to 1,024 of them, after the widget is gone.  Measured here: each help screen
    opened and closed, with a notification, left 5 line caches and about 1,000 objects
    behind, which every full collection then scans.  The memo only holds two styles per
    widget, made again on the next draw.  No public API releases it.
    """
    try:
        from textual._styles_cache import StylesCache

        StylesCache.get_inner_outer.cache_clear()
    except (ImportError, AttributeError):  # a Textual without the memo: nothing to release
        pass
