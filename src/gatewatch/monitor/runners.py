"""The probing half of the engine: a runner task per endpoint, its grid, the cap, diagnosis.

Why a half of its own: this is the part that burns CPU (TLS handshakes, parsing, the
rules), so it is the part that moves into worker processes when one core is not enough
(:mod:`gatewatch.monitor.workers`). It knows nothing of states, history or alerts; it
turns endpoints into :class:`Outcome` records and hands each to ``emit``. The same class
runs on the engine thread (``workers=0``) and inside every worker process, unchanged.

Why a runner task per endpoint: it awaits its own probe, so probes of one endpoint never
overlap and a hanging endpoint only holds up itself. All probes here share one semaphore
(the concurrency cap). Each probe runs under a backstop deadline (the endpoint's timeout
plus ``deadline_grace``) in case a probe function ignores its own.

Endpoints are known by an integer *key* that the engine gives them and that survives a
rename, so an outcome in flight during a rename or a remove-and-add is never misfiled.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import overload

from gatewatch.diagnose.incremental import Diagnoser
from gatewatch.model import Endpoint, ProbeResult
from gatewatch.monitor.recent import Packed, pack_for_history, unpack_history
from gatewatch.monitor.schedule import Schedule
from gatewatch.monitor.settings import rules_for
from gatewatch.monitor.status import engine_failure

log = logging.getLogger(__name__)

ProbeFn = Callable[[Endpoint], Awaitable[ProbeResult]]
AnnotateFn = Callable[..., ProbeResult]
#: How many recent (slimmed) results diagnose sees as an endpoint's history.
RECENT = 20
#: Jittered due times sit on this clock, so probes due close together start in one turn
#: of the loop (see gatewatch.monitor.schedule).
QUANTUM_SECONDS = 0.02
#: After a failure that has not yet made the endpoint DOWN (fewer than ``down_after`` in
#: a row), the next probe comes this soon instead of at the next slot of the grid.
CONFIRM_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """One finished probe, annotated: what crosses from a runner to the engine.

    Immutable and small: the key instead of the endpoint, the result, and the lateness.
    """

    key: int
    result: ProbeResult
    #: Actual start − scheduled start, ms (monotonic clock, the same in every process).
    lateness_ms: float


@dataclass(eq=False)
class Runner:
    """One endpoint's probing state. Owned by :class:`ProbeRunners`, on its loop only."""

    key: int
    endpoint: Endpoint
    paused: bool = False
    #: The endpoint's ``debug_requests`` rule: ask the gateway after a failure.
    debug_requests: bool = False
    #: The endpoint's ``down_after`` rule, and its failures in a row as probed here.
    down_after: int = 2
    failures: int = 0
    schedule: Schedule | None = None
    #: Annotated results, oldest first, packed (:func:`pack_for_history`): diagnose's
    #: history, unpacked only when a full diagnosis reads it.
    recent: deque[Packed] = field(default_factory=lambda: deque(maxlen=RECENT))
    diagnoser: Diagnoser = field(default_factory=Diagnoser)
    task: asyncio.Task[None] | None = None
    #: Resolved to wake the runner early (probe now, reschedule, resume).
    waiter: asyncio.Future[bool] | None = None
    forced: bool = False
    in_flight: bool = False
    #: Bumped whenever the schedule is re-anchored, so a probe in flight does not advance it.
    generation: int = 0

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(False)


