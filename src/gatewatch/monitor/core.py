"""The engine's state half: slots, what happens to an outcome, housekeeping.

Everything here runs on the engine thread (or before the engine starts, when nothing else
does), so none of it needs a lock except the few numbers :meth:`EngineCore.stats` reads from
other threads. :mod:`gatewatch.monitor.engine` owns the thread and the public API.

The probing half — schedules, runner tasks, the probe and its diagnosis — is a
:class:`~gatewatch.monitor.runners.ProbeRunners` on this thread, or a
:class:`~gatewatch.monitor.workers.WorkerPool` of processes running one each; both take
the same commands (by slot key) and hand back :class:`~gatewatch.monitor.runners.Outcome`
records to :meth:`EngineCore.on_outcome`. What an outcome costs here is the state
machine, a queue put for the history, one frozen message and the alert check: nothing
slow sits on the probe path, and nothing allocated that nobody reads.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from gatewatch.model import Endpoint, ProbeResult
from gatewatch.monitor import state as machine
from gatewatch.monitor.acks import Ack
from gatewatch.monitor.events import Acknowledged, Message, ProbeCompleted
from gatewatch.monitor.history import History
from gatewatch.monitor.local import LocalDetector
from gatewatch.monitor.notify import Notifier
from gatewatch.monitor.settings import MonitorRules
from gatewatch.monitor.stats import EngineStats, LatenessRecorder
from gatewatch.monitor.status import EndpointStatus, Slot

if TYPE_CHECKING:
    from gatewatch.monitor.runners import Outcome

log = logging.getLogger(__name__)

ResolverCheck = Callable[[Sequence[str], Sequence[str]], Awaitable[str | None]]
StatusSink = Callable[[str, EndpointStatus | None], None]


class Probing(Protocol):
    """The probing half, by slot key: ProbeRunners in-thread, or a WorkerPool."""

    @property
    def in_flight(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    def start(self) -> None: ...
    async def stop(self, grace: float = 5.0) -> None: ...
    def add(self, key: int, endpoint: Endpoint, *, paused: bool = False) -> None: ...
    def remove(self, key: int) -> None: ...
    def update(self, key: int, endpoint: Endpoint) -> None: ...
    def set_paused(self, key: int, paused: bool) -> None: ...
    def probe_now(self, key: int) -> None: ...


class EngineCore:
    """Slots and what their outcomes do. Engine thread only (see the module docstring)."""

    def __init__(
        self,
        *,
        history: History,
        notifier: Notifier,
        local: LocalDetector,
        publish: Callable[[Message], None],
        on_status: StatusSink,
        clock: Callable[[], datetime],
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
        self.resolver_check = resolver_check
        self.resolver_check_interval = resolver_check_interval
        self.housekeeping_interval = housekeeping_interval
        #: Set by the engine before :meth:`run`.
        self.probing: Probing | None = None
        self.slots: dict[str, Slot] = {}
        self.by_key: dict[int, Slot] = {}
        self._keys = itertools.count(1)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._lateness = LatenessRecorder()
        self._lateness_lock = threading.Lock()

    # ================================================================== running

    async def run(self, stopping: asyncio.Event) -> None:
        """Start the probing half and the chores; on ``stopping``, stop them all."""
        assert self.probing is not None
        self.loop = asyncio.get_running_loop()
        self._restore_acks()
        self.housekeeping()  # maintenance windows open before the first probe
        for slot in self.slots.values():  # added before the engine ran
            self.probing.add(slot.key, slot.endpoint, paused=slot.tracker.paused)
        self.probing.start()
        chores = self.loop.create_task(self._chores())
        try:
            await stopping.wait()
        finally:
            chores.cancel()
            await self.probing.stop()
            self.loop = None

    def stats(self) -> EngineStats:
        """Any thread."""
        with self._lateness_lock:
            p50, p95, p99, worst = self._lateness.summary()
            count = self._lateness.count
        probing = self.probing
        return EngineStats(
            probes=count,
            in_flight=probing.in_flight if probing is not None else 0,
            skipped_slots=probing.skipped if probing is not None else 0,
            lateness_p50_ms=p50,
            lateness_p95_ms=p95,
            lateness_p99_ms=p99,
            lateness_max_ms=worst,
        )

    # ================================================================== commands

    def add(self, endpoint: Endpoint, rules: MonitorRules) -> None:
        if endpoint.name in self.slots:
            raise ValueError(f"an endpoint named {endpoint.name!r} is already monitored")
        slot = Slot(endpoint=endpoint, rules=rules, key=next(self._keys))
        self.slots[slot.name] = slot
        self.by_key[slot.key] = slot
        if self.loop is not None:
            self._tick(slot, self.clock())
        if self.probing is not None and self.loop is not None:
            self.probing.add(slot.key, endpoint)
        self._status(slot)

    def remove(self, name: str) -> None:
        if self.slots[name].ack is not None:
            self._unack(self.slots[name], "no longer monitored")
        slot = self.slots.pop(name)
        del self.by_key[slot.key]
        if self.probing is not None and self.loop is not None:
            self.probing.remove(slot.key)
        self.on_status(name, None)
        self.notifier.forget(name)
        if self.loop is not None:
            self.notifier.local(self.local.forget(name, self.loop.time()), self.slots)

    def update(self, endpoint: Endpoint, rules: MonitorRules) -> None:
        """Replace the endpoint of the same name; state and history carry over."""
        slot = self.slots[endpoint.name]
        slot.endpoint, slot.rules = endpoint, rules
        if self.probing is not None and self.loop is not None:
            self.probing.update(slot.key, endpoint)
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
        if self.loop is not None and paused:
            self.notifier.local(self.local.forget(name, self.loop.time()), self.slots)
        if self.probing is not None and self.loop is not None:
            self.probing.set_paused(slot.key, paused)

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
        if self.probing is not None and self.loop is not None:
            self.probing.probe_now(slot.key)

    def endpoints_of(self, keys: Sequence[int]) -> list[str]:
        """The names of the slots with these keys (those still monitored)."""
        return [slot.name for key in keys if (slot := self.by_key.get(key)) is not None]

    # ================================================================== outcomes

    def on_outcome(self, outcome: Outcome) -> None:
        """One probe's outcome from the probing half (engine thread)."""
        slot = self.by_key.get(outcome.key)
        if slot is None or slot.tracker.paused:
            return  # paused or removed while the probe was in flight
        try:
            self._completed(slot, outcome.result, outcome.lateness_ms)
        except Exception:  # a bug here must not end this endpoint's monitoring
            log.exception("handling a probe of %s failed", slot.name)

    def _completed(self, slot: Slot, result: ProbeResult, lateness_ms: float) -> None:
        if result.name != slot.name:  # renamed while in flight: file it under the new name
            result = result.replace(name=slot.name)
        assessment = machine.assess(
            result, recent_ms=slot.recent_ok_ms, slow_factor=slot.rules.slow_factor
        )
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


__all__ = ["EngineCore", "Probing", "ResolverCheck"]
