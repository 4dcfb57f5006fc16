"""The command line: `tail`, `simulate`, exit codes, and the token never printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from qoder_tui.simulator import SimulatorServer

from .conftest import TOKEN, running_sim, sim_config


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QODER_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "qoder_tui", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with running_sim(sim_config()) as server:
        yield server


def env_for(sim: SimulatorServer, token: str = TOKEN) -> dict[str, str]:
    return {"QODER_MANAGED_BASE_URL": sim.base_url, "QODER_ACCESS_TOKEN": token}


def _session(sim: SimulatorServer, title_part: str) -> str:
    return next(s.id for s in sim.simulator.world.sessions.values() if title_part in s.obj["title"])


def test_tail_prints_newest_events_oldest_first(sim: SimulatorServer) -> None:
    sid = _session(sim, "Release 2.8.0")
    res = run("tail", sid, "--limit", "5", env=env_for(sim))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 5
    assert "requires action" in lines[-1]
    assert TOKEN not in res.stdout + res.stderr


def test_tail_json_gives_each_event_once(sim: SimulatorServer) -> None:
    sid = _session(sim, "Summarise")
    res = run("tail", sid, "--limit", "1000", "--json", env=env_for(sim))
    assert res.returncode == 0, res.stderr
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    server = [e["id"] for e in sim.simulator.world.sessions[sid].session_log.items]
    assert [o["id"] for o in objs] == server


def test_tail_follow_ends_with_terminated_session(sim: SimulatorServer) -> None:
    sid = _session(sim, "Rotate")
    res = run("tail", sid, "--limit", "3", "--follow", env=env_for(sim))
    assert res.returncode == 0, res.stderr
    assert "terminated" in res.stdout.splitlines()[-1]


def test_tail_thread(sim: SimulatorServer) -> None:
    sid = _session(sim, "Release 2.8.0")
    sim.simulator.world.sessions[sid].ensure_built()  # built lazily, on its first request
    child = list(sim.simulator.world.sessions[sid].threads)[1]
    res = run("tail", sid, "--thread", child, "--limit", "3", env=env_for(sim))
    assert res.returncode == 0 and "Deployer" in res.stdout


@pytest.mark.parametrize(
    "args,env_extra,code,needle",
    [
        (("tail", "sess_nope"), {}, 4, "sess_nope"),
        (("tail", "SID", "--thread", "sthr_nope"), {}, 4, "sthr_nope"),
        (("tail", "SID"), {"QODER_ACCESS_TOKEN": "wrong-token-value"}, 3, "QODER_ACCESS_TOKEN"),
        (("tail", "SID"), {"QODER_ACCESS_TOKEN": ""}, 3, "QODER_PAT"),
        (("tail", "SID", "--token-file", "/nonexistent/token"), {}, 2, "/nonexistent/token"),
        (("tail",), {}, 2, "session_id"),
        (("tail", "SID", "--limit", "x"), {}, 2, "--limit"),
        (("--bogus",), {}, 2, "--bogus"),
    ],
)
def test_errors_exit_codes_one_line_no_token(sim, args, env_extra, code, needle) -> None:
    sid = _session(sim, "Release 2.8.0")
    env = env_for(sim)
    env.update(env_extra)
    res = run(*[sid if a == "SID" else a for a in args], env=env)
    assert res.returncode == code, res.stderr
    assert needle in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr
    assert TOKEN not in res.stdout + res.stderr


@pytest.mark.parametrize("args", [("sess_x",), ("tail", "sess_x")])
def test_ca_certificates_that_cannot_be_loaded_are_named(args: tuple[str, ...]) -> None:
    # The viewer builds its TLS context before Textual starts (to send its opening GETs),
    # `tail` with its first request: both say which variable names what.
    env = {
        "QODER_MANAGED_BASE_URL": "https://127.0.0.1:9/api/v1/cloud/",
        "QODER_ACCESS_TOKEN": TOKEN,
        "SSL_CERT_FILE": "/nonexistent/ca.pem",
    }
    res = run(*args, env=env)
    assert res.returncode == 2, res.stderr
    assert "SSL_CERT_FILE" in res.stderr and "/nonexistent/ca.pem" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and TOKEN not in res.stdout + res.stderr


def test_unreachable_server_exit_5(unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/api/v1/cloud/"
    res = run("tail", "sess_x", env={"QODER_MANAGED_BASE_URL": url, "QODER_ACCESS_TOKEN": TOKEN})
    assert res.returncode == 5 and url in res.stderr and TOKEN not in res.stderr


def test_token_file_is_read(sim: SimulatorServer, tmp_path) -> None:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    sid = _session(sim, "Rotate")
    res = run(
        "tail",
        sid,
        "--limit",
        "2",
        "--token-file",
        str(path),
        env={"QODER_MANAGED_BASE_URL": sim.base_url},
    )
    assert res.returncode == 0, res.stderr
    assert TOKEN not in res.stdout + res.stderr


def test_simulate_prints_url_and_token_first(unused_tcp_port: int) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qoder_tui",
            "simulate",
            "--port",
            str(unused_tcp_port),
            "--token",
            "t0k",
            "--no-live",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert (
            first
            == f"QODER_MANAGED_BASE_URL=http://127.0.0.1:{unused_tcp_port}/api/v1/cloud/ QODER_ACCESS_TOKEN=t0k"
        )
        env = dict(kv.split("=", 1) for kv in first.split())
        listing = run("tail", "sess_nope", env=env)
        assert listing.returncode == 4
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("dialect", ["g1", "g2", "g3"])
def test_tail_follow_json_on_older_dialects_gives_id_and_type(make_sim, dialect: str) -> None:
    """G1 frames carry neither `id` nor `type` in their data (D25): the SSE fields are merged."""
    import httpx

    server = make_sim(scenario="big", big_events=200, dialect=dialect)
    sess = max(server.simulator.world.sessions.values(), key=lambda s: len(s.session_log))
    log = sess.session_log
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QODER_")}
    full_env.update(env_for(server))
    proc = subprocess.Popen(
        [sys.executable, "-m", "qoder_tui", "tail", sess.id, "--limit", "2", "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )
    watchdog = threading.Timer(60, proc.kill)  # a failure must end the test, not hang it
    watchdog.start()
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]  # the history, then it follows
        httpx.post(
            f"{server.root_url}/_sim/sessions/{sess.id}/grow?count=30",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).raise_for_status()
        lines += [proc.stdout.readline() for _ in range(30)]
    finally:
        watchdog.cancel()
        proc.kill()
        proc.communicate(timeout=10)
    objs = [json.loads(line) for line in lines]
    assert [o["id"] for o in objs] == [log.get(i)["id"] for i in range(198, 230)]
    assert all(o["type"] == log.get(198 + i)["type"] for i, o in enumerate(objs))


def test_ls_lists_sessions_with_their_real_state(sim: SimulatorServer) -> None:
    res = run("ls", "--json", env=env_for(sim))
    assert res.returncode == 0, res.stderr
    rows = {row["title"]: row for row in map(json.loads, res.stdout.splitlines())}
    assert len(rows) == len(sim.simulator.world.sessions)
    assert rows["Release 2.8.0 to production"]["state"] == "waiting"
    assert rows["Summarise last week's incidents"]["state"] == "errored"
    assert rows["Rotate staging credentials"]["state"] == "terminated"
    assert all(row["last_event_at"] for row in rows.values())
    text = run("ls", env=env_for(sim))
    assert text.returncode == 0 and "waiting" in text.stdout and "ago" in text.stdout
    sid = _session(sim, "Release 2.8.0")
    threads = run("ls", "--threads", sid, "--json", env=env_for(sim))
    states = {row["name"]: row["state"] for row in map(json.loads, threads.stdout.splitlines())}
    assert states["Deployer"] == "waiting"
    assert TOKEN not in res.stdout + res.stderr + threads.stdout


@pytest.mark.parametrize(
    ("title", "code"),
    [("Release 2.8.0", 6), ("Summarise", 7), ("Migrate orders", 0)],
    ids=["waiting", "errored", "idle"],
)
def test_tail_until_idle_says_how_it_stopped(sim: SimulatorServer, title: str, code: int) -> None:
    sid = _session(sim, title)
    res = run("tail", sid, "--limit", "1", "--follow", "--until-idle", env=env_for(sim))
    assert res.returncode == code, res.stderr


def test_until_idle_needs_follow(sim: SimulatorServer) -> None:
    res = run("tail", "x", "--until-idle", env=env_for(sim))
    assert res.returncode == 2 and "--follow" in res.stderr


def test_tail_until_idle_waits_for_a_live_turn_to_end(make_sim) -> None:
    server = make_sim(live=True, speed=40.0)
    live = next(s for s in server.simulator.world.sessions.values() if s.obj["status"] == "running")
    res = run("tail", live.id, "--limit", "0", "--follow", "--until-idle", env=env_for(server))
    assert res.returncode == 0, res.stderr
    assert "idle" in res.stdout.splitlines()[-1]


def test_tail_all_threads_merges_every_thread_in_time_order(sim: SimulatorServer) -> None:
    sid = _session(sim, "Release 2.8.0")
    world = sim.simulator.world.sessions[sid]
    res = run("tail", sid, "--all-threads", "--limit", "1000", "--json", env=env_for(sim))
    assert res.returncode == 0, res.stderr
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    ids = [o["id"] for o in objs]
    # Every event of every thread (and of the session stream), each once.
    expected = {e["id"] for e in world.session_log.items}
    for thread in world.threads.values():
        expected |= {e["id"] for e in thread.log.items}
    assert len(ids) == len(set(ids)) and set(ids) == expected
    times = [o["processed_at"] for o in objs]
    assert times == sorted(times)
    # A child's own events say whose they are.
    child = next(t for t in world.threads.values() if t.id != world.primary_id)
    assert any(o.get("session_thread_id") == child.id for o in objs)
    text = run("tail", sid, "--all-threads", "--limit", "50", env=env_for(sim))
    assert "Deployer" in text.stdout and "release-coordinato" in text.stdout
    both = run("tail", sid, "--all-threads", "--thread", child.id, env=env_for(sim))
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.fixture
def keep_switch_interval() -> Iterator[None]:
    """The interpreter's switch interval, as it was again after the test (cmd_app sets it)."""
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize(("preset", "expected"), [(None, "240"), ("30", "30")])
@pytest.mark.usefixtures("keep_switch_interval")
def test_the_app_runs_at_the_cli_frame_rate_unless_the_environment_sets_one(
    monkeypatch, preset: str | None, expected: str
) -> None:
    """Textual reads TEXTUAL_FPS when it is imported, and importing the CLI does not import
    it (test_layering): the CLI sets 240 before it imports the app, and keeps a rate the
    person set."""
    from qoder_tui import cli
    from qoder_tui.app import QoderApp

    if preset is None:
        monkeypatch.delenv("TEXTUAL_FPS", raising=False)
    else:
        monkeypatch.setenv("TEXTUAL_FPS", preset)
    monkeypatch.setenv("QODER_MANAGED_BASE_URL", "http://127.0.0.1:9/api/v1/")
    monkeypatch.setenv("QODER_ACCESS_TOKEN", TOKEN)
    seen: list[str | None] = []
    monkeypatch.setattr(QoderApp, "run", lambda self: seen.append(os.environ.get("TEXTUAL_FPS")))
    assert cli.cmd_app([]) == 0
    assert seen == [expected]


