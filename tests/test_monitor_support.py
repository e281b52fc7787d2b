"""Helpers shared by the monitor tests: results built by hand, fake probes, waiting."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable
from datetime import UTC, datetime

from gatewatch.model import HOP_NAMES, Cause, Endpoint, Hop, HopName, ProbeResult, Verdict
from gatewatch.monitor.events import Message

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def ok_result(name: str = "shop", at: datetime = T0, total_ms: float = 10.0) -> ProbeResult:
    return ProbeResult(
        name=name,
        url=f"http://{name}.test/",
        started_at=at,
        hops=tuple(Hop(name=h, status="ok", ms=1.0) for h in HOP_NAMES),
        total_ms=total_ms,
        verdict=Verdict("healthy", None, None, None, 1.0, "healthy"),
    )


def fail_result(
    name: str = "shop", at: datetime = T0, hop: HopName = "upstream", kind: str = "http_500"
) -> ProbeResult:
    hops = []
    failed = False
    for h in HOP_NAMES:
        if failed:
            hops.append(Hop(name=h, status="skip"))
        elif h == hop:
            hops.append(Hop(name=h, status="fail", ms=2.0, error=f"{h} broke", kind=kind))
            failed = True
        else:
            hops.append(Hop(name=h, status="ok", ms=1.0))
    causes: dict[HopName, Cause] = {"dns": "dns", "tcp": "network", "upstream": "backend"}
    cause = causes.get(hop, "unknown")
    return ProbeResult(
        name=name,
        url=f"http://{name}.test/",
        started_at=at,
        hops=tuple(hops),
        total_ms=5.0,
        verdict=Verdict(cause, kind, hop, None, 0.8, f"{hop} failed: {kind}"),
    )


def warn_result(name: str = "shop", at: datetime = T0) -> ProbeResult:
    hops = tuple(
        Hop(name=h, status="warn" if h == "tls" else "ok", ms=1.0, error="expires in 3 days")
        for h in HOP_NAMES
    )
    return ProbeResult(name=name, url=f"http://{name}.test/", started_at=at, hops=hops, total_ms=9)


def endpoint(
    name: str = "shop", interval: float = 0.2, timeout: float = 1.0, **extra: object
) -> Endpoint:
    return Endpoint(
        name=name, url=f"http://{name}.test/", interval=interval, timeout=timeout, extra=extra
    )


def identity(result: ProbeResult, history: list[ProbeResult]) -> ProbeResult:
    return result


class FakeProbe:
    """A probe function: ``behaviour(endpoint) -> (delay s, result factory)`` per endpoint.

    Records start and end times (loop clock) per endpoint, and the peak concurrency.
    """

    def __init__(self, delay: float = 0.0, failing: set[str] | None = None) -> None:
        self.delay: dict[str, float] = {}
        self.default_delay = delay
        self.failing = failing if failing is not None else set()
        self.starts: dict[str, list[float]] = {}
        self.ends: dict[str, list[float]] = {}
        self.active: dict[str, int] = {}
        self.overlaps = 0
        self.running = 0
        self.peak = 0

    async def __call__(self, ep: Endpoint) -> ProbeResult:
        loop = asyncio.get_running_loop()
        self.starts.setdefault(ep.name, []).append(loop.time())
        self.active[ep.name] = self.active.get(ep.name, 0) + 1
        if self.active[ep.name] > 1:
            self.overlaps += 1
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(self.delay.get(ep.name, self.default_delay))
        finally:
            self.running -= 1
            self.active[ep.name] -= 1
            self.ends.setdefault(ep.name, []).append(loop.time())
        now = datetime.now(UTC)
        if ep.name in self.failing:
            return fail_result(ep.name, now, hop="tcp", kind="refused")
        return ok_result(ep.name, now)


def drain(inbox: queue.SimpleQueue[Message]) -> list[Message]:
    out = []
    while True:
        try:
            out.append(inbox.get_nowait())
        except queue.Empty:
            return out


def wait_for(
    inbox: queue.SimpleQueue[Message],
    predicate: Callable[[Message], bool],
    timeout: float = 5.0,
    seen: list[Message] | None = None,
) -> Message:
    """The first message matching ``predicate`` (others are appended to ``seen``)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching message within {timeout}s; saw {seen!r}"[:2000])
        try:
            message = inbox.get(timeout=remaining)
        except queue.Empty:
            continue
        if seen is not None:
            seen.append(message)
        if predicate(message):
            return message


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, every: float = 0.01) -> None:
    """Until ``condition()`` holds, for state no event announces (a background prune).

    ``timeout`` only bounds a broken test: a loaded machine merely makes this take longer.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)
