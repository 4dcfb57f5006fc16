"""Events as the stores keep them: packed rows the garbage collector need not scan.

A parsed event is a small slotted object, and CPython's collector tracks every
such object: with tens of thousands of events loaded, each full collection
walked all of them (40-110 ms on this project's 2-core machine, several times
per 20,000 live events), and that pause landed on whatever key was pressed.

A row is a plain tuple of plain values (strings, numbers, None, and tuples of
those): the collector stops tracking such a tuple at the first young collection
it survives (one holding a tuple at the latest at the second, when that one is
untracked), so rows never reach the old generation, and full collections
neither scan them nor are set off by them.  A row holds exactly the event's
fields; :func:`unpack` builds the same event again (equal field by field), when
something asks for it: the log for what is on screen, a scan, a query.

Pure: no UI, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any, overload

from .api.models import EVENT_CLASSES, Event, StopReason, Usage, fast_dumps, plain_stop_reason

Row = tuple[Any, ...]
"""(kind code, id, type, processed_at, thread_id, raw_json, the kind's own fields...)"""


_usage_values = attrgetter(*(f.name for f in fields(Usage)))


def _pack_usage(usage: Usage | None) -> Row | None:
    return None if usage is None else _usage_values(usage)


def _unpack_usage(values: Row | None) -> Usage | None:
    return None if values is None else Usage(*values)


def _pack_stop(stop: StopReason | None) -> Row | None:
    return None if stop is None else (stop.type, *stop.event_ids)


def _unpack_stop(values: Row | None) -> StopReason | None:
    if values is None:
        return None
    kind, *ids = values
    return plain_stop_reason(kind) if not ids else StopReason(type=kind, event_ids=ids)


def _pack_input(value: dict[str, Any]) -> str:
    # A tool's input is any JSON object; as text it is one plain value.
    return fast_dumps(value) if value else ""


def _unpack_input(text: str) -> dict[str, Any]:
    value = json.loads(text) if text else {}
    return value if isinstance(value, dict) else {"value": value}


_CONVERTERS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "usage": (_pack_usage, _unpack_usage),
    "stop_reason": (_pack_stop, _unpack_stop),
    "input": (_pack_input, _unpack_input),
}
"""Fields whose values are not plain: how each goes into a row and comes back."""


class _Kind:
    """How one event class packs and unpacks: two small functions made for its fields.

    Made from source text, as dataclasses make ``__init__``: a row is read into an event
    with one attribute store per field, five times faster than a loop of setattr calls
    (0.5 against 2.4 us for a status event).  Made on first use, so a kind that never
    comes costs nothing at launch.
    """

    __slots__ = ("_pack", "_unpack", "cls", "code")

    def __init__(self, cls: type[Event], code: int) -> None:
        self.cls = cls
        self.code = code
        self._pack: Callable[[Event], Row] | None = None
        self._unpack: Callable[[Row], Event] | None = None

    def _make(self) -> None:
        names = [f.name for f in fields(self.cls)]
        packed = ", ".join(f"pack_{n}(e.{n})" if n in _CONVERTERS else f"e.{n}" for n in names)
        stores = "".join(
            f"    e.{n} = unpack_{n}(row[{i}])\n" if n in _CONVERTERS else f"    e.{n} = row[{i}]\n"
            for i, n in enumerate(names, start=1)
        )
        source = (
            f"def pack(e):\n    return ({self.code}, {packed})\n"
            f"def unpack(row):\n    e = new(cls)\n{stores}    return e\n"
        )
        scope: dict[str, Any] = {"new": object.__new__, "cls": self.cls}
        for name, (packer, unpacker) in _CONVERTERS.items():
            scope[f"pack_{name}"], scope[f"unpack_{name}"] = packer, unpacker
        exec(compile(source, f"<rows of {self.cls.__name__}>", "exec"), scope)
        self._pack, self._unpack = scope["pack"], scope["unpack"]

    @property
    def packer(self) -> Callable[[Event], Row]:
        if self._pack is None:
            self._make()
        assert self._pack is not None
        return self._pack

    def unpack(self, row: Row) -> Event:
        if self._unpack is None:
            self._make()
        assert self._unpack is not None
        return self._unpack(row)


_KINDS = [_Kind(cls, code) for code, cls in enumerate(EVENT_CLASSES)]
_BY_CLASS = {kind.cls: kind for kind in _KINDS}


class _Packers(dict[type[Event], Callable[[Event], Row]]):
    """Each class's generated pack function, looked up once per class (the store packs every
    live event: one dict lookup, then the function)."""

    def __missing__(self, cls: type[Event]) -> Callable[[Event], Row]:
        packer = self[cls] = _BY_CLASS[cls].packer
        return packer


_PACKERS = _Packers()


def pack(event: Event) -> Row:
    """The event as a row of plain values."""
    return _PACKERS[type(event)](event)


def unpack(row: Row) -> Event:
    """The event a row was packed from (a new object, equal to it field by field)."""
    return _KINDS[row[0]].unpack(row)


ID, PROCESSED_AT = 1, 3
"""Where a row keeps the event's id and time (see Row)."""


def code_of(cls: type[Event]) -> int:
    """The kind code a row of this class starts with."""
    return _BY_CLASS[cls].code


def field_at(cls: type[Event], name: str) -> int:
    """Where a row of this class keeps the field `name` (as packed: a usage as its values,
    see usage_of), for reading one field without building the event."""
    return 1 + [f.name for f in fields(cls)].index(name)


def usage_of(values: Row | None) -> Usage | None:
    """A usage as a row keeps it, built again."""
    return _unpack_usage(values)


MADE_KEPT = 1_024
"""Events built from rows and kept for the next ask (what is on screen is asked for often)."""


class EventRows(Sequence[Event]):
    """A store's events, oldest first, as rows: reads build events, the store writes rows."""

    __slots__ = ("_made", "rows")

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self._made: dict[str, Event] = {}

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self._get(row) for row in self.rows[index]]
        row = self.rows[index]
        event = self._made.get(row[ID])
        if event is None:
            event = unpack(row)
            made = self._made
            made[row[ID]] = event
            if len(made) > MADE_KEPT:
                del made[next(iter(made))]
        return event

    def peek(self, index: int) -> Event:
        """The event at `index`, built without being kept (one kept already is returned)."""
        return self._get(self.rows[index])

    def _get(self, row: Row) -> Event:
        # Scans build without keeping: a scan of the whole store would push out what is on
        # screen, and keep objects the collector must then scan.
        return self._made.get(row[ID]) or unpack(row)

    def __iter__(self) -> Iterator[Event]:
        return map(self._get, self.rows)

    def __reversed__(self) -> Iterator[Event]:
        return map(self._get, reversed(self.rows))

    def __contains__(self, value: object) -> bool:
        return isinstance(value, Event) and any(row[ID] == value.id for row in self.rows)

    def of_kinds(self, kinds: tuple[type[Event], ...], start: int, stop: int) -> Iterator[Event]:
        """The events of these kinds among positions start..stop (the others are not built)."""
        codes = {_BY_CLASS[cls].code for cls in kinds}
        return (self._get(row) for row in self.rows[start:stop] if row[0] in codes)

    def forget(self, event_ids: Iterator[str] | Sequence[str]) -> None:
        """Drop the built copies of these events (their rows went)."""
        made = self._made
        for event_id in event_ids:
            made.pop(event_id, None)


__all__ = ["ID", "EventRows", "Row", "code_of", "field_at", "pack", "unpack", "usage_of"]
