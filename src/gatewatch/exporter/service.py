"""The exporter's behaviour behind its two paths, without any HTTP server.

``Exporter.probe(query, scrape_timeout)`` and ``Exporter.metrics()`` return an
:class:`Answer` (status, content type, body); ``server.py`` only moves bytes. Probes run on
one asyncio loop in its own thread with one :class:`gatewatch.probe.Prober` (SSL contexts
and resolvers shared), so a scrape's handler thread waits on a future and the timings are
taken on a loop that does nothing else.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Mapping, Sequence
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


class ProbeLoop:
    """One asyncio loop in a daemon thread that runs probes for other threads."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="gatewatch-exporter-probes", daemon=True
        )
        self._limit: asyncio.Semaphore | None = None
        self._prober: object | None = None

    def start(self) -> None:
        from gatewatch.probe import Prober

        self._thread.start()

        async def setup() -> None:
            self._limit = asyncio.Semaphore(PROBE_CONCURRENCY)
            prober = Prober()
            await prober.warm_up()
            self._prober = prober

        self._submit(setup()).result(timeout=30)

    def stop(self) -> None:
        from gatewatch.probe import Prober

        if not self._thread.is_alive():
            return
        if isinstance(self._prober, Prober):
            self._submit(self._prober.aclose()).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _submit(self, coro: object) -> concurrent.futures.Future[object]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]

    def probe(self, endpoint: Endpoint) -> tuple[ProbeResult, float]:
        """Probe and diagnose ``endpoint``; (result, seconds the probe took)."""
        from gatewatch.diagnose import annotate
        from gatewatch.probe import Prober

        async def run() -> tuple[ProbeResult, float]:
            assert self._limit is not None and isinstance(self._prober, Prober)
            async with self._limit:
                start = time.perf_counter()
                result = await self._prober.probe(endpoint)
                duration = time.perf_counter() - start
            return annotate(result), duration

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        try:
            return future.result(timeout=endpoint.timeout + _GRACE)
        except BaseException:
            future.cancel()
            raise


class Exporter:
    """``/probe`` and ``/metrics`` as functions of their inputs."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        allow_any_target: bool = False,
        probe: Callable[[Endpoint], tuple[ProbeResult, float]],
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

    def probe(self, query: str, scrape_timeout: str | None) -> Answer:
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
        return self._run(decision)

    def _run(self, request: ProbeRequest) -> Answer:
        try:
            result, duration = self._probe(request.endpoint)
        except Exception as exc:  # a bug or a stuck loop: say so, never hang the scrape
            self.stats.error("internal")
            return _text(500, f"probe failed inside gatewatch: {type(exc).__name__}")
        self.stats.probe_served(result.ok)
        body = generate_latest(probe_registry(result, request.endpoint, duration))
        return Answer(200, CONTENT_TYPE_LATEST, body)

    def metrics(self) -> Answer:
        return Answer(200, CONTENT_TYPE_LATEST, generate_latest(self.registry))
