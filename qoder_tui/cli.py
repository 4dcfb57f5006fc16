"""Command line: the viewer (default), `tail` and `simulate`.

Exit codes: 0 done, 2 usage, 3 token rejected or missing, 4 not found,
5 server unreachable, 1 anything else.  Errors are one line on stderr; no
traceback reaches a user, and the token never appears in any output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import __version__
from .api.errors import ConfigError, QoderError, redact
from .api.prefetch import start_prefetch
from .api.settings import Secret, Settings, load_settings

FRAMES_PER_SECOND = "240"
"""Textual's frame rate for the app (TEXTUAL_FPS, unless the environment sets it)."""
SWITCH_INTERVAL = 0.001
"""Seconds a thread runs before one waiting for the interpreter gets it (see cmd_app)."""

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_WAITING = 6
"""`tail --until-idle`: the session (or thread) stopped to wait for a tool approval."""
EXIT_ERRORED = 7
"""`tail --until-idle`: it stopped on an error (retries exhausted, terminated by an error)."""
EXIT_HANGUP = 129
"""The app's terminal went away (as a process ended by SIGHUP reports it)."""


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _add_connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--base-url",
        help="API base URL (default: $QODER_MANAGED_BASE_URL or https://api.qoder.com/api/v1/cloud/)",
    )
    p.add_argument(
        "--token-file",
        metavar="PATH",
        help="read the token from this file (default: $QODER_ACCESS_TOKEN or $QODER_PAT)",
    )


def _add_sim_args(p: argparse.ArgumentParser, *, for_demo: bool = False) -> None:
    g = p.add_argument_group("simulator")
    g.add_argument(
        "--scenario",
        default="demo",
        choices=["demo", "big", "hostile"],
        help="sessions to serve (hostile: every string an attack, for testing)",
    )
    g.add_argument(
        "--seed", type=int, default=7, help="random seed: the same seed gives the same sessions"
    )
    g.add_argument(
        "--events", type=int, default=100_000, help="events in the `big` scenario's thread"
    )
    g.add_argument(
        "--speed", type=float, default=1.0, help="speed of the live session (2 = twice as fast)"
    )
    g.add_argument("--no-live", action="store_true", help="no live session: history only")
    if for_demo:
        return
    g.add_argument(
        "--heartbeat", type=float, default=15.0, help="seconds between stream heartbeats"
    )
    g.add_argument("--heartbeat-style", choices=["comment", "event"], default="comment")
    f = p.add_argument_group("faults")
    f.add_argument(
        "--drop-every", type=int, default=0, metavar="K", help="drop each stream after K events"
    )
    f.add_argument(
        "--drop-mid-frame", action="store_true", help="drop streams in the middle of a frame"
    )
    f.add_argument(
        "--error-rate", type=float, default=0.0, help="share of requests answered with an error"
    )
    f.add_argument("--error-status", type=int, default=503, choices=[429, 500, 502, 503, 504])
    f.add_argument(
        "--error-mix", action="store_true", help="alternate 429 and 503 instead of --error-status"
    )
    f.add_argument(
        "--retry-after", type=float, default=None, help="Retry-After seconds on those errors"
    )
    f.add_argument("--delay", type=float, default=0.0, help="seconds to delay every response")
    f.add_argument(
        "--malformed-every",
        type=int,
        default=0,
        metavar="K",
        help="a malformed frame every K events",
    )
    f.add_argument(
        "--bad-encoding-every",
        type=int,
        default=0,
        metavar="K",
        help="every K-th answer says gzip over a body that is not (a mangling proxy)",
    )
    f.add_argument(
        "--error-after",
        type=int,
        default=0,
        metavar="K",
        help="end each stream after K events with an `event: error` frame",
    )
    f.add_argument(
        "--newline", choices=["lf", "crlf", "cr"], default="lf", help="how stream lines end"
    )
    f.add_argument(
        "--chunk-bytes",
        type=int,
        default=0,
        metavar="N",
        help="write streams in pieces of N bytes (lines and characters cut anywhere)",
    )
    f.add_argument(
        "--dialect", choices=["sdk", "g1", "g2", "g3"], default="sdk", help="wire dialect to speak"
    )
    f.add_argument(
        "--refuse-types",
        action="store_true",
        help="answer 400 to event lists with a type filter (as Forward mode does)",
    )


