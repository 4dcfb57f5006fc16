"""The event store: exactly once, in order, and pairing whichever side arrives first."""

from __future__ import annotations

from qoder_tui.api.models import UserMessage, parse_event
from qoder_tui.store import TRIM_STEP, EventStore


def ev(i: int, type_: str = "agent.message", **fields: object):
    return parse_event(
        {"id": f"e{i}", "type": type_, "processed_at": f"2026-01-01T00:00:{i % 60:02d}Z", **fields}
    )


def test_append_and_prepend_dedupe_and_index() -> None:
    store = EventStore("s")
    store.start([ev(5), ev(6), ev(7)], has_older=True)
    store.append([ev(7), ev(8)])
    change = store.prepend([ev(2), ev(3), ev(3), ev(4), ev(5)], has_older=True)
    assert [e.id for e in store.events] == ["e2", "e3", "e4", "e5", "e6", "e7", "e8"]
    assert [e.id for e in change.added] == ["e2", "e3", "e4"]
    for i, e in enumerate(store.events):
        assert store.index_of(e.id) == i
    assert store.index_of("nope") is None
    assert store.has_older
    store.prepend([], has_older=True)
    assert not store.has_older  # an empty page ends the walk


def test_result_before_call_pairs_when_the_call_arrives() -> None:
    store = EventStore("s")
    store.start([ev(10, "agent.tool_result", tool_use_id="e9", content="ok")], has_older=True)
    result = store.events[0]
    assert not store.is_folded(result)
    change = store.prepend(
        [ev(9, "agent.tool_use", name="Bash", input={"command": "ls"})], has_older=False
    )
    assert result.id in change.changed
    assert store.is_folded(result)
    use = store.events[0]
    assert store.result_for(use) == result  # type: ignore[arg-type]


def test_pairs_inside_one_batch_are_not_reported_as_changed() -> None:
    store = EventStore("s")
    change = store.append(
        [
            ev(1, "span.model_request_start"),
            ev(2, "agent.tool_use", name="Read", input={}),
            ev(
                3,
                "span.model_request_end",
                model_request_start_id="e1",
                model_usage={"input_tokens": 7},
            ),
            ev(4, "agent.tool_result", tool_use_id="e2"),
        ]
    )
    assert change.changed == set()
    assert store.usage.input_tokens == 7
    assert store.is_folded(store.events[0]) and store.is_folded(store.events[3])


def test_a_pair_completed_by_a_later_batch_reports_the_half_held_before() -> None:
    store = EventStore("s")
    store.append([ev(1, "span.model_request_start"), ev(2, "agent.tool_use", name="Read")])
    change = store.append(
        [
            ev(3, "agent.tool_result", tool_use_id="e2"),
            ev(4, "span.model_request_end", model_request_start_id="e1"),
            ev(5, "agent.tool_use", name="Bash"),
            ev(6, "agent.tool_result", tool_use_id="e5"),
        ]
    )
    # The call and the span's start were held before: drawn again with their other half.
    # The call of this batch is new, not changed.
    assert change.changed == {"e1", "e2"}


def test_primary_thread_is_a_view_of_the_session_stream() -> None:
    from qoder_tui.api.models import Session, Thread
    from qoder_tui.store import SessionStore

    s = SessionStore(Session(id="s"))
    s.set_threads([Thread(id="P", parent_thread_id=None), Thread(id="C", parent_thread_id="P")])
    session = s.scope(None)
    session.start(
        [ev(3), ev(4, "session.thread_status_idle", session_thread_id="C"), ev(5)], has_older=True
    )
    view = s.scope("P")
    assert s.source_of("P") is None and s.source_of("C") == "C"
    assert [e.id for e in view.events] == ["e3", "e5"] and view.has_older
    mirrored = s.route(
        session.append(
            [
                ev(6),
                ev(7, "agent.tool_use", session_thread_id="C", name="Bash"),
                ev(8, session_thread_id="P"),  # the primary's own id: its event too
            ]
        )
    )
    assert mirrored is not None and [e.id for e in mirrored.added] == ["e6", "e8"]
    mirrored = s.route(
        session.prepend(
            [ev(1), ev(2, "session.thread_status_running", session_thread_id="C")], has_older=False
        )
    )
    assert mirrored is not None and [e.id for e in mirrored.added] == ["e1"]
    assert [e.id for e in view.events] == ["e1", "e3", "e5", "e6", "e8"] and not view.has_older
    # One row per event in memory: the view keeps the session stream's rows, not copies.
    assert all(view.row_of(i) is session.row_of(i) for i in ("e1", "e3", "e5", "e6", "e8"))


