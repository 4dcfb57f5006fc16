"""The follower's SSE decoder: frames as the standard reads them, from bytes cut anywhere."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
from httpx_sse import EventSource

from qoder_tui.api.sse import Frame, SSEDecoder

ID, DATA = 0, 2

STREAM = (
    ": connected\n\n"
    "retry: 1500\n\n"
    "id: evt_1\nevent: agent.message\n"
    'data: {"id":"evt_1","text":"p95 — 840 ms → 12 ms, naïve café 🙂"}\n\n'
    "data: first line\ndata:second line, no space\ndata\n\n"
    ": a heartbeat between frames\n"
    "event: ping\ndata: {}\n\n"
    "id: evt_\x002\ndata: an id with NUL is ignored: the last id carries over\n\n"
    "id\ndata: an empty id clears it\n\n"
    "unknown: ignored\nevent: x\ndata:  two spaces keep one\n\n"
    "id: evt_3\n\n"
    "data: [DONE]\n\n"
    "data: the stream ends before this frame does\n"
)


def decode(pieces: list[bytes]) -> list[Frame]:
    decoder = SSEDecoder()
    return [frame for piece in pieces for frame in decoder.feed(piece)]


def cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def reference(pieces: list[bytes]) -> list[Frame]:
    """The same bytes read by httpx-sse (the bare client's decoder), through its public API."""

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())
    return [
        (sse.id, "" if sse.event == "message" else sse.event, sse.data, sse.retry)
        async for sse in EventSource(response).aiter_sse()
    ]


async def test_frames_match_httpx_sse_however_the_bytes_are_cut() -> None:
    for newline in ("\n", "\r\n"):
        data = STREAM.replace("\n", newline).encode()
        whole = decode([data])
        assert len(whole) == 9 and whole[1][DATA].endswith('café 🙂"}')
        assert whole == await reference([data])
        for size in range(1, 24):  # (every cut of CRLFs, and of 2-, 3- and 4-byte characters)
            assert decode(cut(data, size)) == whole, (repr(newline), size)


def test_fields_as_the_standard_reads_them() -> None:
    frames = decode([STREAM.encode()])
    assert frames[0] == ("", "", "", 1500)
    assert frames[1] == (
        "evt_1",
        "agent.message",
        '{"id":"evt_1","text":"p95 — 840 ms → 12 ms, naïve café 🙂"}',
        None,
    )
    assert frames[2] == ("evt_1", "", "first line\nsecond line, no space\n", None)
    assert frames[3] == ("evt_1", "ping", "{}", None)
    assert frames[4][ID] == "evt_1"  # (NUL)
    assert frames[5][ID] == ""
    assert frames[6] == ("", "x", " two spaces keep one", None)
    assert frames[7] == ("evt_3", "", "", None)
    assert frames[8] == ("evt_3", "", "[DONE]", None)
    assert len(frames) == 9  # (a frame the stream ends in is not one)


def test_a_cr_at_a_chunks_end_ends_its_line_at_once() -> None:
    """A server whose lines end with CR, then quiet: its last frame is not held back
    until more bytes come (and an LF that follows is the CR's other half, not a line)."""
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 1\rdata: a\r\r") == [("1", "", "a", None)]
    assert decoder.feed(b"\ndata: b\r\n") == []
    assert decoder.feed(b"\r") == [("1", "", "b", None)]
    assert decoder.feed(b"\n") == []  # (CRLF's other half)
    # A blank line of its own: a frame, as the id carries over (httpx-sse's rule too; the
    # follower passes over frames without data).
    assert decoder.feed(b"\n") == [("1", "", "", None)]
    assert decoder.feed(b"data: c\r\n\r\n") == [("1", "", "c", None)]


def test_bytes_that_are_not_utf8_a_bom_and_retries_that_are_not_digits() -> None:
    frames = decode(
        [b"\xef\xbb\xbfdata: \xff\xfe ok\n", b"retry: 5s\n\n", b"\xef\xbb\xbfdata: x\n\n"]
    )
    # The first BOM goes; a later one is part of a field's name (an unknown field).
    assert frames == [("", "", "\ufffd\ufffd ok", None)]
    assert decode([b"retry: -1\n\n", b"retry: +5\n\n", "retry: \u0663\n\n".encode()]) == []


def test_a_long_line_and_many_data_lines_cost_time_in_proportion_to_their_size() -> None:
    """A 10 MB tool output comes as one line in hundreds of chunks, or as one data line per
    line of output: each is joined once.  (Joined at every chunk, 8 MB took 64 times what
    1 MB took, and a 4 MB line a second.)"""

    def cost(data: bytes) -> float:
        best = float("inf")
        for _ in range(3):
            decoder = SSEDecoder()
            start = time.perf_counter()
            frames = [f for piece in cut(data, 8192) for f in decoder.feed(piece)]
            best = min(best, time.perf_counter() - start)
            assert len(frames) == 1 and len(frames[0][DATA]) >= len(data) // 2
        return best

    def line(megabytes: int) -> bytes:
        return b"data: " + b"x" * (megabytes << 20) + b"\n\n"

    def lines(count: int) -> bytes:
        return b"".join(b"data: output line %06d\n" % i for i in range(count)) + b"\n"

    # (in proportion: about 8 to 14 times here; joined at every chunk: 64 times)
    assert cost(line(8)) < 32 * cost(line(1))
    assert cost(lines(320_000)) < 32 * cost(lines(40_000))
