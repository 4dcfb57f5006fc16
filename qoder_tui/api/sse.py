"""Server-sent events read from a byte stream, as the HTML standard reads them.

The follower reads every live event through this, so it is written for a
stream of small frames: one pass over each chunk's lines, no call per line,
and a plain tuple per frame.  It keeps the rules httpx-sse keeps (the
decoder the bench's bare client uses), so the follower behaves the same:

- lines end with CRLF, LF or CR; a CR ends its line at once, even at the
  end of a chunk (an LF starting the next chunk is then its other half);
  httpx-sse holds such a CR until more bytes come, so a stream whose lines
  end with CR would show its newest event only with the next one;
- a line starting with a colon is a comment; a line without a colon is a
  field with an empty value; one space after the colon is dropped;
- `data:` lines join with newlines; `event:` names the frame; `id:` sets
  the last event id, which carries over to later frames (an id holding NUL
  is ignored); `retry:` takes ASCII digits only; other fields are ignored;
- a blank line ends a frame, unless nothing is set (no name, no data, no
  retry, and no id ever);
- a byte order mark at the start of the stream is dropped, and bytes that
  are not UTF-8 become U+FFFD (SSE is always UTF-8);
- what follows the last blank line when the stream ends is not a frame.
"""

from __future__ import annotations

import codecs

Frame = tuple[str, str, str, int | None]
"""One server-sent event: (id, event, data, retry).

- id: the last event id the stream set, this frame's or an earlier one's ("" if none);
- event: the `event:` name ("" if none);
- data: the `data:` lines, joined with newlines;
- retry: the `retry:` field in milliseconds, if this frame had one.

(A plain tuple: a named one costs half a microsecond more to make, a tenth of reading it.)
"""


class SSEDecoder:
    """Frames from chunks of bytes: `feed` each chunk as it arrives."""

    __slots__ = (
        "_after_cr",
        "_data",
        "_decode",
        "_event",
        "_id",
        "_more",
        "_retry",
        "_started",
        "_tail",
    )

    def __init__(self) -> None:
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        self._tail: list[str] = []
        """The start of a line whose end has not come yet, in pieces (a 10 MB line comes in
        hundreds of chunks: joined once, when it ends)."""
        self._event = ""
        self._data: str | None = None
        """The frame's first data line."""
        self._more: list[str] | None = None
        """Its other data lines, if it has more than one (joined once, at its end)."""
        self._id = ""
        self._retry: int | None = None
        self._started = False
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[Frame]:
        """The frames this chunk completes (often one, often none)."""
        text = self._decode(chunk)
        if not self._started and text:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._after_cr and text:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]  # the second half of a CRLF the last chunk ended with
        if not text:
            return []
        # A CR at the end ends its line now (not when the next chunk comes: a server may
        # say nothing more for a while); an LF starting the next chunk is its other half.
        self._after_cr = text[-1] == "\r"
        if "\n" not in text and "\r" not in text:
            self._tail.append(text)  # the line goes on
            return []
        if self._tail:
            self._tail.append(text)
            text = "".join(self._tail)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        last = lines.pop()
        self._tail = [last] if last else []
        frames: list[Frame] = []
        event, data, more, last_id, retry = (
            self._event,
            self._data,
            self._more,
            self._id,
            self._retry,
        )
        for line in lines:
            if not line:
                if data is not None or event or last_id or retry is not None:
                    text = (data or "") if more is None else "\n".join([data or "", *more])
                    frames.append((last_id, event, text, retry))
                    event, data, more, retry = "", None, None, None  # (the id carries over)
                continue
            # The fields a server sends with every frame, as servers write them (a name, a
            # colon and a space): told apart by their first character, with no partition.
            first = line[0]
            if first == "d" and line.startswith("data: "):
                if data is None:
                    data = line[6:]
                    continue
                name, value = "data", line[6:]
            elif first == "i" and line.startswith("id: "):
                if "\0" not in line:
                    last_id = line[4:]
                continue
            elif first == "e" and line.startswith("event: "):
                event = line[7:]
                continue
            elif first == ":":
                continue  # a comment (a keep-alive)
            else:
                name, _, value = line.partition(":")
                if value[:1] == " ":
                    value = value[1:]
            if name == "data":
                if data is None:
                    data = value
                elif more is None:
                    more = [value]
                else:
                    more.append(value)
            elif name == "id":
                if "\0" not in value:
                    last_id = value
            elif name == "event":
                event = value
            elif name == "retry" and value.isascii() and value.isdigit():
                retry = int(value)
            # (any other field is ignored)
        self._more = more
        self._event, self._data, self._id, self._retry = event, data, last_id, retry
        return frames
