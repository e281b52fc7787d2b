"""The probing half in worker processes: one per core, endpoints sharded by a stable hash.

Why processes: one Python process probes on one core (the GIL), and at 2,000 endpoints
every 5 s the probes alone fill it. Each worker (:mod:`gatewatch.monitor.worker`) runs
the same :class:`~gatewatch.monitor.runners.ProbeRunners` as the in-process engine, on
its own loop and core; this pool, on the engine thread, speaks the same commands as
ProbeRunners, so :class:`~gatewatch.monitor.core.EngineCore` cannot tell them apart.
State, history and alerts stay in the main process.

- Sharding: ``crc32(name) % workers`` when an endpoint is added — stable across runs and
  restarts (Python's ``hash`` is salted per process). A rename keeps the endpoint on its
  worker, so its grid and diagnose's history carry over.
- Concurrency: the cap is shared out, ``ceil(cap / workers)`` per worker.
- A worker that dies (crash, OOM killer, a stray ``kill``) is noticed at once (its socket
  closes); one that stops answering (no frame, not even its once-a-second heartbeat, for
  ``stall_timeout`` seconds: a stopped or wedged process) is killed first. Either way it is
  reported through ``on_restart`` (the engine publishes WorkerRestarted naming its
  endpoints), started again and given its endpoints back, which it probes at once. A
  worker that keeps dying is restarted with a growing delay (up to 30 s), not in a loop.
- Stop: "stop" to every worker, a bounded wait, then SIGKILL for any that linger;
  :meth:`WorkerPool.close` is the last sweep if the engine's loop is already gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gatewatch.model import Endpoint
from gatewatch.monitor import wire
from gatewatch.monitor.runners import Outcome
from gatewatch.monitor.worker import LAUNCH, WorkerSettings

log = logging.getLogger(__name__)

RestartFn = Callable[[int, Sequence[int], str], None]

#: A worker that lived shorter than this before dying counts as crash-looping.
_SHORT_LIFE = 5.0
_MAX_BACKOFF = 30.0


def shard(name: str, workers: int) -> int:
    """Which worker probes the endpoint called ``name``: stable across processes and runs."""
    return zlib.crc32(name.encode("utf-8")) % workers


#: Below this many probes per second the board probes in its own process: one engine
#: thread handles it with room to spare (1,000 endpoints every 5 s, 200/s, took 45 % of one
#: core in bench_monitor.py) and a board opens faster without workers to start.
BOARD_IN_PROCESS_RATE = 100.0


def default_workers(*, board: bool = False, endpoints: Sequence[Endpoint] | None = None) -> int:
    """One worker per core this process may run on. For the board, one core is left to
    the UI (at least one worker), and none at all when ``endpoints`` ask for fewer than
    BOARD_IN_PROCESS_RATE probes per second. Measured with bench/bench_tui.py on 2 cores,
    1,000 endpoints at 200 probes/s: key-to-screen p95 30–52 ms with one worker, 68–78 ms
    with two (the workers took the UI's core), 46 ms probing in the UI's process."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if not board:
        return max(1, cores)
    if endpoints is not None:
        rate = sum(1 / e.interval for e in endpoints if e.interval > 0)
        if rate < BOARD_IN_PROCESS_RATE:
            return 0
    return max(1, cores - 1)


@dataclass(eq=False)
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    started: float
    writer: asyncio.StreamWriter | None = None
    pending: list[bytes] = field(default_factory=list)
    reading: asyncio.Task[None] | None = None
    in_flight: int = 0
    skipped: int = 0
    #: When it last sent a frame (monotonic); its spawn time until the first one.
    heard: float = 0.0
    spoke: bool = False
    #: Why the watchdog killed it (None: it was not).
    stalled: str | None = None


@dataclass
class _Assigned:
    endpoint: Endpoint
    paused: bool
    worker: int


class WorkerPool:
    """Probe workers, driven from the engine thread (see the module docstring)."""

    def __init__(
        self,
        count: int,
        settings: WorkerSettings,
        *,
        emit: Callable[[Outcome], None],
        on_restart: RestartFn,
        stall_timeout: float = 30.0,
        start_timeout: float = 60.0,
    ) -> None:
        if count < 1:
            raise ValueError(f"a worker pool needs at least one worker, got {count}")
        self.count = count
        self.settings = settings
        self.emit = emit
        self.on_restart = on_restart
        self.assigned: dict[int, _Assigned] = {}
        self.workers: list[_Worker | None] = [None] * count
        self.restarts = 0
        self._backoff = [0.0] * count
        self._lost_skipped = 0
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Seconds without a frame before a worker counts as stuck (``start_timeout`` until
        #: its first frame: imports and the warm-up probe on a loaded machine).
        self.stall_timeout = stall_timeout
        self.start_timeout = start_timeout
        self._watchdog: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ numbers

    @property
    def in_flight(self) -> int:
        return sum(w.in_flight for w in self.workers if w is not None)

    @property
    def skipped(self) -> int:
        return self._lost_skipped + sum(w.skipped for w in self.workers if w is not None)

    def pids(self) -> list[int]:
        return [w.process.pid for w in self.workers if w is not None]

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for index in range(self.count):
            self._spawn(index)
        self._watchdog = self._loop.create_task(self._watch())

    async def stop(self, grace: float = 5.0) -> None:
        self._stopping = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        workers = [w for w in self.workers if w is not None]
        for worker in workers:
            self._send(worker, ("stop",))
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + grace
        for worker in workers:
            remaining = max(0.1, deadline - time.monotonic())
            await loop.run_in_executor(None, _wait_or_kill, worker.process, remaining)
            if worker.reading is not None:
                worker.reading.cancel()
            if worker.writer is not None:
                worker.writer.close()
        self._loop = None

    def close(self) -> None:
        """The last sweep, from any thread once the loop is gone: no worker survives."""
        self._stopping = True
        for worker in self.workers:
            if worker is not None:
                _wait_or_kill(worker.process, 0.0)

    # ------------------------------------------------------------------ commands

    def add(self, key: int, endpoint: Endpoint, *, paused: bool = False) -> None:
        index = shard(endpoint.name, self.count)
        self.assigned[key] = _Assigned(endpoint, paused, index)
        self._to(index, ("add", key, endpoint, paused))

    def remove(self, key: int) -> None:
        assigned = self.assigned.pop(key, None)
        if assigned is not None:
            self._to(assigned.worker, ("remove", key))

    def update(self, key: int, endpoint: Endpoint) -> None:
        assigned = self.assigned[key]
        assigned.endpoint = endpoint
        self._to(assigned.worker, ("update", key, endpoint))

    def set_paused(self, key: int, paused: bool) -> None:
        assigned = self.assigned[key]
        assigned.paused = paused
        self._to(assigned.worker, ("pause", key, paused))

    def probe_now(self, key: int) -> None:
        self._to(self.assigned[key].worker, ("probe_now", key))

    # ------------------------------------------------------------------ plumbing

    def _to(self, index: int, message: tuple[Any, ...]) -> None:
        worker = self.workers[index]
        if worker is not None:
            self._send(worker, message)
        # No worker (between a death and its restart): the restart re-adds from `assigned`.

    def _send(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        data = wire.frame(message)
        if worker.writer is None:
            worker.pending.append(data)
        elif not worker.writer.is_closing():
            worker.writer.write(data)

    def _spawn(self, index: int) -> None:
        assert self._loop is not None
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", LAUNCH, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                # On a terminal (the board's) a worker's log line would tear the screen;
                # its death is reported anyway. Elsewhere (CI, systemd) it is kept.
                stderr=subprocess.DEVNULL if _stderr_is_terminal() else None,
            )
        finally:
            theirs.close()
        worker = _Worker(index, process, time.monotonic(), heard=time.monotonic())
        self.workers[index] = worker
        self._send(worker, ("settings", self.settings, index))
        for key, assigned in self.assigned.items():
            if assigned.worker == index:
                self._send(worker, ("add", key, assigned.endpoint, assigned.paused))
        worker.reading = self._loop.create_task(self._serve(worker, ours))

    async def _serve(self, worker: _Worker, sock: socket.socket) -> None:
        """Connect, send what queued up, then read outcome frames until the worker ends."""
        reader, writer = await asyncio.open_connection(sock=sock)
        worker.writer = writer
        for data in worker.pending:
            writer.write(data)
        worker.pending.clear()
        try:
            while True:
                header = await reader.readexactly(wire.HEADER)
                data = await reader.readexactly(wire.frame_length(header))
                worker.in_flight, worker.skipped, outcomes = wire.load(data)
                worker.heard, worker.spoke = time.monotonic(), True
                for outcome in outcomes:
                    self.emit(outcome)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        writer.close()
        if not self._stopping:
            await self._restart(worker)

    async def _watch(self) -> None:
        """Kill a worker that stopped answering: its socket closes, and it is restarted."""
        while True:
            await asyncio.sleep(min(1.0, self.stall_timeout / 4))
            now = time.monotonic()
            for worker in self.workers:
                if worker is None or worker.stalled is not None:
                    continue
                limit = self.stall_timeout if worker.spoke else self.start_timeout
                if now - worker.heard > limit:
                    what = "stopped answering" if worker.spoke else "never answered"
                    worker.stalled = f"{what} for {limit:g} s and was killed"
                    log.warning("probe worker %d %s", worker.index, worker.stalled)
                    with contextlib.suppress(ProcessLookupError):
                        worker.process.kill()

    async def _restart(self, worker: _Worker) -> None:
        loop = asyncio.get_running_loop()
        code = await loop.run_in_executor(None, _wait_or_kill, worker.process, 2.0)
        index = worker.index
        self._lost_skipped += worker.skipped
        self.workers[index] = None
        lived = time.monotonic() - worker.started
        self._backoff[index] = (
            min(_MAX_BACKOFF, max(0.5, 2 * self._backoff[index])) if lived < _SHORT_LIFE else 0.0
        )
        keys = [k for k, a in self.assigned.items() if a.worker == index]
        self.on_restart(index, keys, worker.stalled or _describe(code))
        if self._backoff[index]:
            await asyncio.sleep(self._backoff[index])
        if not self._stopping and self._loop is not None:
            self.restarts += 1
            self._spawn(index)


def _stderr_is_terminal() -> bool:
    try:
        return os.isatty(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def _wait_or_kill(process: subprocess.Popen[bytes], timeout: float) -> int | None:
    """Wait up to ``timeout`` for ``process`` to exit, then SIGKILL it; its exit status."""
    try:
        return process.wait(timeout) if timeout > 0 else _poll_or_kill(process)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        return process.wait(5.0)
    return None


def _poll_or_kill(process: subprocess.Popen[bytes]) -> int | None:
    code = process.poll()
    if code is not None:
        return code
    raise subprocess.TimeoutExpired(process.args, 0)


def _describe(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


__all__ = ["WorkerPool", "WorkerSettings", "default_workers", "shard"]
