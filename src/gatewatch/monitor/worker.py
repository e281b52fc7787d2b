"""One probe worker process: ``python -c LAUNCH FD`` (or ``-m gatewatch.monitor.worker FD``).

Started by :class:`gatewatch.monitor.workers.WorkerPool`, never by hand. It runs a
:class:`~gatewatch.monitor.runners.ProbeRunners` on its own loop and core: the shard of
endpoints the engine gives it, their grids, the probes (kernel-stamped, as in-process)
and their diagnosis. Outcomes go back in batches, one frame per ``BATCH_SECONDS``.

It must never outlive the engine: it reads its commands from the socket ``FD`` and exits
when that socket closes (the engine stopped, or died, even by SIGKILL); on Linux the
kernel also sends it SIGTERM when its parent dies. It ignores SIGINT: Ctrl-C in a
terminal reaches the whole process group, and the engine, not the keyboard, stops its
workers (cleanly, in order). It never touches the history, states or alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import random
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any

from gatewatch.monitor import wire
from gatewatch.monitor.runners import Outcome, ProbeRunners

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs to know besides its endpoints (sent first, once)."""

    concurrency: int
    jitter: float
    seed: int | None
    deadline_grace: float
    #: The prober's environment (``env:`` secrets, proxies); None: the worker's own.
    environ: dict[str, str] | None = None


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM to this process when its parent exits."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


#: Outcomes are collected this long before they go out as one frame. Timings are taken
#: at probe time, so this only delays the news (by at most 0.1 s, less than a person
#: notices on a board) and saves the engine a wake-up, a frame and a read per probe:
#: at 400 probes/s the engine process took 7.1–7.8 % of a core with 20 ms batches and
#: 5.9 % with 100 ms ones (bench_monitor.py, 2,000 endpoints every 5 s).
BATCH_SECONDS = 0.1


#: A worker with nothing to report still sends an empty frame this often, so the engine
#: can tell a quiet worker from a stuck one (WorkerPool's stall timeout).
HEARTBEAT_SECONDS = 1.0


class _Outbox:
    """Outcomes finished within BATCH_SECONDS, sent as one frame; a heartbeat otherwise."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.runners: ProbeRunners | None = None
        self.pending: list[Outcome] = []
        self.sent_at = 0.0

    def emit(self, outcome: Outcome) -> None:
        if not self.pending:
            asyncio.get_running_loop().call_later(BATCH_SECONDS, self.flush)
        self.pending.append(outcome)

    def flush(self) -> None:
        runners = self.runners
        assert runners is not None
        batch, self.pending = tuple(self.pending), []
        if not self.writer.is_closing():
            self.writer.write(wire.frame((runners.in_flight, runners.skipped, batch)))
            self.sent_at = asyncio.get_running_loop().time()

    async def heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            if not self.pending and loop.time() - self.sent_at >= HEARTBEAT_SECONDS:
                self.flush()


async def _read(reader: asyncio.StreamReader) -> Any:
    header = await reader.readexactly(wire.HEADER)
    return wire.load(await reader.readexactly(wire.frame_length(header)))


async def serve(sock: socket.socket) -> None:
    """Take commands from ``sock`` until "stop" or until the engine's end closes it."""
    from gatewatch.monitor.gctune import tune_gc
    from gatewatch.probe import Prober

    reader, writer = await asyncio.open_connection(sock=sock)
    op, settings, index = await _read(reader)
    assert op == "settings" and isinstance(settings, WorkerSettings)
    prober = Prober(environ=settings.environ)
    try:
        await prober.warm_up()
    except Exception:
        log.exception("probe warm-up failed; probing anyway")
    outbox = _Outbox(writer)
    seed = None if settings.seed is None else settings.seed * 1000 + index
    runners = ProbeRunners(
        probe=prober.probe,
        emit=outbox.emit,
        concurrency=settings.concurrency,
        jitter=settings.jitter,
        rng=random.Random(seed),
        deadline_grace=settings.deadline_grace,
    )
    outbox.runners = runners
    runners.start()
    outbox.flush()  # the first heartbeat: started and warmed up
    beating = asyncio.get_running_loop().create_task(outbox.heartbeat())
    tune_gc()
    try:
        while True:
            try:
                message = await _read(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # the engine is gone: never outlive it
            if message[0] == "stop":
                return
            _apply(runners, message)
    finally:
        beating.cancel()
        await runners.stop()
        await prober.aclose()
        writer.close()


def _apply(runners: ProbeRunners, message: tuple[Any, ...]) -> None:
    op, key, *args = message
    try:
        if op == "add":
            runners.add(key, args[0], paused=args[1])
        elif op == "remove":
            runners.remove(key)
        elif op == "update":
            runners.update(key, args[0])
        elif op == "pause":
            runners.set_paused(key, args[0])
        elif op == "probe_now":
            runners.probe_now(key)
        else:
            log.error("probe worker: unknown command %r", op)
    except (KeyError, ValueError):
        log.exception("probe worker: command %r for %s failed", op, key)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    logging.basicConfig(level=logging.WARNING, format="gatewatch worker: %(message)s")
    sock = socket.socket(fileno=int(argv[0]))
    asyncio.run(serve(sock))
    return 0


#: Optional modules httpx and httpcore import when installed, which a probe worker never
#: uses (trio: httpcore's other backend; click, rich, pygments: httpx's command line).
#: Marked absent before anything is imported, they cost a worker nothing: 8 MB less RSS
#: per worker, measured. Only the worker's own interpreter is affected.
UNUSED_IN_WORKERS = ("trio", "click")

#: What the pool runs: ``python -c LAUNCH FD``. Not ``-m``: that would import the
#: package (and httpx) before the unused modules could be marked absent.
LAUNCH = (
    "import sys\n"
    f"sys.modules.update(dict.fromkeys({UNUSED_IN_WORKERS!r}))\n"
    "from gatewatch.monitor.worker import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


if __name__ == "__main__":
    # Run from the module under its real name, so the classes in the frames
    # (WorkerSettings, Outcome …) are the very ones the engine pickled.
    from gatewatch.monitor.worker import main as _main

    raise SystemExit(_main(sys.argv[1:]))