def test_calls_before_an_idle_are_settled() -> None:
    store = EventStore("s")
    store.start(
        [
            ev(1, "agent.tool_use", name="Bash", input={}),
            ev(2, "session.status_idle", stop_reason={"type": "end_turn"}),
            ev(3, "agent.tool_use", name="Read", input={}),
        ],
        has_older=False,
    )
    first, _, last = store.events
    assert store.settled(first) and not store.settled(last)
    store.prepend([ev(0, "span.model_request_start")], has_older=False)
    assert store.settled(store.events[0])


def test_older_pages_do_not_overwrite_current_status() -> None:
    from qoder_tui.api.models import Session, Thread
    from qoder_tui.store import SessionStore

    s = SessionStore(Session(id="s", status="idle"))
    s.set_threads([Thread(id="P", parent_thread_id=None), Thread(id="C", parent_thread_id="P")])
    s.observe(
        ev(
            9,
            "session.thread_status_idle",
            session_thread_id="C",
            stop_reason={"type": "requires_action", "event_ids": ["x"]},
        )
    )
    assert s.threads["C"].status == "waiting"
    old = ev(1, "session.thread_status_running", session_thread_id="C")
    assert s.observe(old, current=False) == set()
    assert s.threads["C"].status == "waiting"
    assert s.observe(ev(2, "session.thread_created", session_thread_id="N"), current=False) == {"N"}


def timed(i: int, type_: str = "agent.message", **fields: object):
    """Event i, one second after event i-1 (for long runs)."""
    h, rest = divmod(i, 3600)
    m, s = divmod(rest, 60)
    stamp = f"2026-01-01T{h:02d}:{m:02d}:{s:02d}Z"
    return parse_event({"id": f"t{i}", "type": type_, "processed_at": stamp, **fields})


def test_an_older_event_is_refused_not_appended_out_of_order() -> None:
    store = EventStore("s")
    store.start([timed(i) for i in range(100, 200)], has_older=True)
    change = store.append([timed(5), timed(6), timed(200)])
    assert [e.id for e in change.refused] == ["t5", "t6"]
    assert [e.id for e in store.events[-2:]] == ["t199", "t200"]


def test_the_time_guard_follows_the_newest_time_inside_a_batch() -> None:
    """Within REORDER_SLACK (5 s) of the newest time seen so far, even in the same batch,
    an event is appended; further back it is refused; an event with no time is appended."""
    store = EventStore("s")
    store.start([timed(i) for i in range(180, 190)], has_older=True)
    untimed = parse_event({"id": "u", "type": "agent.message"})
    change = store.append(
        [timed(200), timed(196), timed(210), timed(204), timed(206), untimed, timed(211)]
    )
    assert [e.id for e in change.refused] == ["t204"]
    assert [e.id for e in change.added] == ["t200", "t196", "t210", "t206", "u", "t211"]
    assert [e.id for e in store.events[-6:]] == ["t200", "t196", "t210", "t206", "u", "t211"]
    assert [store.index_of(e.id) for e in store.events] == list(range(len(store)))


