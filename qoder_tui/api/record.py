"""One `__repr__` and `__eq__` for our many small dataclasses, written once.

`dataclass` generates these two per class by compiling source text, and that is
most of what a class costs to create: with 40-odd event and notice classes it
came to about 25 ms of every launch on a 2-core machine.  Classes declared with
`@dataclass(..., repr=False, eq=False)` on top of `Record` behave as before:
equal when of the same class with equal fields, unhashable, shown with their fields.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Record:
    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__dataclass_fields__)
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__dataclass_fields__)

    __hash__ = None  # type: ignore[assignment]  # as a dataclass with eq and not frozen