@pytest.mark.usefixtures("keep_switch_interval")
def test_the_app_runs_with_a_switch_interval_that_lets_the_input_thread_in_soon(
    monkeypatch,
) -> None:
    """Keys are read by Textual's driver thread: the loop's thread, busy through a live burst,
    hands the interpreter over every millisecond, not every 5 (Python's default)."""
    from qoder_tui import cli
    from qoder_tui.app import QoderApp

    monkeypatch.setenv("QODER_MANAGED_BASE_URL", "http://127.0.0.1:9/api/v1/")
    monkeypatch.setenv("QODER_ACCESS_TOKEN", TOKEN)
    seen: list[float] = []
    monkeypatch.setattr(QoderApp, "run", lambda self: seen.append(sys.getswitchinterval()))
    sys.setswitchinterval(0.005)  # (Python's default)
    assert cli.cmd_app([]) == 0
    assert seen == [pytest.approx(0.001)]


def test_the_app_quits_when_its_terminal_goes_away_without_a_hangup() -> None:
    """A terminal window closed under `make demo`: make is the session's leader and lives
    on, so no hangup reaches the app (here it ignores SIGHUP, as it would under a wrapper
    that does).  Textual's input thread then reads end-of-file in a busy loop; the app must
    notice that its terminal is gone and end, not follow on using a core for nobody."""
    import fcntl
    import pty
    import struct
    import termios
    import time

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "QODER_TUI_DEBUG": ""}
    command = f"trap '' HUP; exec {sys.executable} -m qoder_tui --demo --no-bell"
    proc = subprocess.Popen(
        ["sh", "-c", command],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        drawn = b""
        deadline = time.monotonic() + 60
        while b"embedded simulator" not in drawn:  # its status bar: the app is up
            assert time.monotonic() < deadline, drawn[-2000:]
            drawn = (drawn + os.read(master, 65536))[-200_000:]
        os.close(master)  # the window closes
        master = -1
        assert proc.wait(timeout=20) == 129  # it ended by itself, saying why
    finally:
        if master >= 0:
            os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("option", "said"),
    [("--chunk-bytes", "0 (whole frames) or more"), ("--error-after", "0 (never) or more")],
)
def test_a_simulator_fault_count_below_zero_is_refused_before_it_serves(
    option: str, said: str
) -> None:
    # (a negative piece size failed inside each stream, with uvicorn's traceback on stderr)
    res = run("simulate", "--port", "0", option, "-1", timeout=30)
    assert res.returncode == 2 and option in res.stderr and said in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and "QODER_MANAGED_BASE_URL" not in res.stdout