def test_the_window_lets_the_oldest_go_and_keeps_what_the_reader_sees() -> None:
    store = EventStore("s", window=1_000)
    store.start([timed(i) for i in range(100)], has_older=False)
    ends = [
        timed(i, "span.model_request_end", model_usage={"input_tokens": 1, "output_tokens": 2})
        for i in range(100, 3000)
    ]
    store.append(ends)
    assert store.usage.input_tokens == 2900
    trimmed, steps = 0, 0
    while store.over_window:  # (a step a drain: a few thousand at once held a key back)
        step = store.trim()
        assert 0 < step <= TRIM_STEP
        trimmed, steps = trimmed + step, steps + 1
    assert trimmed == len(ends) + 100 - 1_000 and steps == 2
    assert len(store) == 1_000 and store.events[0].id == "t2000"
    assert store.has_older and store.unloaded == trimmed
    assert store.usage.input_tokens == 1_000 and store.usage.output_tokens == 2_000
    for i, e in enumerate(store.events):
        assert store.index_of(e.id) == i
    assert store.index_of("t5") is None and "t5" not in store
    # Within the slack nothing goes; and what the reader has on screen is kept.
    store.append([timed(i) for i in range(3000, 3500)])
    assert store.trim() == 0
    store.append([timed(i) for i in range(3500, 4200)])
    assert store.trim(keep_from=300) == 300
    assert store.events[0].id == "t2300"
    # Paging back brings them in again, and counts them as loaded.
    store.prepend([timed(i) for i in range(2200, 2300)], has_older=True)
    assert store.events[0].id == "t2200" and store.unloaded == trimmed + 300 - 100


def test_pairs_whose_half_was_let_go_are_undone() -> None:
    """A call let go (the window is full) no longer folds its result, which is drawn on its
    own again; a result let go no longer answers its call (a result can come before its call
    in the stream); a span's end let go no longer folds its start, nor counts its usage; and
    none of them stays in the store's indexes."""
    store = EventStore("s", window=1_000)
    store.start(
        [
            timed(0, "agent.tool_use", name="Bash", input={}, tool_use_id="c1"),
            timed(1, "agent.tool_result", tool_use_id="c2", content="early"),
            timed(
                2,
                "span.model_request_end",
                model_request_start_id="t900",
                model_usage={"input_tokens": 7},
            ),
        ],
        has_older=False,
    )
    store.append(
        [
            timed(3, "agent.tool_result", tool_use_id="c1", content="ok"),
            timed(4, "agent.tool_use", name="Bash", input={}, tool_use_id="c2"),
        ]
        + [timed(i) for i in range(5, 900)]
        + [timed(900, "span.model_request_start")]
        + [timed(i) for i in range(901, 2100)]
    )
    result, call, start = store.get("t3"), store.get("t4"), store.get("t900")
    assert result is not None and call is not None and start is not None
    assert store.is_folded(result) and store.result_for(call) is not None
    assert store.is_folded(start) and store.usage.input_tokens == 7
    assert store.trim(keep_from=3) == 3  # t0-t2 go: the call c1, the result of c2, the end
    assert not store.is_folded(result) and store.result_for(call) is None
    assert not store.is_folded(start) and store.usage.input_tokens == 0
    # The pair indexes keep only what is loaded (they would grow with every event let go).
    assert "c1" not in store.uses and "c2" not in store.results and "t900" not in store.span_ends


def test_a_turn_ends_where_the_next_user_message_begins() -> None:
    """With no idle in between, the next user message ends a turn: what comes after it is
    the next turn's."""
    store = EventStore("s")
    store.start(
        [
            timed(0, "user.message", content="one"),
            timed(1, "span.model_request_start"),
            timed(3, "span.model_request_end", model_request_start_id="t1"),
            timed(10, "user.message", content="two"),
            timed(11, "span.model_request_start"),
            timed(15, "span.model_request_end", model_request_start_id="t11"),
        ],
        has_older=False,
    )
    first, second = store.get("t0"), store.get("t10")
    assert isinstance(first, UserMessage) and isinstance(second, UserMessage)
    turn = store.turn_stats(first)
    assert turn is not None and turn.ended and turn.duration == 10.0 and turn.model == 2.0
    later = store.turn_stats(second)
    assert later is not None and not later.ended and later.model == 4.0


