"""The probe engine's public face: a thread with its own loop, commands in, messages out.

Why (DESIGN.md, "Threads and time"; probe-engine-notes §6): timings are the product, so the
engine runs its own asyncio loop in its own thread and whatever the board does cannot
inflate a phase. Other threads talk to it through methods that post to that loop, and hear
from it through frozen messages (:mod:`gatewatch.monitor.events`): callbacks invoked on the
engine thread (the board wraps them with ``App.call_from_thread``) or queues it drains.
Nothing here imports Textual. The work itself is in :mod:`gatewatch.monitor.core` (states,
history, alerts) and :mod:`gatewatch.monitor.runners` (schedules, probes, diagnosis).

The API — the seam between the engine and the board; add to it, never break it:

Life cycle
    ``Monitor(endpoints, *, history, alerts, concurrency, workers, …)``, ``start()``,
    ``stop()`` (bounded; stops every worker process), ``with Monitor(...) as m``,
    ``running``.
Commands (any thread; each returns a ``concurrent.futures.Future[None]`` completed once
applied; an unknown name raises KeyError and a bad endpoint ValueError at once)
    ``add(endpoint)``, ``remove(name)``, ``update(endpoint)``, ``rename(old, endpoint)``,
    ``pause(name)``, ``resume(name)``, ``pause_all()``, ``resume_all()``, ``probe_now(name)``,
    ``acknowledge(name, by, reason)``.
Reading (any thread)
    ``snapshot() -> {name: EndpointStatus}``, ``stats() -> EngineStats``,
    ``alert_tallies()``, ``worker_pids()``, and the ``history``
    (:class:`~gatewatch.monitor.history.History`).
Events out (``subscribe(callback)`` on the engine thread, or ``events()``, a queue)
    ``ProbeCompleted`` (every probe, annotated, with the state it left), ``StateChanged``
    (a transition), ``LocalProblem``, ``HistoryUnavailable``, ``HistoryRestored``,
    ``AlertFailed``, ``Acknowledged``, and ``WorkerRestarted`` (a probe worker died or
    stopped answering and was restarted; names its endpoints).

Where the probes run: ``workers=0`` (the default for the library and tests) probes on the
engine thread; ``workers=N`` runs them in N worker processes
(:mod:`gatewatch.monitor.workers`; ``gatewatch watch`` defaults to one per core, the
board to one fewer), and the engine thread keeps only states, history and alerts. Either
way every endpoint is probed as soon as the concurrency cap allows when the engine starts
(and when it is added), then on its own spread grid (:mod:`gatewatch.monitor.schedule`);
a failure short of ``down_after`` is confirmed 2 s later. The events are the same in both
modes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import queue
import random
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatewatch.model import Endpoint
from gatewatch.monitor.alert_queue import Tally
from gatewatch.monitor.alerts import AlertConfig
from gatewatch.monitor.core import EngineCore, Probing, ResolverCheck
from gatewatch.monitor.events import (
    AlertFailed,
    HistoryRestored,
    HistoryUnavailable,
    Message,
    ProbeCompleted,
    WorkerRestarted,
)
from gatewatch.monitor.history import History
from gatewatch.monitor.local import LocalDetector, check_resolvers
from gatewatch.monitor.notify import Notifier
from gatewatch.monitor.schedule import DEFAULT_JITTER
from gatewatch.monitor.settings import MonitorRules, rules_for
from gatewatch.monitor.sinks import AlertDispatcher, Sink, sinks_from_config
from gatewatch.monitor.stats import EngineStats
from gatewatch.monitor.status import EndpointStatus

if TYPE_CHECKING:
    from gatewatch.monitor.runners import AnnotateFn, ProbeFn

log = logging.getLogger(__name__)

WarmUpFn = Callable[[], Awaitable[None]]
Listener = Callable[[Message], None]

DEFAULT_CONCURRENCY = 100


class Monitor:
    """Probes endpoints on schedule in a background thread.

    Typical use::

        monitor = Monitor(endpoints, history="history.sqlite3", alerts=watchlist_alerts)
        inbox = monitor.events()          # or monitor.subscribe(callback)
        monitor.start()
        ...
        monitor.stop()

    ``probe``/``warm_up``/``annotate`` are injectable (tests use fakes); by default a
    :class:`gatewatch.probe.Prober` (or the ``prober`` given, which the engine then owns and
    closes: its client binds to the engine's loop) and, per endpoint, the incremental
    :class:`gatewatch.diagnose.incremental.Diagnoser` (the same verdicts as
    :func:`gatewatch.diagnose.annotate`, without re-running every rule on an unchanged
    healthy answer). With ``workers`` > 0 the probes run in that many worker processes,
    which build their own Prober (with the given ``prober``'s ``environ``, if any); fakes
    cannot cross a process boundary, so ``probe``/``warm_up``/``annotate`` must be unset.
    """

    def __init__(
        self,
        endpoints: Iterable[Endpoint] = (),
        *,
        probe: ProbeFn | None = None,
        warm_up: WarmUpFn | None = None,
        prober: Any = None,
        annotate: AnnotateFn | None = None,
        history: History | str | Path | None = None,
        alerts: AlertConfig | Mapping[str, Any] | None = None,
        sinks: Sequence[Sink] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        jitter: float = DEFAULT_JITTER,
        seed: int | None = None,
        deadline_grace: float = 2.0,
        local_detector: LocalDetector | None = None,
        resolver_check: ResolverCheck | None = check_resolvers,
        resolver_check_interval: float = 30.0,
        housekeeping_interval: float = 1.0,
        alert_grace: float = 3.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
        workers: int = 0,
        worker_stall_timeout: float = 30.0,
    ) -> None:
        self._probe_fn = probe
        #: Makes the engine thread's loop; tests pass one whose clock is virtual.
        self._loop_factory = loop_factory
        self._warm_up_fn = warm_up
        self._prober = prober
        self._annotate_fn = annotate
        #: The Monitor closes a History it made; one passed in stays the caller's to close.
        self._owns_history = not isinstance(history, History)
        self.history = history if isinstance(history, History) else History(history)
        config = alerts if isinstance(alerts, AlertConfig) else AlertConfig.from_mapping(alerts)
        sinks = list(sinks) if sinks is not None else sinks_from_config(config)
        self.concurrency = concurrency
        self.alert_grace = alert_grace
        self._dispatcher = AlertDispatcher(sinks, self._alert_failed)
        if workers < 0:
            raise ValueError(f"workers must be 0 (probe in this process) or more, got {workers}")
        if workers and (probe is not None or annotate is not None or warm_up is not None):
            raise ValueError("worker processes run the real prober: no probe/annotate/warm_up")
        self.workers = workers
        #: A worker silent this long (no result, no heartbeat) is killed and restarted.
        self.worker_stall_timeout = worker_stall_timeout
        self._clock = clock
        self._jitter = jitter
        self._seed = seed
        self._deadline_grace = deadline_grace
        self._core = EngineCore(
            history=self.history,
            notifier=Notifier(self._publish, self._dispatcher, clock),
            local=local_detector or LocalDetector(),
            publish=self._publish,
            on_status=self._set_status,
            clock=clock,
            resolver_check=resolver_check,
            resolver_check_interval=resolver_check_interval,
            housekeeping_interval=housekeeping_interval,
        )
        self._guard = threading.Lock()
        self._names: set[str] = set()
        self._statuses: dict[str, EndpointStatus] = {}
        self._listeners: tuple[Listener, ...] = ()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._started = False
        self._crash: BaseException | None = None
        for endpoint in endpoints:
            self.add(endpoint)

    # ================================================================== listening (any thread)

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(message)`` on the engine thread for every message; returns an
        unsubscribe function. A callback must be quick; if it raises, that is logged."""
        with self._guard:
            self._listeners = (*self._listeners, callback)

        def unsubscribe() -> None:
            with self._guard:
                self._listeners = tuple(c for c in self._listeners if c is not callback)

        return unsubscribe

    def events(self, *, max_probe_backlog: int = 10_000) -> queue.SimpleQueue[Message]:
        """A new queue that receives every message. Drain it (e.g. from a timer).

        Past ``max_probe_backlog`` undrained messages, ProbeCompleted messages are dropped
        (transitions and problems never are), so a forgotten queue cannot eat the memory.
        """
        inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()

        def put(message: Message) -> None:
            if isinstance(message, ProbeCompleted) and inbox.qsize() >= max_probe_backlog:
                return
            inbox.put(message)

        self.subscribe(put)
        return inbox

    # ================================================================== life cycle

    def start(self, *, timeout: float = 10.0) -> None:
        """Open the history, start the engine thread and wait until its loop runs.

        Setup errors (no probe or diagnose module …) raise here, in the caller's thread.
        """
        if self._started:
            raise RuntimeError("a Monitor can be started once")
        self._started = True
        self._resolve_defaults()
        self.history.open()
        self._thread = threading.Thread(
            target=self._thread_main, name="gatewatch-monitor", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the monitor engine did not start in time")
        if self._crash is not None:
            raise RuntimeError("the monitor engine failed to start") from self._crash

    def stop(self, *, timeout: float = 10.0) -> None:
        """Cancel in-flight probes, let alerts finish briefly, flush (and close) the history.

        Bounded: returns within about ``timeout`` seconds whatever the endpoints do.
        """
        loop, thread, stopping = self._loop, self._thread, self._stopping
        if loop is not None and thread is not None and thread.is_alive():
            if stopping is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(stopping.set)
            thread.join(timeout)
            if thread.is_alive():
                log.warning("monitor engine thread did not stop within %.1fs", timeout)
        close = getattr(self._core.probing, "close", None)
        if close is not None:  # worker processes: none may outlive the engine
            close()
        if self._owns_history:
            self.history.close(timeout=max(1.0, timeout / 2))
        else:
            self.history.flush(timeout=max(1.0, timeout / 2))

    def __enter__(self) -> Monitor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set()

    # ================================================================== commands (any thread)
    #
    # Each returns a Future that completes once the engine thread has applied the command;
    # callers may ignore it. Unknown names (KeyError) and bad endpoints (ValueError) raise
    # at once, in the caller's thread.

    def add(self, endpoint: Endpoint) -> concurrent.futures.Future[None]:
        """Start monitoring ``endpoint``."""
        rules = self._validate(endpoint)
        with self._guard:
            if endpoint.name in self._names:
                raise ValueError(f"an endpoint named {endpoint.name!r} is already monitored")
            self._names.add(endpoint.name)
        return self._call(self._core.add, endpoint, rules)

    def remove(self, name: str) -> concurrent.futures.Future[None]:
        """Stop monitoring ``name`` (an in-flight probe of it is cancelled)."""
        with self._guard:
            self._require(name)
            self._names.discard(name)
        return self._call(self._core.remove, name)

    def update(self, endpoint: Endpoint) -> concurrent.futures.Future[None]:
        """Replace the endpoint of the same name; its state and history carry over."""
        rules = self._validate(endpoint)
        self._require(endpoint.name)
        return self._call(self._core.update, endpoint, rules)

    def rename(self, old_name: str, endpoint: Endpoint) -> concurrent.futures.Future[None]:
        """``old_name`` is now called ``endpoint.name``; its state and history carry over."""
        rules = self._validate(endpoint)
        with self._guard:
            self._require(old_name)
            if endpoint.name in self._names:
                raise ValueError(f"an endpoint named {endpoint.name!r} is already monitored")
            self._names.discard(old_name)
            self._names.add(endpoint.name)
        return self._call(self._core.rename, old_name, endpoint, rules)

    def pause(self, name: str) -> concurrent.futures.Future[None]:
        self._require(name)
        return self._call(self._core.set_paused, name, True)

    def resume(self, name: str) -> concurrent.futures.Future[None]:
        """Resume: probe at once, start again from PENDING."""
        self._require(name)
        return self._call(self._core.set_paused, name, False)

    def pause_all(self) -> concurrent.futures.Future[None]:
        return self._call(self._core.set_paused_all, True)

    def resume_all(self) -> concurrent.futures.Future[None]:
        return self._call(self._core.set_paused_all, False)

    def acknowledge(self, name: str, by: str, reason: str) -> concurrent.futures.Future[None]:
        """``by`` has ``name`` in hand: its alerts stop while its probes go on, until it is
        UP again. Kept in the history (it survives a restart); announced as Acknowledged."""
        self._require(name)
        return self._call(self._core.acknowledge, name, by, reason)

    def probe_now(self, name: str) -> concurrent.futures.Future[None]:
        """Probe ``name`` as soon as the cap allows (a no-op while one is in flight)."""
        self._require(name)
        return self._call(self._core.probe_now, name)

    # ================================================================== reading (any thread)

    def snapshot(self) -> dict[str, EndpointStatus]:
        """The status of every endpoint, as of now (a copy; the values are frozen)."""
        with self._guard:
            return dict(self._statuses)

    def stats(self) -> EngineStats:
        """Probe count, in-flight probes, skipped slots and lateness percentiles."""
        return self._core.stats()

    # ================================================================== plumbing

    @staticmethod
    def _validate(endpoint: Endpoint) -> MonitorRules:
        if endpoint.interval <= 0 or endpoint.timeout <= 0:
            raise ValueError(f"{endpoint.name}: interval and timeout must be positive")
        return rules_for(endpoint)

    def _require(self, name: str) -> None:
        if name not in self._names:
            raise KeyError(f"no monitored endpoint named {name!r}")

    def _call(self, fn: Callable[..., None], *args: Any) -> concurrent.futures.Future[None]:
        """Run ``fn(*args)`` on the engine thread: posted to its loop from other threads, at
        once from a listener on the engine thread (so waiting on the Future cannot deadlock)
        or when the engine is not running."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            try:
                fn(*args)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)

        loop = self._loop
        on_engine_thread = threading.current_thread() is self._thread
        if loop is not None and self.running and not on_engine_thread:
            try:
                loop.call_soon_threadsafe(run)
                return future
            except RuntimeError:  # closed between the check and the call
                pass
        run()
        return future

    def _resolve_defaults(self) -> None:
        if self.workers:
            self._core.probing = self._worker_pool()
            return
        if self._probe_fn is None:
            if self._prober is None:
                from gatewatch.probe import Prober

                self._prober = Prober()
            self._probe_fn = self._prober.probe
            if self._warm_up_fn is None:
                self._warm_up_fn = self._prober.warm_up
        # Imported here: a board or watch probing in workers never loads diagnose itself.
        from gatewatch.monitor.runners import ProbeRunners

        # annotate None: each runner's incremental Diagnoser (gatewatch.diagnose.incremental).
        self._core.probing = ProbeRunners(
            probe=self._probe_fn,
            emit=self._core.on_outcome,
            annotate=self._annotate_fn,
            concurrency=self.concurrency,
            jitter=self._jitter,
            rng=random.Random(self._seed),
            deadline_grace=self._deadline_grace,
            clock=self._clock,
        )

    def _worker_pool(self) -> Probing:
        from gatewatch.monitor.workers import WorkerPool, WorkerSettings

        environ = getattr(self._prober, "environ", None)
        settings = WorkerSettings(
            concurrency=max(1, -(-self.concurrency // self.workers)),  # the cap, shared out
            jitter=self._jitter,
            seed=self._seed,
            deadline_grace=self._deadline_grace,
            environ=None if environ is None or environ is os.environ else dict(environ),
        )
        return WorkerPool(
            self.workers,
            settings,
            emit=self._core.on_outcome,
            on_restart=self._worker_restarted,
            stall_timeout=self.worker_stall_timeout,
        )

    def worker_pids(self) -> list[int]:
        """The process ids of the worker processes (empty when probing in this process)."""
        pids = getattr(self._core.probing, "pids", None)
        return list(pids()) if pids is not None else []

    def _worker_restarted(self, worker: int, keys: Sequence[int], reason: str) -> None:
        names = tuple(sorted(self._core.endpoints_of(keys)))
        log.warning(
            "probe worker %d %s; restarting it for %d endpoints", worker, reason, len(names)
        )
        self._publish(WorkerRestarted(worker, names, reason))

    def _thread_main(self) -> None:
        loop = self._loop_factory()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # start() re-raises it when it happens before ready
            self._crash = exc
            log.exception("monitor engine crashed")
        finally:
            self._ready.set()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        self.history.set_listener(self._history_failed, self._history_restored)
        if self._warm_up_fn is not None:
            try:
                await self._warm_up_fn()
            except Exception:
                log.exception("probe warm-up failed; probing anyway")
        running = asyncio.get_running_loop().create_task(self._core.run(self._stopping))
        await asyncio.sleep(0)  # let the core take its loop before commands arrive
        self._ready.set()
        try:
            await running
        finally:
            await self._dispatcher.drain(self.alert_grace)
            closer = getattr(self._prober, "aclose", None)
            if closer is not None:
                try:
                    await closer()
                except Exception:
                    log.exception("closing the prober")

    def _publish(self, message: Message) -> None:
        for callback in self._listeners:
            try:
                callback(message)
            except Exception:
                log.exception("monitor listener raised on %s", type(message).__name__)

    def _set_status(self, name: str, status: EndpointStatus | None) -> None:
        with self._guard:
            if status is None:
                self._statuses.pop(name, None)
            else:
                self._statuses[name] = status

    def _history_failed(self, reason: str) -> None:
        """From any thread (the history's writer): hand over to the engine thread."""
        self._publish_from_any_thread(HistoryUnavailable(reason))

    def _history_restored(self, reason: str, written_back: int) -> None:
        self._publish_from_any_thread(HistoryRestored(reason, written_back))

    def _publish_from_any_thread(self, message: Message) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._publish, message)
                return
        self._publish(message)

    def _alert_failed(self, sink: str, reason: str, count: int = 1) -> None:
        log.warning("alert sink %s failed: %s", sink, reason)
        self._publish(AlertFailed(sink, reason, undelivered=count))

    def alert_tallies(self) -> dict[str, Tally]:
        """Per alert sink: alerts delivered alone, in digests, failed and dropped so far."""
        return self._dispatcher.tallies()