def _simulator() -> Any:
    """The simulator package, or a clear word that its extra is not installed."""
    try:
        from . import simulator
    except ImportError as exc:
        raise ConfigError(
            f"The embedded simulator needs its extra ({exc.name or exc} is missing): "
            "pip install 'qoder-tui[simulator]'."
        ) from None
    return simulator


def _sim_config(args: argparse.Namespace, token: str) -> Any:
    for name in ("drop_every", "malformed_every", "bad_encoding_every", "error_after"):
        if getattr(args, name, 0) < 0:
            raise UsageError(f"qoder-tui: --{name.replace('_', '-')} must be 0 (never) or more")
    if getattr(args, "chunk_bytes", 0) < 0:
        raise UsageError("qoder-tui: --chunk-bytes must be 0 (whole frames) or more")
    sim = _simulator()
    Faults, SimConfig, WorldConfig = sim.Faults, sim.SimConfig, sim.WorldConfig

    faults = Faults(
        drop_every=getattr(args, "drop_every", 0),
        drop_mid_frame=getattr(args, "drop_mid_frame", False),
        error_rate=getattr(args, "error_rate", 0.0),
        error_status=getattr(args, "error_status", 503),
        error_mix=getattr(args, "error_mix", False),
        retry_after=getattr(args, "retry_after", None),
        delay=getattr(args, "delay", 0.0),
        malformed_every=getattr(args, "malformed_every", 0),
        bad_encoding_every=getattr(args, "bad_encoding_every", 0),
        error_after=getattr(args, "error_after", 0),
        newline=getattr(args, "newline", "lf"),
        chunk_bytes=getattr(args, "chunk_bytes", 0),
        dialect=getattr(args, "dialect", "sdk"),
        refuse_types=getattr(args, "refuse_types", False),
    )
    return SimConfig(
        world=WorldConfig(
            scenario=args.scenario,
            seed=args.seed,
            big_events=args.events,
            live=not args.no_live,
            live_speed=args.speed,
        ),
        token=token,
        heartbeat=getattr(args, "heartbeat", 15.0),
        heartbeat_style=getattr(args, "heartbeat_style", "comment"),
        faults=faults,
    )


# --------------------------------------------------------------------------- simulate


def cmd_simulate(argv: Sequence[str]) -> int:
    p = _Parser(prog="qoder-tui simulate", description="Serve the embedded Qoder API simulator.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--token", help="the token clients must send (default: a random one)")
    _add_sim_args(p)
    args = p.parse_args(argv)
    token = args.token or "sim-" + secrets.token_urlsafe(12)
    SimulatorServer = _simulator().SimulatorServer
    try:
        server = SimulatorServer(_sim_config(args, token), host=args.host, port=args.port)
    except ValueError as exc:
        raise UsageError(f"qoder-tui simulate: {exc}") from None

    async def serve() -> None:
        try:
            await server.start()
        except OSError as exc:
            raise ConfigError(
                f"Cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
            ) from None
        print(f"QODER_MANAGED_BASE_URL={server.base_url} QODER_ACCESS_TOKEN={token}", flush=True)
        print(
            f"Serving scenario {args.scenario!r} (seed {args.seed}, dialect {args.dialect}). Ctrl-C stops.",
            file=sys.stderr,
            flush=True,
        )
        assert server._task is not None
        try:
            await server._task
        finally:
            await server.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return EXIT_OK


# --------------------------------------------------------------------------- tail