def test_merged_view_interleaves_threads_in_time_and_waits_for_the_least_loaded() -> None:
    """Every thread in time order; nothing older than what every thread is loaded back to."""
    from qoder_tui.api.models import Session, Thread
    from qoder_tui.store import ALL_THREADS, SessionStore

    s = SessionStore(Session(id="s"))
    s.set_threads(
        [
            Thread(id="P", parent_thread_id=None),
            Thread(id="A", parent_thread_id="P"),
            Thread(id="B", parent_thread_id="P"),
        ]
    )
    merged = s.scope(ALL_THREADS)
    assert not merged.started  # no thread loaded yet
    session, a, b = s.scope(None), s.scope("A"), s.scope("B")
    session.start([ev(10), ev(20), ev(30)], has_older=True)
    a_page = [ev(15), ev(25)]
    s.stamp("A", a_page)
    assert all(e.thread_id == "A" for e in a_page)  # a child's own events now say whose
    a.start(a_page, has_older=True)
    view, rebuilt = s.route_merged(b.start([ev(5), ev(22), ev(31)], has_older=False))
    assert rebuilt and view is not None
    merged = s.scope(ALL_THREADS)
    # A is loaded back only to :15, so B's :05 and the session's :10 wait.
    assert [e.id for e in merged.events] == ["e15", "e20", "e22", "e25", "e30", "e31"]
    assert merged.has_older and s.merge_blockers() == ["A"]
    # A's older page reaches :12; the session (back to :10, more on the server) is next.
    change, _ = s.route_merged(a.prepend([ev(12)], has_older=True))
    assert change is not None and [e.id for e in change.added] == ["e12"]
    assert s.merge_blockers() == ["A"]
    change, _ = s.route_merged(a.prepend([ev(2)], has_older=False))
    # A is loaded to its start, but the session stream may still hold events before :10.
    assert change is not None and [e.id for e in change.added] == ["e10"]
    assert s.merge_blockers() == [None] and merged.has_older
    change, _ = s.route_merged(session.prepend([ev(1)], has_older=False))
    assert change is not None and [e.id for e in change.added] == ["e1", "e2", "e5"]
    assert not merged.has_older
    assert [e.id for e in merged.events] == [
        "e1", "e2", "e5", "e10", "e12", "e15", "e20", "e22", "e25", "e30", "e31",
    ]  # fmt: skip
    # Live: appended as they come, each once, a cross-posted copy included only once.
    change, _ = s.route_merged(b.append([ev(40), ev(41)]))
    assert change is not None and [e.id for e in change.added] == ["e40", "e41"]
    change, _ = s.route_merged(session.append([ev(41), ev(42)]))
    assert change is not None and [e.id for e in change.added] == ["e42"]
    # A's live event at :26 is new to A, but older than what the view shows by more than
    # the slack: the view is built again, with it in its place.
    change, rebuilt = s.route_merged(a.append([ev(26)]))
    merged = s.scope(ALL_THREADS)
    ids = [e.id for e in merged.events]
    assert rebuilt and ids.index("e25") < ids.index("e26") < ids.index("e30")
    assert len(ids) == len(set(ids)) == 15


