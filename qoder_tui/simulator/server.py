"""Running the simulator: inside an event loop, or on a thread of its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn

from .app import SimConfig, Simulator

T = TypeVar("T")


class SimulatorServer:
    """uvicorn serving the simulator on loopback.

    Use `async with SimulatorServer(...)` to run it in the current loop, or
    `start_in_thread()` / `stop()` to run it on its own thread and loop (the
    app's `--demo` and synchronous tests do that).
    """

    def __init__(
        self, config: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SimConfig()
        self.host = host
        self.port = port
        self.simulator = Simulator(self.config)
        self.app = self.simulator.build()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[Any] | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sock: socket.socket | None = None

    # ------------------------------------------------------------------ addresses

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/v1/cloud/"

    @property
    def token(self) -> str:
        return self.config.token

    # ------------------------------------------------------------------ in-loop

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this; without it small answers wait for delayed ACKs.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        return sock

    async def start(self) -> None:
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        config = uvicorn.Config(
            self.app,
            log_level="critical",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
            ws="none",
        )
        server = uvicorn.Server(config)
        self._server = server
        self._loop = asyncio.get_running_loop()
        self._sock = self._bind()
        self._task = asyncio.create_task(server.serve(sockets=[self._sock]))
        while not server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the simulator stopped during start-up")
            await asyncio.sleep(0.005)

    async def aclose(self) -> None:
        for task in self.simulator.live_tasks:
            task.cancel()
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = True
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._task, 5)
        self._task = None

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ threaded

    def start_in_thread(self) -> SimulatorServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)

            async def main() -> None:
                try:
                    await self.start()
                except BaseException as exc:
                    failure.append(exc)
                    ready.set()
                    return
                ready.set()
                assert self._task is not None
                with contextlib.suppress(BaseException):
                    await self._task
                await self.aclose()
                current = asyncio.current_task()
                pending = [t for t in asyncio.all_tasks() if t is not current]
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

            loop.run_until_complete(main())
            loop.close()

        self._thread = threading.Thread(target=run, name="qoder-simulator", daemon=True)
        self._thread.start()
        ready.wait(15)
        if failure:
            raise failure[0]
        return self

    def run_on_loop(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Run `fn` on the simulator's own loop: a threaded server's world (its sessions,
        their logs and waiters) is changed there, by tests that make things happen."""
        loop = self._loop
        assert loop is not None, "the simulator is not running"
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:
                done.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return done

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = True
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop()