def cmd_tail(argv: Sequence[str]) -> int:
    p = _Parser(prog="qoder-tui tail", description="Print a session's or thread's newest events.")
    p.add_argument("session_id")
    p.add_argument("--thread", metavar="THREAD_ID", help="one thread instead of the whole session")
    p.add_argument(
        "--all-threads",
        action="store_true",
        help="every thread's events merged in time order, each line naming its agent",
    )
    p.add_argument(
        "--limit", type=int, default=20, help="how many of the newest events (default 20)"
    )
    p.add_argument("--follow", "-f", action="store_true", help="keep printing live events")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument(
        "--until-idle",
        action="store_true",
        help=(
            "with --follow: stop when it goes idle; exit 0 when its turn ended, "
            f"{EXIT_WAITING} when it waits for a tool approval, {EXIT_ERRORED} when it errored"
        ),
    )
    _add_connection_args(p)
    args = p.parse_args(argv)
    if args.limit < 0:
        raise UsageError("qoder-tui tail: --limit must be 0 or more")
    if args.until_idle and not args.follow:
        raise UsageError("qoder-tui tail: --until-idle goes with --follow")
    if args.all_threads and args.thread:
        raise UsageError("qoder-tui tail: --all-threads or --thread, not both")
    settings = load_settings(base_url=args.base_url, token_file=args.token_file)
    settings.require_token()
    try:
        return asyncio.run(_tail(settings, args))
    except KeyboardInterrupt:
        return EXIT_OK


async def _tail(settings: Settings, args: argparse.Namespace) -> int:
    from .api.client import QoderClient
    from .api.follower import Follower, StreamState
    from .api.models import Event, MalformedEvent, is_terminal, load_fast_json
    from .render.summary import agent_for, json_line, text_line

    load_fast_json()  # (no screen to draw first: the faster parser at once)
    out = sys.stdout
    async with QoderClient(settings) as client:
        session = await client.get_session(args.session_id)
        threads = await client.all_threads(session.id)
        names = {t.id: t.display_name for t in threads}
        if args.thread and args.thread not in names:
            await client.get_thread(session.id, args.thread)  # raises the 404 with its message
        primary = next((t for t in threads if t.is_primary), None)
        default = (
            names.get(args.thread)
            if args.thread
            else (primary.display_name if primary else "agent")
        )
        default = default or "agent"

        def emit(event: Event) -> None:
            if args.json:
                out.write(json_line(event, with_thread=args.all_threads) + "\n")
            else:
                out.write(text_line(event, agent_for(event, names, default)) + "\n")
            if isinstance(event, MalformedEvent):
                print(f"qoder-tui: warning: event {event.id}: {event.problem}", file=sys.stderr)

        if args.all_threads:
            return await _tail_all_threads(client, session.id, threads, names, args, emit)
        history: list[Event] = []
        if args.limit > 0:
            async for page in client.walk_backward(
                session.id, args.thread, page_size=min(100, args.limit)
            ):
                history[:0] = page
                if len(history) >= args.limit:
                    break
            history = history[-args.limit :]
        for event in history:
            emit(event)
        out.flush()
        if not args.follow or any(is_terminal(e) for e in history[-1:]):
            return EXIT_OK
        if args.until_idle:
            # Already stopped before we came: say how, at once.
            stopped = await _stopped_state(client, session.id, args.thread)
            if stopped is not None:
                return stopped
        last_id = history[-1].id if history else None
        if last_id is None:
            newest = await client.newest_events(session.id, args.thread, limit=1)
            last_id = newest.data[-1].id if newest.data else None

        def on_state(state: StreamState) -> None:
            if state.phase == "reconnecting" and state.delay > 0:
                print(
                    f"qoder-tui: {redact(state.describe(), settings.token.reveal() if settings.token else None)}",
                    file=sys.stderr,
                    flush=True,
                )

        follower = Follower(
            client,
            session.id,
            args.thread,
            last_event_id=last_id,
            seen=[e.id for e in history],
            on_state=on_state,
        )
        async for event in follower.events():
            if event.thread_id and event.thread_id not in names and not args.json:
                with contextlib.suppress(QoderError):
                    thread = await client.get_thread(session.id, event.thread_id)
                    names[thread.id] = thread.display_name
            emit(event)
            out.flush()
            if args.until_idle:
                code = _stop_code(event, args.thread)
                if code is not None:
                    return code
    return EXIT_OK