def test_a_prepended_page_pairs_a_span_whose_start_is_in_the_same_page() -> None:
    """Pairing looks events up by position: the page must be in place before it is indexed."""
    store = EventStore("s")
    store.start([ev(30)], has_older=True)
    start = ev(10, "span.model_request_start")
    end = ev(11, "span.model_request_end", model_request_start_id="e10")
    change = store.prepend([start, end], has_older=False)
    assert change.changed == set()  # nothing already shown changed (e30 least of all)
    assert store.get("e10") == start and store.span_start_time(end) == start.time
    assert [e.id for e in store.events] == ["e10", "e11", "e30"]
    empty = EventStore("s")  # the merged view's first page back can meet an empty store
    empty.start([], has_older=True)
    empty.prepend(
        [
            ev(10, "span.model_request_start"),
            ev(11, "span.model_request_end", model_request_start_id="e10"),
        ],
        has_older=False,
    )
    assert [e.id for e in empty.events] == ["e10", "e11"]


def test_session_totals_cover_what_loaded_threads_add_up_to_and_never_go_down() -> None:
    """The API's session usage as loaded, plus live usage, misses a child's model requests
    that happened since and were paged in (not live): the totals are at least what every
    loaded thread adds up to, and stay there when a view lets old events go."""
    from qoder_tui.api.models import Session, Thread
    from qoder_tui.store import SessionStore

    s = SessionStore(Session(id="s", usage={"input_tokens": 100, "output_tokens": 10}), window=1)
    s.set_threads([Thread(id="P", parent_thread_id=None), Thread(id="A", parent_thread_id="P")])

    def request(i: int, tokens: int):  # type: ignore[no-untyped-def]
        return parse_event(
            {
                "id": f"r{i}",
                "type": "span.model_request_end",
                "processed_at": f"2026-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "model_usage": {"input_tokens": tokens},
            }
        )

    s.scope(None).start([request(0, 40)], has_older=False)
    assert (s.totals().input_tokens, s.totals().output_tokens) == (100, 10)  # the API's
    child = s.scope("A")
    child.start([request(i, 1) for i in range(1, 1_101)], has_older=False)  # paged in
    assert s.totals().input_tokens == 40 + 1_100 and s.totals().output_tokens == 10
    # The view lets its oldest events go (its window is 1), a TRIM_STEP at a time.
    assert child.trim() + child.trim() == 1_099 and not child.over_window
    assert child.usage.input_tokens == 1
    assert s.totals().input_tokens == 1_140  # the totals do not go down


def test_looking_up_the_other_half_of_a_pair_keeps_nothing_alive() -> None:
    # The log looks up each arriving call's result; an event built for that and kept
    # lived long enough for the collector to promote it, and full collections followed.
    import gc

    from qoder_tui.api.models import ModelRequestEnd, ModelRequestStart, ToolResult, ToolUse

    def at(i: int, type_: str, **fields: object):  # (one a second, in order)
        return parse_event(
            {
                "id": f"e{i}",
                "type": type_,
                "processed_at": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z",
                **fields,
            }
        )

    store = EventStore("s")
    page = []
    for i in range(0, 200, 4):
        page += [
            at(i, "agent.tool_use", name="Bash", tool_use_id=f"c{i}", input={"n": i}),
            at(i + 1, "agent.tool_result", tool_use_id=f"c{i}", content=f"out {i}"),
            at(i + 2, "span.model_request_start"),
            at(i + 3, "span.model_request_end", model_request_start_id=f"e{i + 2}"),
        ]
    store.start(page, has_older=False)
    del page
    assert len(store) == 200
    uses = [e for e in store.events if isinstance(e, ToolUse)]
    results = [e for e in store.events if isinstance(e, ToolResult)]
    ends = [e for e in store.events if isinstance(e, ModelRequestEnd)]

    def alive(kind: type) -> int:
        return sum(1 for o in gc.get_objects() if type(o) is kind)

    before = (alive(ToolResult), alive(ToolUse), alive(ModelRequestStart))
    for use, result, end in zip(uses, results, ends, strict=True):
        found = store.result_for(use)
        assert found is not None and found.text == result.text
        assert store.use_for(result) == use
        assert store.span_start_time(end) is not None
    del found
    assert (alive(ToolResult), alive(ToolUse), alive(ModelRequestStart)) == before
