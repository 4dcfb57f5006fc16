"""Untrusted text from a server, made safe to show: the one boundary every string crosses.

Everything a server sends (messages, tool inputs and outputs, names, titles,
errors, unknown events) is hostile until it has been through here.  The parser
applies :func:`clean_tree` to each payload and :func:`clean_label` to names,
so the rest of the program, the TUI and ``tail`` alike, only ever holds text
that cannot drive a terminal:

- C0 controls (except ``\\n`` and ``\\t``), ESC and DEL become their visible
  Control Pictures (``␛``, ``␇``, ``␡`` …); C1 controls (U+0080–U+009F)
  become ``�``.  ``\\r\\n`` becomes ``\\n``; a lone ``\\r`` becomes ``␍``.
- Bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069) become a visible
  ``⟨U+202E⟩`` everywhere; in names, titles and one-line summaries the
  zero-width characters and bidi marks do too, and line breaks become spaces.
- JSON text for output (``tail --json``, the raw view, copy) keeps its meaning
  but spells every such character as a ``\\uXXXX`` escape (:func:`escape_json`).

No import of textual or rich: the API layer and ``tail`` use this as it is.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "clean_label",
    "clean_text",
    "clean_tree",
    "escape_json",
    "needs_cleaning",
]

_BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
"""Embeddings, overrides and isolates: they reorder what follows them on screen."""
_INVISIBLE = [0x061C, 0x180E, *range(0x200B, 0x2010), *range(0x2060, 0x2065), 0xFEFF]
"""Zero-width characters and bidi marks: harmless in prose, deceptive in a name."""


def _visible(code: int) -> str:
    return f"⟨U+{code:04X}⟩"


def _text_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if code not in (0x09, 0x0A):
            table[code] = chr(0x2400 + code)  # ␀ … ␟ (ESC is ␛)
    table[0x7F] = "\u2421"  # ␡
    for code in range(0x80, 0xA0):
        table[code] = "\ufffd"
    for code in _BIDI_CONTROLS:
        table[code] = _visible(code)
    return table


_TEXT_TABLE = _text_table()
_LABEL_TABLE = {
    **_TEXT_TABLE,
    0x09: " ",
    0x0A: " ",
    0x0D: " ",
    **{code: _visible(code) for code in _INVISIBLE},
}

_TEXT_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LABEL_BAD = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_JSON_BAD = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_ESCAPED = re.compile(
    r"\\(?:u(?:00[0189][0-9a-fA-F]|007[fF]|20[0-6][0-9a-fA-F]|[fF][eE][fF][fF]|061[cC]|180[eE])"
    r"|[bfr])"
)
"""A JSON escape that decodes to a character clean_tree changes."""
_RAW_ASCII = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_RAW = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def clean_text(text: str) -> str:
    """Body text (messages, outputs, JSON values): controls made visible, line breaks kept."""
    if not _TEXT_BAD.search(text):
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return text.translate(_TEXT_TABLE)


def clean_label(text: str) -> str:
    """A name, title or summary: one line, with nothing invisible or reordering in it."""
    # Every character _LABEL_BAD finds is unprintable (a control, format or separator
    # character): a printable text, nearly every label, is clean (isprintable is C, and
    # cheaper than a search).
    if text.isprintable() or not _LABEL_BAD.search(text):
        return text
    return text.replace("\r\n", " ").translate(_LABEL_TABLE)


def clean_tree(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) passed through :func:`clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_tree(v) for v in value]
    return value


def needs_cleaning(json_text: str) -> bool:
    """Whether a JSON text may decode to strings that :func:`clean_tree` would change.

    A fast, conservative test on the text as sent (raw or escaped characters):
    most events have nothing to clean, and skip the walk.
    """
    if "\\" in json_text and _ESCAPED.search(json_text):
        return True
    if json_text.isprintable():
        return False  # every character the patterns below look for is unprintable
    raw = _RAW_ASCII if json_text.isascii() else _RAW
    return raw.search(json_text) is not None


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_json(json_text: str) -> str:
    """JSON text with every control, C1, bidi and zero-width character spelled ``\\uXXXX``.

    Valid JSON stays valid and means the same (such characters can only stand
    inside strings); text that is not JSON (a malformed frame) gets the same
    escapes, so nothing in it reaches a terminal raw.
    """
    if not _JSON_BAD.search(json_text):
        return json_text
    return _JSON_BAD.sub(_json_escape, json_text)