async def _tail_all_threads(
    client: Any,
    session_id: str,
    threads: list[Any],
    names: dict[str, str],
    args: argparse.Namespace,
    emit: Callable[[Any], None],
) -> int:
    """`tail --all-threads`: every thread's newest events merged by time, then all live."""
    from .api.follower import Follower
    from .api.models import Event, ThreadCreated, is_terminal
    from .store import ALL_THREADS, SessionStore

    store = SessionStore(await client.get_session(session_id))
    store.set_threads(threads)
    sources = store.merged_sources()

    async def newest(source: str | None) -> list[Event]:
        events: list[Event] = []
        if args.limit > 0:
            async for page in client.walk_backward(
                session_id, source, page_size=min(100, args.limit)
            ):
                events[:0] = page
                if len(events) >= args.limit:
                    break
        return events

    pages = await asyncio.gather(*(newest(source) for source in sources))
    for source, events in zip(sources, pages, strict=True):
        store.stamp(source, events)
        store.scope(source).start(events, has_older=False)
    history = store.scope(ALL_THREADS).events[-args.limit :] if args.limit > 0 else []
    for event in history:
        emit(event)
    sys.stdout.flush()
    if not args.follow:
        return EXIT_OK
    queue: asyncio.Queue[tuple[str | None, Event]] = asyncio.Queue()
    printed = {e.id for source in sources for e in store.scope(source).events}
    tasks: dict[str | None, asyncio.Task[None]] = {}

    async def follow(source: str | None) -> None:
        loaded = store.scope(source).events
        follower = Follower(
            client,
            session_id,
            source,
            last_event_id=loaded[-1].id if loaded else None,
            seen=[e.id for e in loaded],
        )
        async for event in follower.events():
            await queue.put((source, event))

    def start(source: str | None) -> None:
        if source not in tasks:
            tasks[source] = asyncio.create_task(follow(source))

    for source in sources:
        start(source)
    try:
        while True:
            source, event = await queue.get()
            store.stamp(source, [event])
            if isinstance(event, ThreadCreated) and event.child_thread_id:
                with contextlib.suppress(QoderError):
                    child = await client.get_thread(session_id, event.child_thread_id)
                    names[child.id] = child.display_name
                start(event.child_thread_id)
            if event.id in printed:
                continue  # a child's event cross-posted to the session stream
            printed.add(event.id)
            emit(event)
            sys.stdout.flush()
            if args.until_idle and (code := _stop_code(event, None)) is not None:
                return code
            if source is None and is_terminal(event):
                return EXIT_OK
    finally:
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(BaseException):
                await task


def _stop_code(event: Any, thread_id: str | None) -> int | None:
    """The exit code an event ends `--until-idle` with, or None if it goes on."""
    from .api.models import SessionError, StatusChange
    from .store import status_word

    if isinstance(event, SessionError) and event.retry_status in ("terminal", "exhausted"):
        return EXIT_ERRORED
    if not isinstance(event, StatusChange):
        return None
    if thread_id is None and event.scope != "session":
        return None  # a child idling is not the session stopping
    word = status_word(event)
    if word == "waiting":
        return EXIT_WAITING
    if word == "errored":
        return EXIT_ERRORED
    if event.status in ("idle", "terminated", "deleted"):
        return EXIT_OK
    return None


async def _stopped_state(client: Any, session_id: str, thread_id: str | None) -> int | None:
    """If the session (or thread) is stopped already: how, as `--until-idle`'s exit code."""
    from .attention import session_hint

    page = await client.newest_events(session_id, thread_id, limit=20)
    status_events = [e for e in page.data if _stop_code(e, thread_id) is not None or _running(e)]
    if not status_events or _running(status_events[-1]):
        return None
    hint = session_hint(page.data, "idle")
    if thread_id is None and hint.status == "running":
        return None
    return _stop_code(status_events[-1], thread_id)