class ProbeRunners:
    """Every runner of one loop, and the cap they share. That loop's thread only."""

    def __init__(
        self,
        *,
        probe: ProbeFn,
        emit: Callable[[Outcome], None],
        annotate: AnnotateFn | None = None,
        concurrency: int = 100,
        jitter: float = 0.1,
        rng: random.Random | None = None,
        deadline_grace: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.probe = probe
        self.emit = emit
        #: None: the incremental Diagnoser (see gatewatch.diagnose.incremental).
        self.annotate = annotate
        self.concurrency = concurrency
        self.jitter = jitter
        self.rng = rng or random.Random()
        self.deadline_grace = deadline_grace
        self.clock = clock
        self.runners: dict[int, Runner] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.semaphore: asyncio.Semaphore | None = None
        self.in_flight = 0
        self.skipped = 0

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Launch every runner on the running loop (each probes at once, then on its grid)."""
        self.loop = asyncio.get_running_loop()
        self.semaphore = asyncio.Semaphore(self.concurrency)
        for runner in self.runners.values():
            self._launch(runner)

    async def stop(self, grace: float = 5.0) -> None:
        """Cancel every runner (in-flight probes included) and wait for them, bounded."""
        tasks = [r.task for r in self.runners.values() if r.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        self.loop = None

    # ------------------------------------------------------------------ commands

    def add(self, key: int, endpoint: Endpoint, *, paused: bool = False) -> None:
        if key in self.runners:
            raise ValueError(f"runner {key} exists")
        runner = Runner(key, endpoint, paused=paused)
        _take_rules(runner, endpoint)
        self.runners[key] = runner
        if self.loop is not None:
            self._launch(runner)

    def remove(self, key: int) -> None:
        runner = self.runners.pop(key, None)
        if runner is not None and runner.task is not None:
            runner.task.cancel()

    def update(self, key: int, endpoint: Endpoint) -> None:
        """A changed endpoint (a rename too): same runner, same grid unless the interval moved."""
        runner = self.runners[key]
        interval_changed = endpoint.interval != runner.endpoint.interval
        runner.endpoint = endpoint
        _take_rules(runner, endpoint)
        if interval_changed and runner.schedule is not None and self.loop is not None:
            runner.schedule.reanchor(endpoint.interval, self.loop.time())
            runner.generation += 1
            runner.wake()

    def set_paused(self, key: int, paused: bool) -> None:
        runner = self.runners[key]
        if runner.paused == paused:
            return
        runner.paused = paused
        if not paused and self.loop is not None and runner.schedule is not None:
            # Probe at once, then every interval from now.
            runner.schedule.reanchor(runner.endpoint.interval, self.loop.time(), spread=False)
            runner.generation += 1
        runner.wake()

    def probe_now(self, key: int) -> None:
        """Probe as soon as the cap allows; a no-op while a probe of it is in flight."""
        runner = self.runners[key]
        if not runner.in_flight:
            runner.forced = True
            runner.wake()

    # ------------------------------------------------------------------ the runner

    def _launch(self, runner: Runner) -> None:
        assert self.loop is not None
        if runner.schedule is None:
            runner.schedule = Schedule(
                runner.endpoint.interval,
                self.loop.time(),
                jitter=self.jitter,
                rng=self.rng,
                first_now=True,
                quantum=QUANTUM_SECONDS,
            )
        runner.task = self.loop.create_task(self._run(runner), name=f"probe:{runner.key}")

    async def _run(self, runner: Runner) -> None:
        """Probe one endpoint forever, on its grid; never two probes of it at once."""
        loop = asyncio.get_running_loop()
        schedule = runner.schedule
        assert schedule is not None
        while True:
            if runner.paused:
                await _park(runner, None)
                continue
            due_later = not runner.forced and schedule.due > loop.time()
            if due_later and not await _park(runner, schedule.due):
                continue  # woken early: look at the flags again
            forced = runner.forced and schedule.due > loop.time()
            runner.forced = False
            scheduled = loop.time() if forced else schedule.due
            generation = runner.generation
            try:
                await self._probe_once(runner, scheduled)
            except Exception:  # a bug downstream must not end this endpoint's monitoring
                log.exception("handling a probe of %s failed", runner.endpoint.name)
            if generation != runner.generation:
                continue  # re-anchored while probing: the new grid stands as it is
            if not forced or schedule.due <= loop.time():
                before = schedule.skipped
                schedule.advance(loop.time())
                self.skipped += schedule.skipped - before
            if 0 < runner.failures < runner.down_after:
                # Not DOWN yet: confirm soon rather than a whole interval later, so a
                # dead endpoint shows DOWN in seconds (issue 14 §3), then back to the grid.
                schedule.insert(loop.time() + CONFIRM_SECONDS)

    async def _probe_once(self, runner: Runner, scheduled: float) -> None:
        loop = asyncio.get_running_loop()
        assert self.semaphore is not None
        async with self.semaphore:
            lateness_ms = (loop.time() - scheduled) * 1000
            endpoint = runner.endpoint
            started_at = self.clock()
            runner.in_flight = True
            self.in_flight += 1
            annotate = False
            try:
                async with asyncio.timeout(endpoint.timeout + self.deadline_grace):
                    result = await self.probe(endpoint)
                    if runner.debug_requests:  # opted in: ask the gateway (issue 17 §2)
                        from gatewatch.monitor.followup import ask_gateway

                        result = await ask_gateway(
                            self.probe, endpoint, result, deadline_s=endpoint.timeout
                        )
                annotate = True
            except TimeoutError:
                error = f"probe did not finish within its {endpoint.timeout:g}s deadline"
                result = engine_failure(endpoint, started_at, "deadline", error)
            except ValueError as exc:  # ProbeSetupError: bad URL, unset env: secret …
                result = engine_failure(endpoint, started_at, "config_error", str(exc))
            except Exception as exc:
                log.exception("probe of %s crashed", endpoint.name)
                error = f"probe crashed ({type(exc).__name__})"
                result = engine_failure(endpoint, started_at, "probe_error", error)
            finally:
                runner.in_flight = False
                self.in_flight -= 1
        if runner.paused or self.runners.get(runner.key) is not runner:
            return  # paused or removed while the probe was in flight
        if annotate:
            result = self._annotate(result, runner)
        recent = runner.recent
        recent.append(pack_for_history(result, recent[-1] if recent else None))
        runner.failures = 0 if result.ok else runner.failures + 1
        self.emit(Outcome(runner.key, result, lateness_ms))

    def _annotate(self, result: ProbeResult, runner: Runner) -> ProbeResult:
        try:
            history = _History(runner.recent)
            if self.annotate is None:
                return runner.diagnoser.annotate(result, history)
            return self.annotate(result, history=list(history))
        except Exception:
            log.exception("diagnosis of %s failed; keeping the raw result", runner.endpoint.name)
            return result


def _take_rules(runner: Runner, endpoint: Endpoint) -> None:
    """The rules a runner acts on (validated when the engine added the endpoint)."""
    try:
        rules = rules_for(endpoint)
    except ValueError:
        return
    runner.debug_requests, runner.down_after = rules.debug_requests, rules.down_after


class _History(Sequence[ProbeResult]):
    """A runner's packed recent results, unpacked only if diagnose reads them."""

    def __init__(self, packed: deque[Packed]) -> None:
        self._packed = packed

    def __len__(self) -> int:
        return len(self._packed)

    @overload
    def __getitem__(self, index: int) -> ProbeResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[ProbeResult]: ...
    def __getitem__(self, index: int | slice) -> ProbeResult | Sequence[ProbeResult]:
        if isinstance(index, slice):
            return [unpack_history(p) for p in list(self._packed)[index]]
        return unpack_history(self._packed[index])


async def _park(runner: Runner, when: float | None) -> bool:
    """Sleep until ``when`` (or until woken); True when the time came."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[bool] = loop.create_future()
    runner.waiter = waiter
    handle = loop.call_at(when, _resolve, waiter) if when is not None else None
    try:
        return await waiter
    finally:
        runner.waiter = None
        if handle is not None:
            handle.cancel()


def _resolve(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(True)


__all__ = ["AnnotateFn", "Outcome", "ProbeFn", "ProbeRunners", "Runner"]
