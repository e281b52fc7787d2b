"""A set of metric families built sample by sample, for custom collectors.

Why: the same mapping from a ProbeResult to metrics serves ``/probe`` (one result, no extra
labels) and ``/metrics`` (one result per endpoint, each with an ``endpoint`` label), so the
builders add samples to a :class:`FamilySet` that creates each family on first use with the
base label names first. The families are prometheus_client's own ``*MetricFamily`` objects:
the exposition stays prometheus_client's job.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


class FamilySet:
    """Gauges and counters by name, in first-use order; every sample carries ``base`` labels."""

    def __init__(self, base: Mapping[str, str] | None = None) -> None:
        self.base: dict[str, str] = dict(base or {})
        self._families: dict[str, Metric] = {}

    def with_base(self, base: Mapping[str, str]) -> FamilySet:
        """A view adding samples to the same families with other base labels."""
        view = FamilySet(base)
        view._families = self._families
        return view

    def gauge(
        self, name: str, documentation: str, value: float, labels: Mapping[str, str] | None = None
    ) -> None:
        own = dict(labels or {})
        family = self._families.get(name)
        if family is None:
            family = GaugeMetricFamily(name, documentation, labels=[*self.base, *own])
            self._families[name] = family
        assert isinstance(family, GaugeMetricFamily)
        family.add_metric([*self.base.values(), *own.values()], value)

    def counter(
        self, name: str, documentation: str, value: float, labels: Mapping[str, str] | None = None
    ) -> None:
        own = dict(labels or {})
        family = self._families.get(name)
        if family is None:
            family = CounterMetricFamily(name, documentation, labels=[*self.base, *own])
            self._families[name] = family
        assert isinstance(family, CounterMetricFamily)
        family.add_metric([*self.base.values(), *own.values()], value)

    def names(self) -> list[str]:
        return list(self._families)

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._families.values())