def _running(event: Any) -> bool:
    from .api.models import StatusChange

    return isinstance(event, StatusChange) and event.status in ("running", "rescheduled")


# --------------------------------------------------------------------------- ls


def cmd_ls(argv: Sequence[str]) -> int:
    p = _Parser(
        prog="qoder-tui ls",
        description="List sessions with their state and last activity (or one session's threads).",
    )
    p.add_argument("--threads", metavar="SESSION_ID", help="list this session's threads instead")
    p.add_argument("--limit", type=int, default=50, help="how many sessions (default 50)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    _add_connection_args(p)
    args = p.parse_args(argv)
    settings = load_settings(base_url=args.base_url, token_file=args.token_file)
    settings.require_token()
    return asyncio.run(_ls(settings, args))


async def _ls(settings: Settings, args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from .api.client import QoderClient
    from .api.models import load_fast_json

    load_fast_json()
    from .attention import session_hint
    from .render.summary import age_words
    from .store import SessionStore

    now = datetime.now(UTC)
    out = sys.stdout
    async with QoderClient(settings) as client:
        if args.threads:
            session = await client.get_session(args.threads)
            store = SessionStore(session)
            store.set_threads(await client.all_threads(session.id))
            for info in store.threads.values():
                row = {
                    "id": info.id,
                    "name": info.name,
                    "parent_thread_id": info.thread.parent_thread_id,
                    "state": info.status,
                }
                if args.json:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                else:
                    parent = "" if info.thread.is_primary else "  └ "
                    out.write(f"{info.id}  {info.status:<12}  {parent}{info.name}\n")
            return EXIT_OK
        page = await client.list_sessions(limit=max(1, min(100, args.limit)))
        slots = asyncio.Semaphore(4)

        async def probe(session_id: str) -> Any:
            async with slots:
                return await client.newest_events(session_id, limit=20)

        pages = await asyncio.gather(*(probe(s.id) for s in page.data), return_exceptions=True)
        for session, events in zip(page.data, pages, strict=True):
            data = [] if isinstance(events, BaseException) else events.data
            hint = session_hint(data, session.display_status)
            last = hint.last_event_at
            row = {
                "id": session.id,
                "title": session.display_title,
                "state": hint.status,
                "last_event_at": last.isoformat().replace("+00:00", "Z") if last else None,
                "created_at": session.created_at,
            }
            if args.json:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                ago = f"{age_words(last, now)} ago" if last else "–"
                out.write(f"{session.id}  {hint.status:<12}  {ago:>9}  {session.display_title}\n")
    return EXIT_OK


# --------------------------------------------------------------------------- the viewer


def cmd_app(argv: Sequence[str]) -> int:
    p = _Parser(
        prog="qoder-tui",
        description="Watch and debug Qoder Cloud Agents sessions. Subcommands: ls, tail, simulate.",
    )
    p.add_argument("session_id", nargs="?", help="open this session directly")
    p.add_argument("--thread", metavar="THREAD_ID", help="open this thread of the session")
    p.add_argument(
        "--demo", action="store_true", help="run on the embedded simulator (no account needed)"
    )
    p.add_argument(
        "--window",
        type=int,
        default=50_000,
        metavar="N",
        help="events each view keeps in memory; older ones load again on scroll (default 50,000)",
    )
    p.add_argument(
        "--no-bell",
        action="store_true",
        help="alerts (a followed thread waits for approval or errors) without the terminal bell",
    )
    p.add_argument(
        "--idle-alert",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="alert when a thread that went idle while followed stays idle this long "
        "(default 600; 0 turns it off)",
    )
    p.add_argument("--version", action="version", version=f"qoder-tui {__version__}")
    _add_connection_args(p)
    _add_sim_args(p, for_demo=True)
    args = p.parse_args(argv)
    if args.thread and not args.session_id:
        raise UsageError("qoder-tui: --thread needs a SESSION_ID")
    if args.window < 1_000:
        raise UsageError("qoder-tui: --window must be at least 1000")
    if args.idle_alert < 0:
        raise UsageError("qoder-tui: --idle-alert must be 0 (off) or more seconds")
    server = None
    if args.demo:
        SimulatorServer = _simulator().SimulatorServer
        token = "demo-" + secrets.token_urlsafe(16)
        server = SimulatorServer(_sim_config(args, token)).start_in_thread()
        settings = Settings(base_url=server.base_url, token=Secret(token))
    else:
        settings = load_settings(base_url=args.base_url, token_file=args.token_file)
        settings.require_token()
    # Textual draws a change at its next frame tick, and after a frame longer than a tick it
    # skips to the tick after next: a key answered just after a burst's long frame waited 1-2
    # ticks with nothing to do (8-17 ms at 120 a second, seen in traces; up to 33 at Textual's
    # default 60).  Measured, keys' 90th percentile during ingest: 64 -> 51 ms from 60 to 120;
    # from 120 to 240, 57.5 -> 48.5 ms (medians of 18 runs, taking turns; app CPU an event
    # 57.0 and 54.5 us).  Read when textual is imported, so set before the app is.
    os.environ.setdefault("TEXTUAL_FPS", FRAMES_PER_SECOND)
    # Keys are read by Textual's driver thread, which has to take the interpreter from the
    # loop's thread; a busy thread is made to hand it over only every switch interval
    # (Python's default 5 ms), and during a live burst the loop's thread is always busy.
    # The app also holds live ingest for a key the driver has read (input stamps), which
    # it can see only once that thread ran.  Measured in tmux, 3 runs each taking turns:
    # keys' 90th percentile during ingest 59 -> 50 ms (65 and 68 presses, medians 31 and
    # 32 ms); past the window 54, 64, 59 -> 41, 55, 39 ms.
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        # Sent now, so that the server answers while Textual is imported (see Prefetch).
        prefetch = start_prefetch(settings, args.session_id, args.thread)
        from .app import QoderApp

        app = QoderApp(
            settings,
            session_id=args.session_id,
            thread_id=args.thread,
            open_live_session=args.demo and not args.session_id,
            server_label="embedded simulator" if args.demo else None,
            quiet_crashes=not os.environ.get("QODER_TUI_DEBUG"),
            window=args.window,
            alert_bell=not args.no_bell,
            idle_alert=args.idle_alert or None,
            prefetch=prefetch,
        )
        app.run()
        if app.terminal_lost:
            _quiet_streams()  # nothing can be written to a terminal that has gone
            return EXIT_HANGUP
        if app.crash_message:
            print(f"qoder-tui: {app.crash_message}", file=sys.stderr)
        return int(app.return_code or 0)
    finally:
        if server is not None:
            server.stop()


# --------------------------------------------------------------------------- entry


def _quiet_streams(*, stderr: bool = True) -> None:
    """Send what is still written to stdout (and stderr) nowhere: their reader has gone."""
    with contextlib.suppress(Exception):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        if stderr:
            sys.stderr = sys.stdout


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    secret: str | None = None
    try:
        with contextlib.suppress(QoderError):
            settings = load_settings()
            secret = settings.token.reveal() if settings.token else None
        if argv and argv[0] == "simulate":
            return cmd_simulate(argv[1:])
        if argv and argv[0] == "tail":
            return cmd_tail(argv[1:])
        if argv and argv[0] == "ls":
            return cmd_ls(argv[1:])
        return cmd_app(argv)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except QoderError as exc:
        print(f"qoder-tui: {redact(str(exc), secret)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        _quiet_streams(stderr=False)
        return EXIT_OK
    except Exception as exc:  # the last line of defence: one line, no traceback
        message = redact(f"{type(exc).__name__}: {exc}", secret)
        print(f"qoder-tui: unexpected error: {message}", file=sys.stderr)
        if os.environ.get("QODER_TUI_DEBUG"):
            raise
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
