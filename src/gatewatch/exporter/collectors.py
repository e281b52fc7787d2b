"""prometheus_client custom collectors: one probe's answer, the watchlist's latest, our own stats.

Why custom collectors and a fresh registry per probe (as blackbox_exporter does): a
``/probe`` answer describes that probe only. Module-level ``Gauge`` objects would be shared
by concurrent scrapes and keep old label sets alive; a collector over an immutable result
cannot mix two probes up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from gatewatch.exporter.blackbox import add_blackbox
from gatewatch.exporter.diagnosis import add_build_info, add_diagnosis
from gatewatch.exporter.families import FamilySet
from gatewatch.exporter.labels import text_label
from gatewatch.exporter.targets import REFUSAL_REASONS
from gatewatch.model import Endpoint, ProbeResult
from gatewatch.monitor.state import State
from gatewatch.monitor.status import EndpointStatus


@dataclass(frozen=True)
class ProbeCollector(Collector):
    """The metrics of one finished probe: blackbox's ``probe_*`` and ``gatewatch_*``."""

    result: ProbeResult
    endpoint: Endpoint
    duration_seconds: float

    def collect(self) -> Iterator[Metric]:
        families = FamilySet()
        add_blackbox(families, self.result, self.endpoint, self.duration_seconds)
        add_diagnosis(families, self.result)
        add_build_info(families)
        return iter(families)


def probe_registry(result: ProbeResult, endpoint: Endpoint, duration: float) -> CollectorRegistry:
    """A fresh registry holding only this probe's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProbeCollector(result, endpoint, duration))
    return registry


class WatchlistCollector(Collector):
    """Each watched endpoint's latest result and state, with an ``endpoint`` label.

    ``snapshot`` is the monitor's (thread-safe, frozen statuses); called once per scrape.
    """

    def __init__(self, snapshot: Callable[[], Mapping[str, EndpointStatus]]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        families = FamilySet()
        for name, status in sorted(self._snapshot().items()):
            view = families.with_base({"endpoint": text_label(name)})
            view.gauge(
                "gatewatch_endpoint_info",
                "An endpoint of the watchlist and its URL (redacted)",
                1.0,
                {"url": text_label(status.endpoint.url)},
            )
            for state in State:
                view.gauge(
                    "gatewatch_endpoint_state",
                    "The endpoint's state in the monitor: 1 on the current state, 0 on others",
                    float(status.state == state),
                    {"state": state.value},
                )
            result = status.last_result
            if result is None:
                continue
            view.gauge(
                "gatewatch_endpoint_last_probe_timestamp_seconds",
                "When the endpoint's latest probe started, in unix seconds",
                result.started_at.timestamp(),
            )
            add_blackbox(view, result, status.endpoint, result.total_ms / 1000.0)
            add_diagnosis(view, result)
        return iter(families)


class ExporterStats(Collector):
    """The exporter itself: probes served by outcome, refusals and errors, its version."""

    OUTCOMES = ("success", "failure")
    ERRORS = (*REFUSAL_REASONS, "internal")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probes = dict.fromkeys(self.OUTCOMES, 0)
        self._errors = dict.fromkeys(self.ERRORS, 0)

    def probe_served(self, success: bool) -> None:
        with self._lock:
            self._probes["success" if success else "failure"] += 1

    def error(self, reason: str) -> None:
        with self._lock:
            self._errors[reason if reason in self._errors else "internal"] += 1

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            probes, errors = dict(self._probes), dict(self._errors)
        families = FamilySet()
        for outcome, count in probes.items():
            families.counter(
                "gatewatch_exporter_probes",
                "Probes answered on /probe, by outcome",
                count,
                {"outcome": outcome},
            )
        for reason, count in errors.items():
            families.counter(
                "gatewatch_exporter_probe_errors",
                "Requests to /probe that were refused or failed, by reason",
                count,
                {"reason": reason},
            )
        add_build_info(families)
        return iter(families)
