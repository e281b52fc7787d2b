"""The exporter's behaviour behind its two paths, without any HTTP server.

``await Exporter.probe(query, scrape_timeout)`` and ``Exporter.metrics()`` return an
:class:`Answer` (status, content type, body); ``server.py`` only moves bytes. Probes run on
the serving loop with one :class:`gatewatch.probe.Prober` (SSL contexts and resolvers
shared).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from gatewatch.exporter.collectors import ExporterStats, WatchlistCollector, probe_registry
from gatewatch.exporter.targets import ProbeRequest, Refusal, resolve_probe
from gatewatch.model import Endpoint, ProbeResult
from gatewatch.monitor.status import EndpointStatus

#: Probes running at once; more scrapes wait for a slot (inside their own deadline).
PROBE_CONCURRENCY = 64
#: Beyond the probe's own deadline, how long a handler waits before it calls it internal.
_GRACE = 5.0


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def _text(status: int, message: str) -> Answer:
    return Answer(status, "text/plain; charset=utf-8", (message + "\n").encode())


class Probing:
    """The prober of ``/probe`` scrapes, on the event loop that serves them.

    No thread hand-off: the HTTP server, the probes and the diagnosis share one loop (the
    timings stay exact because every phase ends at the kernel's arrival time of the bytes).
    """

    def __init__(self) -> None:
        from gatewatch.probe import Prober

        self._prober = Prober()
        self._limit = asyncio.Semaphore(PROBE_CONCURRENCY)

    async def start(self) -> None:
        await self._prober.warm_up()

    async def aclose(self) -> None:
        await self._prober.aclose()

    async def probe(self, endpoint: Endpoint) -> tuple[ProbeResult, float]:
        """Probe and diagnose ``endpoint``; (result, seconds the probe took)."""
        from gatewatch.diagnose import annotate

        async with self._limit:
            start = time.perf_counter()
            result = await self._prober.probe(endpoint)
            duration = time.perf_counter() - start
        return annotate(result), duration


class Exporter:
    """``/probe`` and ``/metrics`` as functions of their inputs."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        allow_any_target: bool = False,
        probe: Callable[[Endpoint], Awaitable[tuple[ProbeResult, float]]],
        snapshot: Callable[[], Mapping[str, EndpointStatus]] | None = None,
    ) -> None:
        self.endpoints = tuple(endpoints)
        self.allow_any_target = allow_any_target
        self._probe = probe
        self.stats = ExporterStats()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.stats)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        if snapshot is not None:
            self.registry.register(WatchlistCollector(snapshot))

    async def probe(self, query: str, scrape_timeout: str | None) -> Answer:
        params = parse_qs(query, keep_blank_values=True)
        decision = resolve_probe(
            next(iter(params.get("target", ())), None),
            next(iter(params.get("module", ())), None),
            scrape_timeout,
            self.endpoints,
            allow_any_target=self.allow_any_target,
        )
        if isinstance(decision, Refusal):
            self.stats.error(decision.reason)
            return _text(decision.status, decision.message)
        return await self._run(decision)

    async def _run(self, request: ProbeRequest) -> Answer:
        try:
            async with asyncio.timeout(request.endpoint.timeout + _GRACE):
                result, duration = await self._probe(request.endpoint)
        except Exception as exc:  # a bug or a stuck probe: say so, never hang the scrape
            self.stats.error("internal")
            return _text(500, f"probe failed inside gatewatch: {type(exc).__name__}")
        self.stats.probe_served(result.ok)
        body = generate_latest(probe_registry(result, request.endpoint, duration))
        return Answer(200, CONTENT_TYPE_LATEST, body)

    def metrics(self) -> Answer:
        return Answer(200, CONTENT_TYPE_LATEST, generate_latest(self.registry))
