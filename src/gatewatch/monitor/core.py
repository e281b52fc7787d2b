"""The engine's insides: slots, runner tasks, what happens to a result, housekeeping.

Everything here runs on the engine thread (or before the engine starts, when nothing else
does), so none of it needs a lock except the few numbers :meth:`EngineCore.stats` reads from
other threads. :mod:`gatewatch.monitor.engine` owns the thread and the public API.

Why a runner task per endpoint: it awaits its own probe, so probes of one endpoint never
overlap and a hanging endpoint only holds up itself. All probes share one semaphore (the
concurrency cap). Each probe runs under a backstop deadline (the endpoint's timeout plus
``deadline_grace``) in case a probe function ignores its own. History writes, listeners and
alerts are a queue put, a call and a task: nothing slow sits on the probe path.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from gatewatch.model import Endpoint, ProbeResult
from gatewatch.monitor import state as machine
from gatewatch.monitor.acks import Ack
from gatewatch.monitor.events import Acknowledged, Message, ProbeCompleted
from gatewatch.monitor.history import History
from gatewatch.monitor.local import LocalDetector
from gatewatch.monitor.notify import Notifier
from gatewatch.monitor.schedule import Schedule
from gatewatch.monitor.settings import MonitorRules
from gatewatch.monitor.stats import EngineStats, LatenessRecorder
from gatewatch.monitor.status import EndpointStatus, Slot, engine_failure

log = logging.getLogger(__name__)

ProbeFn = Callable[[Endpoint], Awaitable[ProbeResult]]
AnnotateFn = Callable[..., ProbeResult]
ResolverCheck = Callable[[Sequence[str], Sequence[str]], Awaitable[str | None]]
StatusSink = Callable[[str, EndpointStatus | None], None]


class EngineCore:
    """Slots and their runners. Engine thread only (see the module docstring)."""

    def __init__(
        self,
        *,
        history: History,
        notifier: Notifier,
        local: LocalDetector,
        publish: Callable[[Message], None],
        on_status: StatusSink,
        clock: Callable[[], datetime],
        jitter: float,
        rng: random.Random,
        deadline_grace: float,
        resolver_check: ResolverCheck | None,
        resolver_check_interval: float,
        housekeeping_interval: float,
    ) -> None:
        self.history = history
        self.notifier = notifier
        self.local = local
        self.publish = publish
        self.on_status = on_status
        self.clock = clock
        self.jitter = jitter
        self.rng = rng
        self.deadline_grace = deadline_grace
        self.resolver_check = resolver_check
        self.resolver_check_interval = resolver_check_interval
        self.housekeeping_interval = housekeeping_interval
        #: Set by the engine before :meth:`run`.
        self.probe: ProbeFn | None = None
        self.annotate: AnnotateFn | None = None
        self.slots: dict[str, Slot] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.semaphore: asyncio.Semaphore | None = None
        self._lateness = LatenessRecorder()
        self._lateness_lock = threading.Lock()
        self._in_flight = 0
        self._skipped = 0

    # ================================================================== running

    async def run(self, concurrency: int, stopping: asyncio.Event) -> None:
        """Launch every runner and the chores; on ``stopping``, cancel them all."""
        self.loop = asyncio.get_running_loop()
        self.semaphore = asyncio.Semaphore(concurrency)
        self._restore_acks()
        self.housekeeping()  # maintenance windows open before the first probe
        for slot in self.slots.values():
            self._launch(slot)
        chores = self.loop.create_task(self._chores())
        try:
            await stopping.wait()
        finally:
            chores.cancel()
            tasks = [s.task for s in self.slots.values() if s.task is not None]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=5.0)
            self.loop = None

    def stats(self) -> EngineStats:
        """Any thread."""
        with self._lateness_lock:
            p50, p95, p99, worst = self._lateness.summary()
            count = self._lateness.count
        return EngineStats(
            probes=count,
            in_flight=self._in_flight,
            skipped_slots=self._skipped,
            lateness_p50_ms=p50,
            lateness_p95_ms=p95,
            lateness_p99_ms=p99,
            lateness_max_ms=worst,
        )

    # ================================================================== commands

    def add(self, endpoint: Endpoint, rules: MonitorRules) -> None:
        if endpoint.name in self.slots:
            raise ValueError(f"an endpoint named {endpoint.name!r} is already monitored")
        slot = Slot(endpoint=endpoint, rules=rules)
        self.slots[slot.name] = slot
        if self.loop is not None:
            self._tick(slot, self.clock())
            self._launch(slot)
        self._status(slot)

    def remove(self, name: str) -> None:
        if self.slots[name].ack is not None:
            self._unack(self.slots[name], "no longer monitored")
        slot = self.slots.pop(name)
        if slot.task is not None:
            slot.task.cancel()
        self.on_status(name, None)
        self.notifier.forget(name)
        if self.loop is not None:
            self.notifier.local(self.local.forget(name, self.loop.time()), self.slots)

    def update(self, endpoint: Endpoint, rules: MonitorRules) -> None:
        """Replace the endpoint of the same name; state and history carry over."""
        slot = self.slots[endpoint.name]
        interval_changed = endpoint.interval != slot.endpoint.interval
        slot.endpoint, slot.rules = endpoint, rules
        if interval_changed and slot.schedule is not None and self.loop is not None:
            slot.schedule.reanchor(endpoint.interval, self.loop.time())
            slot.generation += 1
            slot.wake()
        self._status(slot)

    def rename(self, old_name: str, endpoint: Endpoint, rules: MonitorRules) -> None:
        """``old_name`` becomes ``endpoint`` (a new name): state, recent results, schedule
        and stored history carry over, as for :meth:`update`."""
        if endpoint.name in self.slots:
            raise ValueError(f"an endpoint named {endpoint.name!r} is already monitored")
        slot = self.slots.pop(old_name)
        self.on_status(old_name, None)
        self.notifier.forget(old_name)
        if self.loop is not None:
            self.notifier.local(self.local.forget(old_name, self.loop.time()), self.slots)
        self.slots[endpoint.name] = slot
        self.history.rename_endpoint(old_name, endpoint.name)
        if slot.ack is not None:  # the acknowledgement follows the endpoint too
            slot.ack = replace(slot.ack, endpoint=endpoint.name)
            self.notifier.acked.add(endpoint.name)
        self.update(endpoint, rules)

    def set_paused(self, name: str, paused: bool) -> None:
        slot = self.slots[name]
        self._apply(slot, machine.set_paused(slot.tracker, paused, self.clock(), name=name))
        if self.loop is not None and slot.schedule is not None:
            if paused:
                self.notifier.local(self.local.forget(name, self.loop.time()), self.slots)
            else:  # probe at once, then every interval from now
                slot.schedule.reanchor(slot.endpoint.interval, self.loop.time(), spread=False)
                slot.generation += 1
        slot.wake()

    def set_paused_all(self, paused: bool) -> None:
        for name in list(self.slots):
            self.set_paused(name, paused)

    # ================================================================== acknowledgements

    def acknowledge(self, name: str, by: str, reason: str) -> None:
        """``by`` has ``name`` in hand: its alerts stop, its probes go on, until it is UP."""
        slot = self.slots[name]
        ack = Ack(endpoint=name, by=by, reason=reason, at=self.clock())
        if slot.ack is not None:
            self.history.clear_ack(name, ack.at, f"acknowledged again by {by}")
        slot.ack = ack
        self.notifier.acked.add(name)
        self.history.record_ack(ack)
        self._status(slot)
        self.publish(Acknowledged(ack))

    def _unack(self, slot: Slot, why: str) -> None:
        ack = slot.ack
        if ack is None:
            return
        slot.ack = None
        self.notifier.acked.discard(slot.name)
        self.history.clear_ack(slot.name, self.clock(), why)
        self._status(slot)
        self.publish(Acknowledged(ack, active=False, reason=why))

    def _restore_acks(self) -> None:
        """Acknowledgements kept in the history outlive a restart (read once, at start)."""
        try:
            kept = self.history.open_acks()
        except Exception:  # the history reports its own failures
            log.exception("reading acknowledgements from the history")
            return
        for name, ack in kept.items():
            slot = self.slots.get(name)
            if slot is not None and slot.ack is None:
                slot.ack = ack
                self.notifier.acked.add(name)
                self._status(slot)
                self.publish(Acknowledged(ack))

    def probe_now(self, name: str) -> None:
        """Probe as soon as the cap allows; a no-op while a probe of it is in flight."""
        slot = self.slots[name]
        if not slot.in_flight:
            slot.forced = True
            slot.wake()

    # ================================================================== the runner

    def _launch(self, slot: Slot) -> None:
        assert self.loop is not None
        if slot.schedule is None:
            slot.schedule = Schedule(
                slot.endpoint.interval, self.loop.time(), jitter=self.jitter, rng=self.rng
            )
        slot.task = self.loop.create_task(self._run(slot), name=f"monitor:{slot.name}")

    async def _run(self, slot: Slot) -> None:
        """Probe one endpoint forever, on its grid; never two probes of it at once."""
        loop = asyncio.get_running_loop()
        schedule = slot.schedule
        assert schedule is not None
        while True:
            if slot.tracker.paused:
                await _park(slot, None)
                continue
            due_later = not slot.forced and schedule.due > loop.time()
            if due_later and not await _park(slot, schedule.due):
                continue  # woken early: look at the flags again
            forced = slot.forced and schedule.due > loop.time()
            slot.forced = False
            scheduled = loop.time() if forced else schedule.due
            generation = slot.generation
            try:
                await self._probe_once(slot, scheduled)
            except Exception:  # a bug downstream must not end this endpoint's monitoring
                log.exception("handling a probe of %s failed", slot.name)
            if generation != slot.generation:
                continue  # re-anchored while probing: the new grid stands as it is
            if not forced or schedule.due <= loop.time():
                before = schedule.skipped
                schedule.advance(loop.time())
                self._skipped += schedule.skipped - before

    async def _probe_once(self, slot: Slot, scheduled: float) -> None:
        loop = asyncio.get_running_loop()
        assert self.semaphore is not None and self.probe is not None
        async with self.semaphore:
            lateness_ms = (loop.time() - scheduled) * 1000
            endpoint = slot.endpoint
            started_at = self.clock()
            slot.in_flight = True
            self._in_flight += 1
            annotate = False
            try:
                async with asyncio.timeout(endpoint.timeout + self.deadline_grace):
                    result = await self.probe(endpoint)
                    if slot.rules.debug_requests:  # opted in: ask the gateway (issue 17 §2)
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
                slot.in_flight = False
                self._in_flight -= 1
        self._completed(slot, result, lateness_ms, annotate=annotate)

    # ================================================================== results

    def _completed(
        self, slot: Slot, result: ProbeResult, lateness_ms: float, *, annotate: bool
    ) -> None:
        if slot.tracker.paused or self.slots.get(slot.name) is not slot:
            return  # paused or removed while the probe was in flight
        if annotate:
            result = self._annotate(result, slot)
        recent_ms = [r.total_ms for r in slot.recent if r.ok]
        assessment = machine.assess(result, recent_ms=recent_ms, slow_factor=slot.rules.slow_factor)
        step = machine.observe(
            slot.tracker, result, assessment, slot.rules, self.clock(), name=slot.name
        )
        slot.remember(result)
        slot.probes += 1
        slot.last_lateness_ms = lateness_ms
        with self._lateness_lock:
            self._lateness.add(lateness_ms)
        assert self.loop is not None
        fresh_for = 2 * slot.endpoint.interval + slot.endpoint.timeout
        change = self.local.observe(slot.name, result, self.loop.time(), fresh_for)
        self.notifier.local(change, self.slots)  # before transitions: it may hold them back
        slot.tracker = step.tracker
        shown = step.tracker.shown()
        self._status(slot)
        self.history.record_probe(result, shown, lateness_ms)
        self.publish(ProbeCompleted(slot.name, result, shown, lateness_ms))
        self._announce(slot, step.events)
        self.notifier.settle(slot.name, shown, slot.tracker.verdict, slot.endpoint.url)

    def _annotate(self, result: ProbeResult, slot: Slot) -> ProbeResult:
        assert self.annotate is not None
        try:
            return self.annotate(result, history=list(slot.recent))
        except Exception:
            log.exception("diagnosis of %s failed; keeping the raw result", slot.name)
            return result

    def _apply(self, slot: Slot, step: machine.Step) -> None:
        slot.tracker = step.tracker
        self._status(slot)
        self._announce(slot, step.events)

    def _announce(self, slot: Slot, events: Sequence[machine.TransitionEvent]) -> None:
        for event in events:
            self.history.record_event(event)
            if event.to_state == machine.State.UP:  # an acknowledgement ends with its incident
                self._unack(slot, "UP again")
            self.notifier.transition(event, slot.endpoint.url)

    def _status(self, slot: Slot) -> None:
        self.on_status(slot.name, slot.status())

    # ================================================================== housekeeping

    def _tick(self, slot: Slot, now: datetime) -> None:
        if slot.rules.maintenance or slot.tracker.flapping or slot.tracker.maintenance:
            self._apply(slot, machine.tick(slot.tracker, slot.rules, now, name=slot.name))

    def housekeeping(self) -> None:
        """Maintenance windows, flapping calm-down, stale local-problem evidence."""
        assert self.loop is not None
        now = self.clock()
        for slot in list(self.slots.values()):
            self._tick(slot, now)
        self.notifier.local(self.local.expire(self.loop.time()), self.slots)

    async def _chores(self) -> None:
        loop = asyncio.get_running_loop()
        next_resolver_check = loop.time()
        checking: asyncio.Task[None] | None = None
        while True:
            await asyncio.sleep(self.housekeeping_interval)
            try:
                self.housekeeping()
                if loop.time() >= next_resolver_check and (checking is None or checking.done()):
                    next_resolver_check = loop.time() + self.resolver_check_interval
                    checking = loop.create_task(self._check_resolvers())
            except Exception:
                log.exception("monitor housekeeping failed")

    async def _check_resolvers(self) -> None:
        if self.resolver_check is None:
            return
        resolvers = sorted({r for s in self.slots.values() for r in s.endpoint.resolvers})
        if not resolvers:
            return
        names = sorted(
            {
                host
                for s in self.slots.values()
                if s.endpoint.resolvers and (host := _hostname(s.endpoint.url))
            }
        )
        try:
            failure = await self.resolver_check(resolvers, names)
        except Exception:
            log.exception("resolver check failed")
            return
        if self.loop is not None:
            self.notifier.local(self.local.resolvers(failure, self.loop.time()), self.slots)


async def _park(slot: Slot, when: float | None) -> bool:
    """Sleep until ``when`` (or until woken); True when the time came."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[bool] = loop.create_future()
    slot.waiter = waiter
    handle = loop.call_at(when, _resolve, waiter) if when is not None else None
    try:
        return await waiter
    finally:
        slot.waiter = None
        if handle is not None:
            handle.cancel()


def _resolve(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(True)


def _hostname(url: str) -> str | None:
    """The host of ``url`` if it is a name (IP literals need no resolver)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return None


__all__ = ["AnnotateFn", "EngineCore", "ProbeFn", "ResolverCheck"]
